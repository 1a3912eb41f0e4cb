package htpasswd

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h, _ := Hash(SchemeSHA, "pw")
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte("foo:"+h+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata/apr1.htpasswd")
	tests := []struct {
		name, use, src string
		errKey         string
		interval       time.Duration
		plain          bool
		maxPassword    int
	}{
		{name: "relative to dir", use: "htpasswd", src: `filename = "users"`, interval: time.Second, maxPassword: who.DefaultMaxPasswordBytes},
		{name: "max_password_bytes", use: "htpasswd", src: "filename = \"users\"\nmax_password_bytes = 64", interval: time.Second, maxPassword: 64},
		{name: "negative max_password_bytes", use: "htpasswd", src: "filename = \"users\"\nmax_password_bytes = -1", errKey: "max_password_bytes"},
		{name: "absolute", use: "htpasswd", src: `filename = "` + abs + `"`, interval: time.Second},
		{name: "repoze alias and check_fn", use: "repoze.who.plugins.htpasswd:make_plugin",
			src: "filename = \"users\"\ncheck_fn = \"repoze.who.plugins.htpasswd:crypt_check\"", interval: time.Second},
		{name: "all options", use: "htpasswd",
			src: "filename = \"users\"\ncheck_fn = \"plain\"\nallow_plain = true\nreload_interval = \"5s\"", interval: 5 * time.Second, plain: true},
		{name: "interval in seconds", use: "htpasswd", src: "filename = \"users\"\nreload_interval = 30", interval: 30 * time.Second},
		{name: "missing filename", use: "htpasswd", src: ``, errKey: "filename"},
		{name: "missing file", use: "htpasswd", src: `filename = "nope"`, errKey: "filename"},
		{name: "bad check_fn", use: "htpasswd", src: "filename = \"users\"\ncheck_fn = \"sha\"", errKey: "check_fn"},
		{name: "unknown key", use: "htpasswd", src: "filename = \"users\"\nfile = \"x\"", errKey: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, canonical, err := who.DefaultRegistry.Factory(tt.use)
			if err != nil {
				t.Fatal(err)
			}
			if canonical != "htpasswd" {
				t.Errorf("canonical = %q", canonical)
			}
			spec := whotest.Spec(t, tt.src)
			spec.Use, spec.Dir = tt.use, dir
			v, err := f(spec)
			if tt.errKey != "" {
				var oe *who.OptionError
				switch {
				case err == nil:
					t.Fatal("no error")
				case tt.errKey != "-" && (!errors.As(err, &oe) || oe.Key != tt.errKey):
					t.Errorf("error %v, want an OptionError for %q", err, tt.errKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, ok := v.(*Plugin)
			if !ok {
				t.Fatalf("factory returned %T", v)
			}
			if p.interval != tt.interval || p.allowPlain != tt.plain {
				t.Errorf("interval %v plain %v, want %v %v", p.interval, p.allowPlain, tt.interval, tt.plain)
			}
			if tt.maxPassword != 0 && p.maxPassword != tt.maxPassword {
				t.Errorf("max_password_bytes %d, want %d", p.maxPassword, tt.maxPassword)
			}
			if p.Len() == 0 {
				t.Error("no users loaded")
			}
		})
	}
}

// TestFactoryPaths: filename follows the one path rule (who.PluginSpec.Path):
// relative to who.toml's directory, "~/" the home directory.
func TestFactoryPaths(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	h, _ := Hash(SchemeSHA, "pw")
	for _, d := range []string{home, dir} {
		if err := os.WriteFile(filepath.Join(d, "users"), []byte("foo:"+h+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	abs := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(abs, []byte("foo:"+h+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, filename, want string }{
		{"home", "~/users", filepath.Join(home, "users")},
		{"relative", "users", filepath.Join(dir, "users")},
		{"relative, cleaned", "./sub/../users", filepath.Join(dir, "users")},
		{"absolute", abs, abs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := whotest.Spec(t, "filename = "+strconv.Quote(tt.filename))
			spec.Dir = dir
			v, err := factory(spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.(*Plugin).path; got != tt.want {
				t.Errorf("filename %q read from %q, want %q", tt.filename, got, tt.want)
			}
		})
	}
}
