package htpasswd

import (
	"errors"

	"github.com/gowho/gowho/who"
)

func init() {
	who.Register("htpasswd", factory, "repoze.who.plugins.htpasswd:make_plugin")
	who.RegisterKind("htpasswd", (*Plugin)(nil)) // its stages are checked even when a build fails
}

// factory builds the plugin from its who.toml section.
func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	if o.Filename == "" {
		return nil, &who.OptionError{Key: "filename", Err: errors.New("is required")}
	}
	o.Filename = spec.Path(o.Filename)
	if o.ReloadInterval == 0 {
		o.ReloadInterval = who.Duration(DefaultReloadInterval)
	}
	o.Logger = spec.Logger
	p, err := New(o)
	switch {
	case errors.Is(err, ErrBadCheckFn):
		return nil, &who.OptionError{Key: "check_fn", Err: err}
	case errors.Is(err, ErrBadMaxPasswordBytes):
		return nil, &who.OptionError{Key: "max_password_bytes", Err: err}
	case err != nil:
		return nil, &who.OptionError{Key: "filename", Err: err}
	}
	return p, nil
}
