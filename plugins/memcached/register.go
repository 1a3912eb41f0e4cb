package memcached

import "github.com/gowho/gowho/who"

func init() {
	who.Register("memcached", factory,
		"repoze.who.plugins.memcached:make_plugin",
		"repoze.who.plugins.memcached:MemcachedPlugin",
	)
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	o.Logger = spec.Logger
	o.Name = spec.Name
	return New(o)
}
