package config

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

func TestParseEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		name    string
		classes []string
		err     string
	}{
		{in: "basicauth", name: "basicauth"},
		{in: "basicauth;browser", name: "basicauth", classes: []string{"browser"}},
		{in: "basicauth;browser,dav", name: "basicauth", classes: []string{"browser", "dav"}},
		{in: "ldap;unused", name: "ldap", classes: []string{"unused"}},
		{in: "a.b:c;x", name: "a.b:c", classes: []string{"x"}},
		{in: "", err: `empty entry ""`},
		{in: "a;", err: `entry "a;" has ";" but no classification: write "a" to run it for every request`},
		{in: ";browser", err: `entry ";browser" has no plugin name before ";"`},
		{in: "a;b;c", err: `entry "a;b;c" has more than one ";": write "name;a,b" for several classifications`},
		{in: "a b", err: `entry "a b" contains a space: write one plugin per array element, as ["a", "b;browser,dav"]`},
		{in: "a; browser", err: `entry "a; browser" contains a space: write one plugin per array element, as ["a", "b;browser,dav"]`},
		{in: "a\tb", err: `entry "a\tb" contains a space: write one plugin per array element, as ["a", "b;browser,dav"]`},
		{in: "a;browser,", err: `entry "a;browser," has an empty classification`},
		{in: "a;,dav", err: `entry "a;,dav" has an empty classification`},
		{in: "a;dav,dav", err: `entry "a;dav,dav" lists classification "dav" twice`},
		{in: "a;unused,dav", err: `entry "a;unused,dav": "unused" means never run and cannot be combined with other classifications`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			name, classes, err := parseEntry(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrBadEntry) {
					t.Fatalf("parseEntry(%q) error = %v, want %q (ErrBadEntry)", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseEntry(%q): %v", tt.in, err)
			}
			if name != tt.name || !slices.Equal(classes, tt.classes) {
				t.Errorf("parseEntry(%q) = %q, %q; want %q, %q", tt.in, name, classes, tt.name, tt.classes)
			}
		})
	}
}

// TestRanking sends requests through the chain and checks that the
// configured order decides the winner, as repoze.who's ranking.
func TestRanking(t *testing.T) {
	t.Parallel()
	src := `
[plugin.i1]
use = "ident"
header = "X-One"
[plugin.i2]
use = "ident"
header = "X-Two"
[plugin.i3]
use = "ident"
header = "X-Dav"
[plugin.a1]
use = "auth"
users = ["two"]
[plugin.a2]
use = "auth"
users = ["one", "two", "dav"]
[plugin.never]
use = "auth"
users = ["one", "two", "dav"]
[plugin.m]
use = "md"
[plugin.ch]
use = "chall"

[identifiers]
plugins = ["i1", "i2", "i3;dav"]
[authenticators]
plugins = ["a1", "a2", "never;unused"]
[mdproviders]
plugins = ["m"]
[challengers]
plugins = ["ch"]
`
	c, rec := mustLoad(t, src, nil)
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		want    string // "userid by identifier/authenticator"
	}{
		{name: "anonymous", method: "GET", want: ""},
		{name: "only the first identifier", method: "GET", headers: map[string]string{"X-One": "one"}, want: "one@a2 by i1/a2"},
		{name: "authenticator position wins", method: "GET", headers: map[string]string{"X-One": "one", "X-Two": "two"}, want: "two@a1 by i2/a1"},
		{name: "identifier position breaks ties", method: "GET", headers: map[string]string{"X-One": "two", "X-Two": "two"}, want: "two@a1 by i1/a1"},
		{name: "classified identifier skipped for browser", method: "GET", headers: map[string]string{"X-Dav": "dav"}, want: ""},
		{name: "classified identifier runs for dav", method: "PROPFIND", headers: map[string]string{"X-Dav": "dav"}, want: "dav@a2 by i3/a2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if res := who.ResultFrom(r.Context()); res != nil {
					got = res.UserID + " by " + res.Identifier + "/" + res.Authenticator
					if res.Identity["md_m"] != true {
						t.Error("metadata provider m did not run")
					}
				}
			}))
			req := httptest.NewRequest(tt.method, "/", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got != tt.want {
				t.Errorf("result %q, want %q", got, tt.want)
			}
		})
	}
	if slices.Contains(rec.list(), "authenticate never") {
		t.Error(`"never;unused" was run`)
	}
	if _, ok := c.Plugin("never"); !ok {
		t.Error(`"never;unused" is not referable`)
	}
}

func TestOuterMiddlewareOrder(t *testing.T) {
	t.Parallel()
	src := `
[plugin.first]
use = "outer"
[plugin.i]
use = "ident"
[plugin.second]
use = "outer"
[identifiers]
plugins = ["i"]
`
	c, _ := mustLoad(t, src, nil)
	var sawAPI bool
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAPI = who.APIFrom(r) != nil
	}))
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rw.Header().Values("X-Outer"); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("outer middleware ran in order %q, want first (outermost), second", got)
	}
	if !sawAPI {
		t.Error("the handler did not run inside the who middleware")
	}
}

