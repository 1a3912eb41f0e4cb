package authtkt

import "github.com/gowho/gowho/who"

func init() {
	who.Register("authtkt", factory, "auth_tkt", "repoze.who.plugins.auth_tkt:make_plugin")
	who.RegisterKind("authtkt", (*Plugin)(nil)) // its stages are checked even when a build fails
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	o.SecretFile = spec.Path(o.SecretFile)
	o.Logger = spec.Logger
	return New(o)
}
