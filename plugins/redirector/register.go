package redirector

import "github.com/gowho/gowho/who"

func init() {
	who.Register("redirector", factory, "repoze.who.plugins.redirector:make_plugin")
	who.RegisterKind("redirector", (*Plugin)(nil)) // its stages are checked even when a build fails
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	return New(o)
}