// TestStages: Stages, Plugins, File and Classifications report the lists
// and plugins as written (`who check` describes the chain from them).
func TestStages(t *testing.T) {
	t.Parallel()
	// A registered classifier declares no words, so "api" is accepted.
	src := `
[general]
remote_user_key = "Remote-User"
request_classifier = "always-dav"
[plugin.form]
use = "idchall"
[plugin.tkt]
use = "all"
[plugin.ldap]
use = "auth"
[plugin.spare]
use = "auth"
[plugin.sess]
use = "outer"
[identifiers]
plugins = ["form;browser", "tkt", "ident;api"]
[authenticators]
plugins = ["tkt", "ldap;unused"]
[challengers]
plugins = ["form;browser,dav"]
[mdproviders]
plugins = []
`
	c, _ := mustLoad(t, src, nil)
	stages := c.Stages()
	want := []Stage{
		{Name: "identifiers", Entries: []StageEntry{
			{Name: "form", Use: "idchall", Classifications: []string{"browser"}, Line: 16},
			{Name: "tkt", Use: "all", Line: 16},
			{Name: "ident", Use: "ident", Classifications: []string{"api"}, Line: 16},
		}},
		{Name: "authenticators", Entries: []StageEntry{
			{Name: "tkt", Use: "all", Line: 18},
			{Name: "ldap", Use: "auth", Classifications: []string{"unused"}, Unused: true, Line: 18},
		}},
		{Name: "challengers", Entries: []StageEntry{
			{Name: "form", Use: "idchall", Classifications: []string{"browser", "dav"}, Line: 20},
		}},
		{Name: "mdproviders", Entries: []StageEntry{}},
	}
	if diff := cmp.Diff(want, stages); diff != "" {
		t.Errorf("Stages (-want +got):\n%s", diff)
	}
	var names []string
	for _, p := range c.Plugins() {
		names = append(names, p.Name)
	}
	if want := []string{"form", "tkt", "ldap", "spare", "sess", "ident"}; !slices.Equal(names, want) {
		t.Errorf("Plugins = %q, want %q", names, want)
	}
	if got := c.File(); got != "who.toml" {
		t.Errorf("File = %q, want the name given to Parse", got)
	}
	// The three of repoze.who, then the lists' own ("unused" is none).
	if got, want := c.Classifications(), []string{"browser", "dav", "xmlpost", "api"}; !slices.Equal(got, want) {
		t.Errorf("Classifications = %q, want %q", got, want)
	}
}

// TestWrongStage: who.New's *who.StageError for each entry whose plugin
// does not implement its stage is reported at the entry's line, with the
// plugin's section (or the stage list for a plugin without one), together
// with the file's other mistakes.
func TestWrongStage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "every entry, with its section",
			src: `
[plugin.a]
use = "auth"
[plugin.i]
use = "ident"
[identifiers]
plugins = ["i", "a;browser"]
[challengers]
plugins = ["i", "a;unused"]
`,
			want: []string{
				`who.toml:7: [plugin.a] (use = "auth"): listed under [identifiers] but is not an Identifier (it is: Authenticator)`,
				`who.toml:9: [plugin.i] (use = "ident"): listed under [challengers] but is not a Challenger (it is: Identifier)`,
				`who.toml:9: [plugin.a] (use = "auth"): listed under [challengers] but is not a Challenger (it is: Authenticator)`,
			},
		},
		{
			name: "registered plugin without a section",
			src: `
[mdproviders]
plugins = ["ident"]
`,
			want: []string{`who.toml:3: [mdproviders]: plugin "ident" (registered, no [plugin.ident] section) is not a MetadataProvider (it is: Identifier)`},
		},
		{
			name: "with other mistakes",
			src: `
[general]
remote_user_kye = "x"
[plugin.a]
use = "auth"
[identifiers]
plugins = ["a", "nosuch"]
`,
			want: []string{
				`who.toml:3: [general]: unknown key "remote_user_kye" (did you mean "remote_user_key"?)`,
				`who.toml:7: [identifiers]: unknown plugin "nosuch": no [plugin.nosuch] section and no plugin is registered under that name in this program (a plugin's package registers it when the program imports it: plugins/all brings in the built-in ones)`,
				`who.toml:7: [plugin.a] (use = "auth"): listed under [identifiers] but is not an Identifier (it is: Authenticator)`,
			},
		},
		{
			name: "a plugin that failed validation is not checked again",
			src: `
[plugin.r]
use = "ref"
invalid = true
[identifiers]
plugins = ["r"]
`,
			want: []string{`who.toml:2: [plugin.r] (use = "ref"): fake: invalid`},
		},
		{
			// who.New does not see r, so its index 0 is a, not r.
			name: "an entry after one that failed to validate",
			src: `
[plugin.r]
use = "ref"
invalid = true
[plugin.a]
use = "auth"
[identifiers]
plugins = ["r",
  "a"]
`,
			want: []string{
				`who.toml:2: [plugin.r] (use = "ref"): fake: invalid`,
				`who.toml:9: [plugin.a] (use = "auth"): listed under [identifiers] but is not an Identifier (it is: Authenticator)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, tt.src, nil)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if !strings.Contains(tt.name, "validation") {
				var se *who.StageError
				if !errors.Is(err, who.ErrWrongStage) || !errors.As(err, &se) {
					t.Errorf("errors.Is(err, who.ErrWrongStage), errors.As(err, *who.StageError) = %v, %v; want true",
						errors.Is(err, who.ErrWrongStage), errors.As(err, &se))
				}
			}
		})
	}
}
