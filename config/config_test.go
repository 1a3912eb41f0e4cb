package config

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
			name: "factory that fails before decoding",
			src: `
[plugin.a]
use = "failsearly"
foo = 1
`,
			want: []string{`who.toml:2: [plugin.a] (use = "failsearly"): failsearly: not available in this build`},
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

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/does-not-exist.toml", Options{})
	var e *Error
	if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), "testdata/does-not-exist.toml: ") {
		t.Errorf("Load of a missing file = %v", err)
	}
}
