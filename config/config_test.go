package config

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

var quiet = slog.New(slog.DiscardHandler)

// errLines splits a load error into its lines (one per mistake).
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func load(t *testing.T, src string, lookup func(string) (string, bool)) (*Chain, *recorder, error) {
	t.Helper()
	rec := &recorder{}
	if lookup == nil {
		lookup = env()
	}
	c, err := Parse("who.toml", []byte(src), Options{Registry: testRegistry(rec), LookupEnv: lookup, Logger: quiet})
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, rec, err
}

func mustLoad(t *testing.T, src string, lookup func(string) (string, bool)) (*Chain, *recorder) {
	t.Helper()
	c, rec, err := load(t, src, lookup)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c, rec
}

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

func TestExpand(t *testing.T) {
	t.Parallel()
	lookup := env("A=alpha", "EMPTY=", "B_2=x}y", "DOLLAR=${A}")
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "pre-${A}-post", want: "pre-alpha-post"},
		{in: "${A}${B_2}", want: "alphax}y"},
		{in: "${EMPTY}", want: ""},
		{in: "${DOLLAR}", want: "${A}"}, // values are not expanded again
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$${A}"},
		{in: "a $ b $A {A}", want: "a $ b $A {A}"},
		{in: "100$", want: "100$"},
		{in: "${NOPE}", err: "${NOPE}: environment variable is not set"},
		{in: "${A", err: `unterminated "${" (write $${ for a literal ${)`},
		{in: "${}", err: `bad environment variable name "" in "${}" (letters, digits and _; write $${ for a literal ${)`},
		{in: "${1A}", err: `bad environment variable name "1A" in "${1A}" (letters, digits and _; write $${ for a literal ${)`},
		{in: "${A B}", err: `bad environment variable name "A B" in "${A B}" (letters, digits and _; write $${ for a literal ${)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := expand(tt.in, lookup)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEnvEverywhere(t *testing.T) {
	t.Parallel()
	src := `
[general]
remote_user_key = "${KEY}"

[plugin.a]
use = "${USE}"
header = "X-${H}"
users = ["${U1}", "bob"]
attrs = { mail = "${MAIL}" }
tls = { ca_file = "$${literal}" }

[identifiers]
plugins = ["${NAME}"]
`
	c, _ := mustLoad(t, src, env("KEY=Remote-User", "USE=all", "H=User", "U1=alice", "MAIL=m@x", "NAME=a"))
	p, _ := c.Plugin("a")
	f := p.(*fake)
	want := fakeOptions{Header: "X-User", Users: []string{"alice", "bob"}, Attrs: map[string]string{"mail": "m@x"}}
	want.TLS.CAFile = "${literal}"
	if diff := cmp.Diff(want, f.o); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if got := c.General().RemoteUserKey; got != "Remote-User" {
		t.Errorf("remote_user_key = %q", got)
	}

	_, _, err := load(t, src, env("USE=all", "NAME=a", "H=h", "MAIL="))
	wantErrs := []string{
		`who.toml:3: [general]: key "remote_user_key": ${KEY}: environment variable is not set`,
		`who.toml:8: [plugin.a] (use = "all"): key "users": ${U1}: environment variable is not set`,
	}
	if diff := cmp.Diff(wantErrs, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrUnsetVariable) {
		t.Errorf("errors.Is(err, ErrUnsetVariable) = false")
	}
}

func TestDurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  time.Duration
		err   string
	}{
		{value: `"5m"`, want: 5 * time.Minute},
		{value: `"1h30m"`, want: 90 * time.Minute},
		{value: `300`, want: 300 * time.Second},
		{value: `"90"`, want: 90 * time.Second},
		{value: `0`, want: 0},
		{value: `"5x"`, err: `who.toml:4: [plugin.a] (use = "all"): key "ttl": bad duration "5x": write it like "90s", "5m" or "1h", or as a number of seconds`},
		{value: `true`, err: `who.toml:4: [plugin.a] (use = "all"): key "ttl": bad duration true (bool): write a string like "5m" or a number of seconds`},
		{value: `[1]`, err: `who.toml:4: [plugin.a] (use = "all"): key "ttl": bad duration [1] ([]interface {}): write a string like "5m" or a number of seconds`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			src := "\n[plugin.a]\nuse = \"all\"\nttl = " + tt.value + "\n"
			c, _, err := load(t, src, nil)
			if tt.err != "" {
				if diff := cmp.Diff([]string{tt.err}, errLines(err)); diff != "" {
					t.Fatalf("errors (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, _ := c.Plugin("a")
			if got := p.(*fake).o.TTL.D(); got != tt.want {
				t.Errorf("ttl = %v, want %v", got, tt.want)
			}
		})
	}
}

// classOf sends a request through the chain and returns its
// classification and whether a 418 became a challenge.
func classOf(t *testing.T, c *Chain, method string) (string, bool) {
	t.Helper()
	var class string
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class = who.APIFrom(r).Classification()
		w.WriteHeader(http.StatusTeapot)
	}))
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, httptest.NewRequest(method, "/", nil))
	return class, rw.Header().Get("X-Challenger") != ""
}

func TestClassifierAndDecider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		general    string
		class      string // for a GET
		teapotIs   bool   // a 418 is a challenge
		err        string
		wantGenral General
	}{
		{name: "defaults", class: "browser"},
		{name: "default by name", general: `request_classifier = "default"` + "\n" + `challenge_decider = "default"`, class: "browser"},
		{name: "registered classifier", general: `request_classifier = "always-dav"`, class: "dav"},
		{name: "classifier plugin", general: `request_classifier = "cls"`, class: "custom"},
		{name: "registered decider", general: `challenge_decider = "teapot"`, class: "browser", teapotIs: true},
		{name: "passthrough", general: `challenge_decider = "passthrough"`, class: "browser"},
		{name: "decider plugin", general: `challenge_decider = "dec"`, class: "browser", teapotIs: true},
		{name: "unknown classifier", general: `request_classifier = "always-dv"`,
			err: `who.toml:3: [general]: key "request_classifier": unknown classifier "always-dv" (did you mean "always-dav"?)`},
		{name: "unknown classifier far", general: `request_classifier = "zzzzzzzzzzzzzzz"`,
			err: `who.toml:3: [general]: key "request_classifier": unknown classifier "zzzzzzzzzzzzzzz" (known: always-dav, default, cls)`},
		{name: "unknown decider", general: `challenge_decider = "teapto"`,
			err: `who.toml:3: [general]: key "challenge_decider": unknown challenge decider "teapto" (did you mean "teapot"?)`},
		{name: "plugin is not a classifier", general: `request_classifier = "dec"`,
			err: `who.toml:3: [general]: key "request_classifier": plugin "dec" (use = "decider") is not a Classifier (it is: Decider)`},
		{name: "plugin is not a decider", general: `challenge_decider = "cls"`,
			err: `who.toml:3: [general]: key "challenge_decider": plugin "cls" (use = "classifier") is not a Decider (it is: Classifier)`},
		{name: "wrong type", general: `challenge_decider = 401`,
			err: `who.toml:3: [general]: key "challenge_decider" must be a string, not an integer (401)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "\n[general]\n" + tt.general + `
[plugin.cls]
use = "classifier"
class = "custom"
[plugin.dec]
use = "decider"
[plugin.ch]
use = "chall"
[challengers]
plugins = ["ch"]
`
			c, _, err := load(t, src, nil)
			if tt.err != "" {
				if diff := cmp.Diff([]string{tt.err}, errLines(err)); diff != "" {
					t.Fatalf("errors (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			class, challenged := classOf(t, c, http.MethodGet)
			if class != tt.class || challenged != tt.teapotIs {
				t.Errorf("classification %q, 418 challenged %v; want %q, %v", class, challenged, tt.class, tt.teapotIs)
			}
		})
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

// TestMistakes covers mistakes that need plugins the real registry does
// not have (the golden files in testdata/errors use the real plugins).
func TestMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "nested keys, inline tables and arrays of tables",
			src: `
[plugin.a]
use = "all"
tls = { ca_fiel = "x",
  verify = "yes" }
servers = [ { addr = 1 }, { adr = "x" } ]
count = 1.5
ratio = "x"
attrs.mail = 3
[plugin.a.tls2]
x = 1
`,
			want: []string{
				`who.toml:4: [plugin.a] (use = "all"): unknown key "tls.ca_fiel" (did you mean "tls.ca_file"?)`,
				`who.toml:5: [plugin.a] (use = "all"): key "tls.verify" must be a boolean (true or false), not a string`,
				`who.toml:6: [plugin.a] (use = "all"): key "servers[0].addr" must be a string, not an integer (1)`,
				`who.toml:6: [plugin.a] (use = "all"): unknown key "servers[1].adr" (did you mean "servers[1].addr"?)`,
				`who.toml:7: [plugin.a] (use = "all"): key "count" must be an integer, not a float (1.5)`,
				`who.toml:8: [plugin.a] (use = "all"): key "ratio" must be a number, not a string`,
				`who.toml:9: [plugin.a] (use = "all"): key "attrs.mail" must be a string, not an integer (3)`,
				`who.toml:10: [plugin.a] (use = "all"): unknown key "tls2" (did you mean "tls"?)`,
			},
		},
		{
			name: "multi-line string points at its key",
			src: `
[plugin.a]
use = "all"
hedaer = """
X-User"""
`,
			want: []string{`who.toml:4: [plugin.a] (use = "all"): unknown key "hedaer" (did you mean "header"?)`},
		},
		{
			name: "factory that never decodes",
			src: `
[plugin.a]
use = "nodecode"
foo = 1
bar = "x"
`,
			want: []string{
				`who.toml:4: [plugin.a] (use = "nodecode"): unknown key "foo" (plugin "nodecode" takes no options)`,
				`who.toml:5: [plugin.a] (use = "nodecode"): unknown key "bar" (plugin "nodecode" takes no options)`,
			},
		},
		{
			name: "option error points at its key",
			src: `
[plugin.a]
use = "all"
header = "x"
need_secret = true
secret = ""
`,
			want: []string{`who.toml:6: [plugin.a] (use = "all"): secret: is required`},
		},
		{
			name: "option error on a key not written points at the section",
			src: `
[plugin.a]
use = "all"
need_secret = true
`,
			want: []string{`who.toml:2: [plugin.a] (use = "all"): secret: is required`},
		},
		{
			name: "factory panics",
			src: `
[plugin.a]
use = "panics"
`,
			want: []string{`who.toml:2: [plugin.a] (use = "panics"): the plugin factory panicked (a bug in the plugin): boom`},
		},
		{
			name: "registered plugin built without a section, wrong stage",
			src: `
[identifiers]
plugins = ["chall"]
`,
			want: []string{`who.toml:3: [identifiers]: plugin "chall" (registered, no [plugin.chall] section) is not an Identifier (it is: Challenger)`},
		},
		{
			name: "stage entries on several lines",
			src: `
[plugin.i]
use = "ident"
[identifiers]
plugins = [
  "i",
  "nosuch",
  "i;dav",
]
`,
			want: []string{
				`who.toml:7: [identifiers]: unknown plugin "nosuch": no [plugin.nosuch] section and no plugin is registered under that name in this program (a plugin's package registers it when the program imports it: plugins/all brings in the built-in ones)`,
				`who.toml:8: [identifiers]: plugin "i" is listed twice (first at line 6)`,
			},
		},
		{
			name: "bad plugin names",
			src: `
[plugin."a;b"]
use = "all"
[plugin."x y"]
use = "all"
[plugin]
z = "all"
`,
			want: []string{
				`who.toml:2: [plugin."a;b"] (use = "all"): bad plugin name "a;b": a plugin name must not contain ";", "," or spaces (stage lists could not name it)`,
				`who.toml:4: [plugin."x y"] (use = "all"): bad plugin name "x y": a plugin name must not contain ";", "," or spaces (stage lists could not name it)`,
				`who.toml:7: [plugin.z]: key "z" must be a table [plugin.z] with use = "...", not a string`,
			},
		},
		{
			name: "stage section mistakes",
			src: `
[identifiers]
plugin = ["a"]
[authenticators]
plugins = "a b"
[challengers]
plugins = [1]
`,
			want: []string{
				`who.toml:2: [identifiers]: missing key "plugins": write plugins = ["name", "name;browser"] (or plugins = [] for none)`,
				`who.toml:3: [identifiers]: unknown key "plugin" (did you mean "plugins"?)`,
				`who.toml:5: [authenticators]: key "plugins" must be an array of entries such as ["a", "b;browser"], not a string`,
				`who.toml:7: [challengers]: key "plugins[0]" must be a string, not an integer (1)`,
			},
		},
		{
			name: "top level",
			src: `
title = "x"
general = 1
[identifier]
plugins = []
`,
			want: []string{
				`who.toml:2: unknown top-level key "title" (keys belong in a section such as [general] or [plugin.NAME])`,
				`who.toml:3: [general]: key "general" must be a table ([general]), not an integer (1)`,
				`who.toml:4: [identifier]: unknown section [identifier] (did you mean [identifiers]? known: [general], [plugin], [identifiers], [authenticators], [challengers], [mdproviders])`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, tt.src, nil)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "who.toml" {
				t.Errorf("errors.As(*Error) = %v, %+v", err, e)
			}
		})
	}
}

