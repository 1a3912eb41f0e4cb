package config

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

// fileAuth is an authenticator whose factory fails as htpasswd's does
// without its file, returning a nil *fileAuth with the error so that the
// loader knows what it would have built.
type fileAuth struct{}

func (*fileAuth) Authenticate(*http.Request, who.Identity) (string, error) { return "", nil }

// TestEveryMistakeInOneRun: one Load reports every mistake of a file
// (issue 12 item 9: three rounds of `who check` were needed for one file).
// Each case failed before: the stage mistake of a plugin that failed to
// build was hidden, a decoding mistake hid the factory's own checks, and a
// factory's joined OptionErrors came out as one line at the first key.
func TestEveryMistakeInOneRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "failed factory tells its type",
			src: `
[plugin.passwd]
use = "fileauth"
filename = "missing"
[identifiers]
plugins = ["passwd"]
[authenticators]
plugins = ["passwd"]
`,
			want: []string{
				`who.toml:4: [plugin.passwd] (use = "fileauth"): filename: open missing: no such file or directory`,
				`who.toml:6: [plugin.passwd] (use = "fileauth"): listed under [identifiers] but is not an Identifier (it is: Authenticator)`,
			},
		},
		{
			name: "registered plugin without a section tells its type",
			src: `
[challengers]
plugins = ["fileauth"]
`,
			want: []string{
				`who.toml:3: [challengers]: plugin "fileauth" (registered, no [plugin.fileauth] section): filename: is required`,
				`who.toml:3: [challengers]: plugin "fileauth" (registered, no [plugin.fileauth] section) is not a Challenger (it is: Authenticator)`,
			},
		},
		{
			name: "a decoding mistake does not hide the factory's checks",
			src: `
[plugin.a]
use = "auth"
need_secret = true
count = "three"
secrte = "x"
`,
			want: []string{
				`who.toml:2: [plugin.a] (use = "auth"): secret: is required (found with "count", "secrte" left out)`,
				`who.toml:5: [plugin.a] (use = "auth"): key "count" must be an integer, not a string`,
				`who.toml:6: [plugin.a] (use = "auth"): unknown key "secrte" (did you mean "secret"?)`,
			},
		},
		{
			name: "a decoding mistake does not hide the stage",
			src: `
[plugin.a]
use = "auth"
count = "three"
[identifiers]
plugins = ["a"]
`,
			want: []string{
				`who.toml:4: [plugin.a] (use = "auth"): key "count" must be an integer, not a string`,
				`who.toml:6: [plugin.a] (use = "auth"): listed under [identifiers] but is not an Identifier (it is: Authenticator)`,
			},
		},
		{
			// Built again without "secrte", the factory's error names no key:
			// it may come from the key left out, and is not reported.
			name: "a later call's error without a key is left out",
			src: `
[plugin.f]
use = "failing"
secrte = "x"
`,
			want: []string{
				`who.toml:4: [plugin.f] (use = "failing"): unknown key "secrte" (did you mean "secret"?)`,
			},
		},
		{
			name: "a factory's joined option errors, each at its key",
			src: `
[plugin.j]
use = "joined"
header = "X"
count = -1
[identifiers]
plugins = ["j"]
`,
			want: []string{
				`who.toml:4: [plugin.j] (use = "joined"): header: must not be set with count`,
				`who.toml:5: [plugin.j] (use = "joined"): count: must not be negative`,
			},
		},
		{
			name: "a factory that stops at its first check is asked again without that key",
			src: `
[plugin.s]
use = "firstonly"
header = "bad header"
count = -1
[authenticators]
plugins = ["s"]
`,
			want: []string{
				`who.toml:4: [plugin.s] (use = "firstonly"): header: must not contain a space`,
				`who.toml:5: [plugin.s] (use = "firstonly"): count: must not be negative (found with "header" left out)`,
				`who.toml:7: [plugin.s] (use = "firstonly"): listed under [authenticators] but is not an Authenticator (it is: Identifier)`,
			},
		},
		{
			// The session plugin without a wrong store = 5 is a cookie
			// store, which rejects data_dir: true only with "store" left
			// out, and the message says so (it read as if the file said
			// store = "cookie").
			name: "a later call's error names the keys left out",
			src: `
[plugin.m]
use = "moded"
mode = 5
data = "x"
`,
			want: []string{
				`who.toml:4: [plugin.m] (use = "moded"): key "mode" must be a string, not an integer (5)`,
				`who.toml:5: [plugin.m] (use = "moded"): data: is for mode "b" (mode = "a") (found with "mode" left out)`,
			},
		},
		{
			// Its registration declares an Authenticator, but built without
			// the wrong key it is an Identifier: what it built wins (the
			// declaration was kept, and a false stage error reported).
			name: "what a later call built wins over the declared kind",
			src: `
[plugin.d]
use = "declaredwrong"
count = "three"
[identifiers]
plugins = ["d"]
`,
			want: []string{
				`who.toml:4: [plugin.d] (use = "declaredwrong"): key "count" must be an integer, not a string`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := testRegistry(&recorder{})
			reg.Register("declaredwrong", func(spec who.PluginSpec) (any, error) {
				var o fakeOptions
				if err := spec.Decode(&o); err != nil {
					return nil, err
				}
				return identifier{&fake{name: spec.Name, o: o, rec: &recorder{}}}, nil
			})
			reg.RegisterKind("declaredwrong", (*fileAuth)(nil))
			reg.Register("moded", func(spec who.PluginSpec) (any, error) {
				var o struct {
					Mode string `toml:"mode"`
					Data string `toml:"data"`
				}
				if err := spec.Decode(&o); err != nil {
					return nil, err
				}
				if o.Mode == "" {
					o.Mode = "a"
				}
				if o.Data != "" && o.Mode != "b" {
					return nil, &who.OptionError{Key: "data", Err: fmt.Errorf("is for mode \"b\" (mode = %q)", o.Mode)}
				}
				return (*fileAuth)(nil), nil
			})
			reg.Register("fileauth", func(spec who.PluginSpec) (any, error) {
				var o struct {
					Filename string `toml:"filename"`
				}
				if err := spec.Decode(&o); err != nil {
					return nil, err
				}
				if o.Filename == "" {
					return (*fileAuth)(nil), &who.OptionError{Key: "filename", Err: errors.New("is required")}
				}
				return (*fileAuth)(nil), &who.OptionError{Key: "filename", Err: errors.New("open " + o.Filename + ": no such file or directory")}
			})
			reg.Register("joined", func(spec who.PluginSpec) (any, error) {
				var o fakeOptions
				if err := spec.Decode(&o); err != nil {
					return nil, err
				}
				var errs []error
				if o.Header != "" && o.Count != 0 {
					errs = append(errs, &who.OptionError{Key: "header", Err: errors.New("must not be set with count")})
				}
				if o.Count < 0 {
					errs = append(errs, &who.OptionError{Key: "count", Err: errors.New("must not be negative")})
				}
				if len(errs) > 0 {
					return nil, errors.Join(errs...)
				}
				return identifier{&fake{name: spec.Name, o: o, rec: &recorder{}}}, nil
			})
			reg.Register("firstonly", func(spec who.PluginSpec) (any, error) {
				var o fakeOptions
				if err := spec.Decode(&o); err != nil {
					return nil, err
				}
				switch {
				case o.Header == "bad header":
					return nil, &who.OptionError{Key: "header", Err: errors.New("must not contain a space")}
				case o.Count < 0:
					return nil, &who.OptionError{Key: "count", Err: errors.New("must not be negative")}
				}
				return identifier{&fake{name: spec.Name, o: o, rec: &recorder{}}}, nil
			})
			c, err := Parse("who.toml", []byte(tc.src), Options{Registry: reg, Logger: quiet})
			if c != nil {
				c.Close()
				t.Fatal("a chain was built despite the mistakes")
			}
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFactoryNotCalledAgainForNothing: a factory whose error names a key
// the file does not set ("secret: is required") is called once; a second
// call with the same options can only say the same, and a factory may
// dial a server or open a database each time.
func TestFactoryNotCalledAgainForNothing(t *testing.T) {
	t.Parallel()
	reg := who.NewRegistry()
	calls := 0
	reg.Register("needsecret", func(spec who.PluginSpec) (any, error) {
		calls++
		var o struct {
			Secret string `toml:"secret"`
			Realm  string `toml:"realm"`
		}
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		return nil, &who.OptionError{Key: "secret", Err: errors.New("is required")}
	})
	src := "[plugin.n]\nuse = \"needsecret\"\nrealm = \"r\"\n"
	c, err := Parse("who.toml", []byte(src), Options{Registry: reg, Logger: quiet})
	if c != nil {
		c.Close()
		t.Fatal("a chain was built despite the mistake")
	}
	want := []string{`who.toml:1: [plugin.n] (use = "needsecret"): secret: is required`}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if calls != 1 {
		t.Errorf("the factory was called %d times, want 1", calls)
	}
}
