package form

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/gowho/gowho/who"
)

func init() {
	who.Register("form", factory,
		"repoze.who.plugins.form:make_plugin",
		"repoze.who.plugins.form:make_redirecting_plugin",
		"repoze.who.plugins.friendlyform:FriendlyFormPlugin")
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	if o.Form != "" {
		if rest, ok := strings.CutPrefix(o.Form, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				o.Form = filepath.Join(home, rest)
			}
		}
		if !filepath.IsAbs(o.Form) && spec.Dir != "" {
			o.Form = filepath.Join(spec.Dir, o.Form)
		}
	}
	if spec.Use == "repoze.who.plugins.form:make_redirecting_plugin" && o.LoginFormURL == "" {
		return nil, &who.OptionError{Key: "login_form_url", Err: errNoFormURL}
	}
	return New(o)
}
