package authtkt

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gowho/gowho/who/whotest"
)

// TestFactorySecretFilePath: secretfile follows the one path rule
// (who.PluginSpec.Path): relative to who.toml's directory, "~/" the home
// directory, an absolute path kept.
func TestFactorySecretFilePath(t *testing.T) {
	home, dir, other := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	secrets := map[string]string{home: "home-secret-0123456789abcdef", dir: "dir-secret-0123456789abcdef", other: "abs-secret-0123456789abcdef"}
	for d, s := range secrets {
		if err := os.WriteFile(filepath.Join(d, "secret"), []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ name, file, want string }{
		{"home", "~/secret", secrets[home]},
		{"relative", "secret", secrets[dir]},
		{"relative, cleaned", "./x/../secret", secrets[dir]},
		{"absolute", filepath.Join(other, "secret"), secrets[other]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := whotest.Spec(t, "secretfile = "+strconv.Quote(tt.file))
			spec.Dir = dir
			v, err := factory(spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.(*Plugin).secret; got != tt.want {
				t.Errorf("secretfile %q gave the secret of another file", tt.file)
			}
		})
	}
}
