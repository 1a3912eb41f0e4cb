package form

import "github.com/gowho/gowho/who"

func init() {
	who.Register("form", factory,
		"repoze.who.plugins.form:make_plugin",
		"repoze.who.plugins.form:make_redirecting_plugin",
		"repoze.who.plugins.friendlyform:FriendlyFormPlugin")
	who.RegisterKind("form", (*Plugin)(nil)) // its stages are checked even when a build fails
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	o.Form = spec.Path(o.Form)
	o.Logger = spec.Logger
	if spec.Use == "repoze.who.plugins.form:make_redirecting_plugin" && o.LoginFormURL == "" {
		return nil, &who.OptionError{Key: "login_form_url", Err: errNoFormURL}
	}
	return New(o)
}
