package sessionplugin

import "github.com/gowho/gowho/who"

func init() {
	who.Register("session", factory, "sessions")
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	o.DataDir = spec.Path(o.DataDir)
	o.Logger = spec.Logger
	p, err := New(o)
	if err != nil {
		return nil, err
	}
	return p, nil
}
