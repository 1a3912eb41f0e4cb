package who_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/who"
)

func nopFactory(who.PluginSpec) (any, error) { return plainIdentifier{}, nil }

func TestRegistry(t *testing.T) {
	t.Parallel()
	g := who.NewRegistry()
	g.Register("htpasswd", nopFactory, "repoze.who.plugins.htpasswd:make_plugin")
	g.Register("ldap", nopFactory)
	if diff := cmp.Diff([]string{"htpasswd", "ldap"}, g.Plugins()); diff != "" {
		t.Errorf("Plugins (-want +got):\n%s", diff)
	}
	if _, name, err := g.Factory("repoze.who.plugins.htpasswd:make_plugin"); err != nil || name != "htpasswd" {
		t.Errorf("alias: %q %v", name, err)
	}
	_, _, err := g.Factory("ldpa")
	if !errors.Is(err, who.ErrUnknownPlugin) || !strings.Contains(err.Error(), `did you mean "ldap"?`) {
		t.Errorf("err = %v, want a did-you-mean", err)
	}
	_, _, err = g.Factory("zzzzzzzz")
	if err == nil || strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "plugins/all") {
		t.Errorf("err = %v, want no suggestion but the import hint", err)
	}
	if _, ok := g.Classifier("default"); !ok {
		t.Error("no default classifier")
	}
	for _, d := range []string{"default", "passthrough"} {
		if _, ok := g.Decider(d); !ok {
			t.Errorf("no %s decider", d)
		}
	}
}

func TestRegisterPanics(t *testing.T) {
	t.Parallel()
	tests := map[string]func(g *who.Registry){
		"empty name": func(g *who.Registry) { g.Register("", nopFactory) },
		"nil":        func(g *who.Registry) { g.Register("x", nil) },
		"duplicate":  func(g *who.Registry) { g.Register("x", nopFactory); g.Register("x", nopFactory) },
		"dup alias":  func(g *who.Registry) { g.Register("x", nopFactory); g.Register("y", nopFactory, "x") },
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			fn(who.NewRegistry())
		})
	}
}

func TestPluginSpecPath(t *testing.T) {
	t.Parallel()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory:", err)
	}
	for _, tc := range []struct{ dir, in, want string }{
		{"/etc/who", "", ""},
		{"/etc/who", "passwd", "/etc/who/passwd"},
		{"/etc/who", "../passwd", "/etc/passwd"},
		{"/etc/who", "/srv/passwd", "/srv/passwd"},
		{"/etc/who", "~/passwd", filepath.Join(home, "passwd")},
		{"", "passwd", "passwd"},
		{"", "./a/../passwd", "passwd"},
		{"/etc/who", "~user/passwd", "/etc/who/~user/passwd"}, // only "~/" is the home directory
	} {
		if got := (who.PluginSpec{Dir: tc.dir}).Path(tc.in); got != tc.want {
			t.Errorf("PluginSpec{Dir: %q}.Path(%q) = %q, want %q", tc.dir, tc.in, got, tc.want)
		}
	}
}

func TestRegistryClone(t *testing.T) {
	t.Parallel()
	orig := who.NewRegistry()
	orig.Register("a", func(who.PluginSpec) (any, error) { return 1, nil })
	c := orig.Clone()
	c.Register("b", func(who.PluginSpec) (any, error) { return 2, nil })
	c.RegisterClassifier("mine", who.DefaultClassifier)
	if got := orig.Plugins(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("original after Register on the clone: %v, want [a]", got)
	}
	if got := c.Plugins(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("clone: %v, want [a b]", got)
	}
	if _, ok := orig.Classifier("mine"); ok {
		t.Error("a classifier registered on the clone reached the original")
	}
	if _, _, err := c.Factory("a"); err != nil {
		t.Errorf("clone lost the original's plugin: %v", err)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	var rem struct{ who.Identifier }
	plugins := map[string]any{"tkt": &rem, "n": 3}
	if _, err := who.Lookup[who.Identifier](plugins, who.Reference{Key: "k", Name: "tkt"}); err != nil {
		t.Errorf("Lookup of an Identifier: %v", err)
	}
	for _, name := range []string{"n", "missing"} {
		_, err := who.Lookup[who.Authenticator](plugins, who.Reference{Key: "authenticator_name", Name: name})
		var oe *who.OptionError
		if !errors.As(err, &oe) || oe.Key != "authenticator_name" {
			t.Errorf("Lookup(%q) = %v, want an *OptionError on authenticator_name", name, err)
		}
	}
}

// RegisterKind's value is found under the name and every alias without
// a kind of its own (whichever is declared first), and only for
// registered names.
func TestRegisterKind(t *testing.T) {
	t.Parallel()
	type plugin struct{ who.Identifier }
	type mdPlugin struct{ who.MetadataProvider }
	tests := []struct {
		name    string
		declare func(g *who.Registry)
		want    map[string]any // name -> kind; absent: none
	}{
		{"nothing declared", func(*who.Registry) {}, map[string]any{}},
		{"name", func(g *who.Registry) { g.RegisterKind("p", (*plugin)(nil)) },
			map[string]any{"p": (*plugin)(nil), "alias": (*plugin)(nil), "md": (*plugin)(nil)}},
		{"an alias alone", func(g *who.Registry) { g.RegisterKind("md", (*mdPlugin)(nil)) },
			map[string]any{"md": (*mdPlugin)(nil)}},
		// Before, declaring an alias gave every name its kind, and the
		// name's kind overwrote the alias's: an alias that builds a
		// metadata provider had its stages checked as an Identifier's.
		{"an alias, then the name", func(g *who.Registry) {
			g.RegisterKind("md", (*mdPlugin)(nil))
			g.RegisterKind("p", (*plugin)(nil))
		}, map[string]any{"p": (*plugin)(nil), "alias": (*plugin)(nil), "md": (*mdPlugin)(nil)}},
		{"the name, then an alias", func(g *who.Registry) {
			g.RegisterKind("p", (*plugin)(nil))
			g.RegisterKind("md", (*mdPlugin)(nil))
		}, map[string]any{"p": (*plugin)(nil), "alias": (*plugin)(nil), "md": (*mdPlugin)(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := who.NewRegistry()
			g.Register("p", func(who.PluginSpec) (any, error) { return nil, nil }, "alias", "md")
			tc.declare(g)
			for _, reg := range []*who.Registry{g, g.Clone()} {
				for _, n := range []string{"p", "alias", "md"} {
					k, ok := reg.Kind(n)
					want, wantOK := tc.want[n]
					if ok != wantOK || k != want {
						t.Errorf("Kind(%q) = %T, %v; want %T, %v", n, k, ok, want, wantOK)
					}
				}
			}
		})
	}
	g := who.NewRegistry()
	defer func() {
		if recover() == nil {
			t.Error("RegisterKind of an unregistered name did not panic")
		}
	}()
	g.RegisterKind("nosuch", (*plugin)(nil))
}
