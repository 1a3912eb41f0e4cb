package sqlauth

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// TestSqliteDSN: the database file of a sqlite DSN follows the one path
// rule (who.PluginSpec.Path): relative to who.toml's directory, "~/" the
// home directory; "file:" URIs, ":memory:" and the ?query keep their
// meaning.
func TestSqliteDSN(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	spec := who.PluginSpec{Dir: "/etc/gowho"}
	tests := []struct{ dsn, want string }{
		{"", ""},
		{":memory:", ":memory:"},
		{":memory:?cache=shared", ":memory:?cache=shared"},
		{"file:users.db?mode=ro", "file:users.db?mode=ro"},
		{"users.db", "/etc/gowho/users.db"},
		{"db/../users.db?_pragma=busy_timeout(500)", "/etc/gowho/users.db?_pragma=busy_timeout(500)"},
		{"~/users.db", filepath.Join(home, "users.db")},
		{"~/users.db?mode=ro", filepath.Join(home, "users.db") + "?mode=ro"},
		{"/var/lib/users.db", "/var/lib/users.db"},
	}
	for _, tt := range tests {
		if got := sqliteDSN(tt.dsn, spec); got != tt.want {
			t.Errorf("sqliteDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

// TestFactoryDSNPaths: the factory opens the sqlite file the path rule
// names, relative or under "~/".
func TestFactoryDSNPaths(t *testing.T) {
	path, _ := openDB(t)
	dir, file := filepath.Split(path)
	t.Setenv("HOME", dir)
	elsewhere := t.TempDir()
	tests := []struct{ name, dsn, specDir string }{
		{"relative", file, dir},
		{"home", "~/" + file, elsewhere},
		{"home with a query", "~/" + file + "?mode=ro", elsewhere},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := whotest.Spec(t, fmt.Sprintf("driver = \"sqlite\"\ndsn = %q\nquery = %q\nallow_plain = true\n", tt.dsn, authQuery))
			spec.Dir = tt.specDir
			v, err := factory(spec)
			if err != nil {
				t.Fatal(err)
			}
			p := cheapFake(v.(*Plugin))
			defer p.Close()
			if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: "bob", who.KeyPassword: "bob-pass"}); uid != "2" || err != nil {
				t.Errorf("bob: %q %v, want \"2\" (the database at %s)", uid, err, path)
			}
			if _, err := os.Stat(filepath.Join(tt.specDir, "~")); err == nil {
				t.Errorf("a directory named ~ was created in %s", tt.specDir)
			}
		})
	}
}
