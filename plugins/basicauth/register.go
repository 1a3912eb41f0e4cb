package basicauth

import (
	"errors"

	"github.com/gowho/gowho/who"
)

func init() {
	who.Register("basicauth", factory, "repoze.who.plugins.basicauth:make_plugin")
	who.RegisterKind("basicauth", (*Plugin)(nil)) // its stages are checked even when a build fails
}

// factory builds the plugin from its who.toml section.
func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	if o.Realm == "" {
		o.Realm = DefaultRealm
	}
	p, err := New(o)
	switch {
	case errors.Is(err, ErrBadMaxPasswordBytes):
		return nil, &who.OptionError{Key: "max_password_bytes", Err: err}
	case err != nil:
		return nil, &who.OptionError{Key: "realm", Err: err}
	}
	return p, nil
}
