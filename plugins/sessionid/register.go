package sessionid

import "github.com/gowho/gowho/who"

func init() {
	who.Register("sessionid", factory,
		"session_identifier",
		"repoze.who.plugins.use_beaker:make_plugin",
		"repoze.who.plugins.use_beaker:UseBeakerPlugin",
		"use_beaker")
	who.RegisterKind("sessionid", (*Plugin)(nil)) // its stages are checked even when a build fails
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	o.Logger = spec.Logger
	return New(o)
}