func TestStagesAndDescribe(t *testing.T) {
	t.Parallel()
	src := `
[general]
remote_user_key = "Remote-User"
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
			{Name: "form", Use: "idchall", Classifications: []string{"browser"}, Line: 15},
			{Name: "tkt", Use: "all", Line: 15},
			{Name: "ident", Use: "ident", Classifications: []string{"api"}, Line: 15},
		}},
		{Name: "authenticators", Entries: []StageEntry{
			{Name: "tkt", Use: "all", Line: 17},
			{Name: "ldap", Use: "auth", Classifications: []string{"unused"}, Unused: true, Line: 17},
		}},
		{Name: "challengers", Entries: []StageEntry{
			{Name: "form", Use: "idchall", Classifications: []string{"browser", "dav"}, Line: 19},
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
	var b bytes.Buffer
	c.Describe(&b)
	got := b.String()
	for _, s := range []string{
		"remote_user_key     = Remote-User",
		`  1. form (use = "idchall"): browser`,
		`  -  ldap (use = "auth"): unused (built and referable, never run)`,
		`  browser: identifiers:    form, tkt`,
		`           challengers:    form`,
		`  xmlpost: identifiers:    tkt`,
		`           challengers:    - (a challenge answers 500)`,
		`  api:     identifiers:    tkt, ident`,
		`  (other): identifiers:    tkt`,
		`  ldap (use = "auth"): ";unused" under [authenticators]`,
		`  spare (use = "auth"): listed in no stage`,
		`  sess (use = "outer"): listed in no stage; wraps the chain`,
	} {
		if !strings.Contains(got, s) {
			t.Errorf("Describe lacks %q; got:\n%s", s, got)
		}
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

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/does-not-exist.toml", Options{})
	var e *Error
	if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), "testdata/does-not-exist.toml: ") {
		t.Errorf("Load of a missing file = %v", err)
	}
}
