package jwt

import "github.com/gowho/gowho/who"

func init() {
	who.Register("jwt", factory)
	who.RegisterKind("jwt", (*Plugin)(nil)) // its stages are checked even when a build fails
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	o.PublicKeyFile = spec.Path(o.PublicKeyFile)
	o.Logger = spec.Logger
	return New(o)
}
