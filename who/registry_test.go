package who_test

import (
	"errors"
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

func TestClosest(t *testing.T) {
	t.Parallel()
	opts := []string{"base_dn", "bind_dn", "filter", "url"}
	for in, want := range map[string]string{"bsae_dn": "base_dn", "base_dn": "", "fitler": "filter", "zzzzzz": "", "uri": "url"} {
		if got := who.Closest(in, opts); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
