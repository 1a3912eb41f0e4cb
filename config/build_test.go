package config

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

func TestCloseOrder(t *testing.T) {
	t.Parallel()
	t.Run("after use", func(t *testing.T) {
		t.Parallel()
		src := `
[plugin.a]
use = "ident"
[plugin.b]
use = "auth"
[plugin.c]
use = "outer"
[identifiers]
plugins = ["a", "ident"]
[challengers]
plugins = ["chall"]
`
		c, rec := mustLoad(t, src, nil)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		_ = c.Close() // twice is fine
		var closes []string
		for _, e := range rec.list() {
			if name, ok := strings.CutPrefix(e, "close "); ok {
				closes = append(closes, name)
			}
		}
		if want := []string{"chall", "ident", "c", "b", "a"}; !slices.Equal(closes, want) {
			t.Errorf("closed %q, want %q (reverse build order)", closes, want)
		}
	})
	t.Run("after a failed load", func(t *testing.T) {
		t.Parallel()
		src := `
[plugin.a]
use = "ident"
[plugin.b]
use = "auth"
[plugin.bad]
use = "failing"
[plugin.c]
use = "md"
[identifiers]
plugins = ["a", "b"]
`
		_, rec, err := load(t, src, nil)
		want := []string{
			`who.toml:6: [plugin.bad] (use = "failing"): failing: backend unreachable`,
			`who.toml:11: [plugin.b] (use = "auth"): listed under [identifiers] but is not an Identifier (it is: Authenticator)`,
		}
		if diff := cmp.Diff(want, errLines(err)); diff != "" {
			t.Fatalf("errors (-want +got):\n%s", diff)
		}
		want = []string{"build a", "build b", "build c", "close c", "close b", "close a"}
		if diff := cmp.Diff(want, rec.list()); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestReferences(t *testing.T) {
	t.Parallel()
	t.Run("resolved referred first", func(t *testing.T) {
		t.Parallel()
		src := `
[plugin.top]
use = "ref"
refs = ["mid", "leaf"]
[plugin.mid]
use = "ref"
refs = ["leaf"]
[plugin.leaf]
use = "ref"
[plugin.plain]
use = "all"
refs = ["plain"] # not a Resolver here? it is: fake implements everything
`
		_, _, err := load(t, src, nil)
		want := []string{`who.toml:12: [plugin.plain] (use = "all"): key "refs": plugin "plain" refers to itself`}
		if diff := cmp.Diff(want, errLines(err)); diff != "" {
			t.Fatalf("errors (-want +got):\n%s", diff)
		}
		src = strings.Replace(src, `refs = ["plain"]`, `refs = ["top"]`, 1)
		_, rec := mustLoad(t, src, nil)
		var order []string
		for _, e := range rec.list() {
			if strings.HasPrefix(e, "resolve ") || strings.HasPrefix(e, "validate ") {
				order = append(order, e)
			}
		}
		want = []string{"resolve leaf", "resolve mid", "resolve top", "resolve plain",
			"validate top", "validate mid", "validate leaf", "validate plain"}
		if diff := cmp.Diff(want, order); diff != "" {
			t.Errorf("resolve order (-want +got):\n%s", diff)
		}
	})
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "missing",
			src: `
[plugin.cache]
use = "ref"
refs = ["ldpa"]
[plugin.ldap]
use = "auth"
`,
			want: []string{`who.toml:4: [plugin.cache] (use = "ref"): key "refs": unknown plugin "ldpa" (did you mean "ldap"?)`},
		},
		{
			name: "self",
			src: `
[plugin.cache]
use = "ref"
refs = ["cache"]
`,
			want: []string{`who.toml:4: [plugin.cache] (use = "ref"): key "refs": plugin "cache" refers to itself`},
		},
		{
			name: "cycle of two",
			src: `
[plugin.a]
use = "ref"
refs = ["b"]
[plugin.b]
use = "ref"
refs = ["a"]
`,
			want: []string{`who.toml:4: [plugin.a] (use = "ref"): key "refs": reference cycle: a -> b -> a`},
		},
		{
			name: "cycle of three found from its middle",
			src: `
[plugin.c]
use = "ref"
refs = ["a"]
[plugin.x]
use = "ref"
refs = ["b"]
[plugin.a]
use = "ref"
refs = ["b"]
[plugin.b]
use = "ref"
refs = ["c"]
`,
			want: []string{`who.toml:4: [plugin.c] (use = "ref"): key "refs": reference cycle: c -> a -> b -> c`},
		},
		{
			name: "referring to a plugin that failed",
			src: `
[plugin.a]
use = "ref"
refs = ["b"]
[plugin.b]
use = "failing"
`,
			want: []string{`who.toml:5: [plugin.b] (use = "failing"): failing: backend unreachable`},
		},
		{
			name: "resolve fails on a key",
			src: `
[plugin.a]
use = "ref"
resolve_fail = true
refs = ["b"]
[plugin.b]
use = "auth"
[authenticators]
plugins = ["a"]
`,
			want: []string{`who.toml:5: [plugin.a] (use = "ref"): refs: cannot use that plugin`},
		},
		{
			name: "validate fails",
			src: `
[plugin.a]
use = "ref"
invalid = true
`,
			want: []string{`who.toml:2: [plugin.a] (use = "ref"): fake: invalid`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, tt.src, nil)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if strings.Contains(tt.name, "cycle") || tt.name == "missing" || tt.name == "self" {
				if !errors.Is(err, ErrReference) {
					t.Error("errors.Is(err, ErrReference) = false")
				}
			}
		})
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	reg := testRegistry(rec)
	var got who.PluginSpec
	var second error
	reg.Register("spy", func(spec who.PluginSpec) (any, error) {
		got = spec
		var o struct{}
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		second = spec.Decode(&o)
		return identifier{&fake{rec: rec}}, nil
	}, "spy-alias")
	c, err := Parse("/etc/gowho/who.toml", []byte("[plugin.s]\nuse = \"spy-alias\"\n"), Options{Registry: reg, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got.Name != "s" || got.Use != "spy-alias" || got.Dir != "/etc/gowho" || got.Logger == nil {
		t.Errorf("spec = %+v", got)
	}
	if second == nil {
		t.Error("a second Decode did not fail")
	}
}
