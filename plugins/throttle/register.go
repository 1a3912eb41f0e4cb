package throttle

import "github.com/gowho/gowho/who"

func init() {
	who.Register("throttle", factory)
	who.RegisterKind("throttle", (*Throttle)(nil)) // its stages are checked even when a build fails
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	o.Logger = spec.Logger
	return New(o)
}
