package authtkt

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/gowho/gowho/who"
)

func init() {
	who.Register("authtkt", factory, "auth_tkt", "repoze.who.plugins.auth_tkt:make_plugin")
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	if o.SecretFile != "" {
		o.SecretFile = resolvePath(o.SecretFile, spec.Dir)
	}
	o.Logger = spec.Logger
	return New(o)
}

// resolvePath expands a leading "~/" and makes a relative path relative to
// dir (the configuration file's directory).
func resolvePath(p, dir string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	return p
}
