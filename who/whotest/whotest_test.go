package whotest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

func TestExample(t *testing.T) {
	t.Parallel()
	testHeaderIdentifier(t)
}

// durations has an option of each duration type.
type durations struct {
	D time.Duration `toml:"d"`
	W who.Duration  `toml:"w"`
	N int           `toml:"n"`
}

// TestSpecDecodesLikeConfig: Spec's Decode is config's strict decoder, not
// BurntSushi/toml's: a time.Duration written as a bare number is an error
// there (BurntSushi/toml alone reads 300 as 300ns).
func TestSpecDecodesLikeConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, options string
		want          durations
		errHas        string // "" for success
	}{
		{name: "time.Duration string", options: `d = "5m"`, want: durations{D: 5 * time.Minute}},
		{name: "time.Duration number", options: `d = 300`, errHas: `"d"`},
		{name: "who.Duration number is seconds", options: `w = 300`, want: durations{W: who.Duration(300 * time.Second)}},
		{name: "who.Duration string", options: `w = "90s"`, want: durations{W: who.Duration(90 * time.Second)}},
		{name: "bad duration", options: `d = "5 minutes"`, errHas: "bad duration"},
		{name: "unknown key with a suggestion", options: `nn = 1`, errHas: `did you mean "n"`},
		{name: "wrong type", options: `n = "1"`, errHas: `"n"`},
		{name: "TOML syntax", options: `n = `, errHas: "whotest.toml:3"},
		{name: "unset variable", options: `d = "${WHOTEST_SURELY_UNSET}"`, errHas: "WHOTEST_SURELY_UNSET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got durations
			err := whotest.Spec(t, tt.options).Decode(&got)
			switch {
			case tt.errHas == "" && err != nil:
				t.Fatalf("Decode: %v", err)
			case tt.errHas == "" && got != tt.want:
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
				t.Errorf("Decode error %v, want one containing %q", err, tt.errHas)
			}
		})
	}
}

// TestSpecNotDecodeTOML pins the difference that made whotest decode with
// config: BurntSushi/toml reads `d = 300` into a time.Duration as 300ns,
// which config refuses.
func TestSpecNotDecodeTOML(t *testing.T) {
	t.Parallel()
	var old durations
	if _, err := toml.Decode(`d = 300`, &old); err != nil || old.D != 300 {
		t.Fatalf("toml.Decode: %v %v (the premise of this test changed)", err, old.D)
	}
	var got durations
	if err := whotest.Spec(t, `d = 300`).Decode(&got); err == nil {
		t.Errorf("Spec decoded d = 300 as %v, want config's error", got.D)
	}
}

func TestSpecFields(t *testing.T) {
	t.Parallel()
	spec := whotest.Spec(t, "")
	if spec.Name != whotest.PluginName || spec.Use != whotest.PluginName || spec.Logger == nil {
		t.Errorf("spec %+v", spec)
	}
	if fi, err := os.Stat(spec.Dir); err != nil || !fi.IsDir() {
		t.Errorf("Dir %q: %v", spec.Dir, err)
	}
	var v durations
	if err := spec.Decode(&v); err != nil {
		t.Fatalf("empty options: %v", err)
	}
	if err := spec.Decode(&v); err == nil {
		t.Error("a second Decode succeeded")
	}
}

// lifecycle is a plugin that records what the loader did with it.
type lifecycle struct {
	dir, file string
	ref       string
	peer      *peer
	validated bool
	failValid bool
	closed    *bool
}

func (p *lifecycle) Identify(*http.Request) (who.Identity, error) { return nil, nil }

func (p *lifecycle) References() []who.Reference {
	if p.ref == "" {
		return nil
	}
	return []who.Reference{{Key: "peer_name", Name: p.ref}}
}

func (p *lifecycle) Resolve(plugins map[string]any) error {
	if p.ref == "" {
		return nil
	}
	var err error
	p.peer, err = who.Lookup[*peer](plugins, p.References()[0])
	return err
}

func (p *lifecycle) Validate() error {
	p.validated = true
	if p.failValid {
		return errors.New("validation failed")
	}
	return nil
}

func (p *lifecycle) Close() error {
	*p.closed = true
	return nil
}

// peer is a plugin another one refers to, registered in who.DefaultRegistry.
type peer struct{}

func (peer) Identify(*http.Request) (who.Identity, error) { return nil, nil }

func init() {
	who.Register("whotest-peer", func(spec who.PluginSpec) (any, error) { return &peer{}, spec.Decode(&struct{}{}) })
}

func lifecycleFactory(closed *bool) who.Factory {
	return func(spec who.PluginSpec) (any, error) {
		var o struct {
			File     string `toml:"file"`
			PeerName string `toml:"peer_name"`
			Fail     bool   `toml:"fail_validate"`
		}
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		return &lifecycle{dir: spec.Dir, file: spec.Path(o.File), ref: o.PeerName, failValid: o.Fail, closed: closed}, nil
	}
}

// TestBuild: Build runs the whole loader: paths relative to the package
// directory, Resolve against further sections, Validate, and Close when
// the test ends.
func TestBuild(t *testing.T) {
	t.Parallel()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	tests := []struct {
		name, options string
		file          string
		peer          bool
		errHas        string
	}{
		{name: "relative file", options: `file = "testdata/x"`, file: filepath.Join("testdata", "x")},
		{name: "home file", options: `file = "~/x"`, file: filepath.Join(home, "x")},
		{name: "reference", options: "peer_name = \"p\"\n[plugin.p]\nuse = \"whotest-peer\"", peer: true},
		{name: "missing reference", options: `peer_name = "nope"`, errHas: "nope"},
		{name: "validate", options: `fail_validate = true`, errHas: "validation failed"},
		{name: "unknown key", options: `fiel = "x"`, errHas: `did you mean "file"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			closed := false
			t.Run("build", func(t *testing.T) {
				v, err := whotest.Build(t, lifecycleFactory(&closed), tt.options)
				if tt.errHas != "" {
					if err == nil || !strings.Contains(err.Error(), tt.errHas) {
						t.Errorf("Build error %v, want one containing %q", err, tt.errHas)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				p := v.(*lifecycle)
				if !p.validated || p.file != tt.file || (p.peer != nil) != tt.peer || p.dir != "." {
					t.Errorf("plugin %+v, want file %q, peer %v, validated, dir \".\"", p, tt.file, tt.peer)
				}
				if closed {
					t.Error("closed before the test ended")
				}
			})
			if tt.errHas == "" && !closed {
				t.Error("not closed when the test ended")
			}
		})
	}
}

// recorder is a testing.TB that records the failures CheckIdentifier
// reports instead of failing the test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// identifierFunc adapts a function to who.Identifier.
type identifierFunc func(r *http.Request) (who.Identity, error)

func (f identifierFunc) Identify(r *http.Request) (who.Identity, error) { return f(r) }

// rememberingIdentifier is an Identifier and a Rememberer whose Forget
// panics on the nil identity Logout passes.
type rememberingIdentifier struct{ identifierFunc }

func (rememberingIdentifier) Remember(*http.Request, who.Identity) http.Header { return nil }

func (rememberingIdentifier) Forget(_ *http.Request, id who.Identity) http.Header {
	_ = id[who.KeyLogin].(string) // panics for nil
	return nil
}

// TestCheckIdentifier: CheckIdentifier passes an identifier keeping the
// contract and flags each way of breaking it.
func TestCheckIdentifier(t *testing.T) {
	t.Parallel()
	fromHeader := func(r *http.Request) (who.Identity, error) {
		if v := r.Header.Get("X-User"); v != "" {
			return who.Identity{who.KeyLogin: v}, nil
		}
		return nil, nil
	}
	shared := who.Identity{who.KeyLogin: "alice"}
	var mu sync.Mutex
	// template: the first result is kept and cloned for the later calls,
	// so what the chain adds to the first shows up in every later one
	// (fresh maps, none shared, yet not independent).
	var template who.Identity
	var onceMu sync.Mutex
	calls := 0
	tests := []struct {
		name string
		id   who.Identifier
		post bool
		want string // a substring of the report; "" for none
	}{
		{name: "keeps the contract", id: identifierFunc(fromHeader)},
		{name: "reads a POST body on every call", post: true, id: identifierFunc(func(r *http.Request) (who.Identity, error) {
			if v := r.PostFormValue("login"); v != "" {
				return who.Identity{who.KeyLogin: v}, nil
			}
			return nil, nil
		})},
		{name: "shared map", id: identifierFunc(func(r *http.Request) (who.Identity, error) {
			if r.Header.Get("X-User") == "" {
				return nil, nil
			}
			mu.Lock()
			defer mu.Unlock()
			return shared, nil
		}), want: "same map"},
		{name: "later results cloned from the first", id: identifierFunc(func(r *http.Request) (who.Identity, error) {
			if r.Header.Get("X-User") == "" {
				return nil, nil
			}
			mu.Lock()
			defer mu.Unlock()
			if template == nil {
				template = who.Identity{who.KeyLogin: "alice"}
				return template, nil
			}
			return template.Clone(), nil
		}), want: "changed the next call's"},
		{name: "finds the identity only once", id: identifierFunc(func(r *http.Request) (who.Identity, error) {
			onceMu.Lock()
			defer onceMu.Unlock()
			calls++
			if calls > 1 || r.Header.Get("X-User") == "" {
				return nil, nil
			}
			return who.Identity{who.KeyLogin: "alice"}, nil
		}), want: "no identity when called again"},
		{name: "identity without credentials", id: identifierFunc(func(*http.Request) (who.Identity, error) {
			return who.Identity{}, nil
		}), want: "without credentials"},
		{name: "panics", id: identifierFunc(func(*http.Request) (who.Identity, error) { panic("boom") }), want: "panicked"},
		{name: "finds nothing", id: identifierFunc(func(*http.Request) (who.Identity, error) { return nil, nil }), want: "no identity"},
		{name: "backend error", id: identifierFunc(func(*http.Request) (who.Identity, error) { return nil, errors.New("down") }), want: "backend failed"},
		{name: "Forget(nil) panics", id: rememberingIdentifier{identifierFunc(fromHeader)}, want: "Logout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-User", "alice")
			if tt.post {
				r = httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"login": {"alice"}}.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := &recorder{TB: t}
			whotest.CheckIdentifier(rec, tt.id, r)
			got := rec.report()
			switch {
			case tt.want == "" && got != "":
				t.Errorf("CheckIdentifier flagged a good identifier:\n%s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("CheckIdentifier reported %q, want a report containing %q", got, tt.want)
			}
		})
	}
}

func TestLogBufferConcurrent(t *testing.T) {
	t.Parallel()
	logger, buf := whotest.Logger(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { logger.Info("x") })
	}
	wg.Wait()
	if n := strings.Count(buf.String(), "msg=x"); n != 8 {
		t.Errorf("%d lines logged, want 8:\n%s", n, buf)
	}
	if _, err := io.WriteString(buf, "y"); err != nil || !strings.HasSuffix(buf.String(), "y") {
		t.Errorf("Write: %v", err)
	}
}

// cleanupTB runs nothing itself: the test calls its cleanups, with Failed
// answering failed, and reads what was logged.
type cleanupTB struct {
	testing.TB
	failed   bool
	cleanups []func()
	logged   []string
}

func (c *cleanupTB) Helper()                 {}
func (c *cleanupTB) Failed() bool            { return c.failed }
func (c *cleanupTB) Cleanup(f func())        { c.cleanups = append(c.cleanups, f) }
func (c *cleanupTB) Logf(f string, a ...any) { c.logged = append(c.logged, fmt.Sprintf(f, a...)) }

// TestLoggerShownOnFailure: what the plugin logged is shown with a failed
// test, and kept out of a passing one.
func TestLoggerShownOnFailure(t *testing.T) {
	t.Parallel()
	for _, failed := range []bool{true, false} {
		t.Run(fmt.Sprint("failed=", failed), func(t *testing.T) {
			t.Parallel()
			tb := &cleanupTB{TB: t, failed: failed}
			logger, _ := whotest.Logger(tb)
			logger.Warn("ldap down")
			for _, f := range tb.cleanups {
				f()
			}
			shown := strings.Contains(strings.Join(tb.logged, "\n"), "msg=\"ldap down\"")
			if shown != failed {
				t.Errorf("log shown %v for a test with Failed() = %v: %q", shown, failed, tb.logged)
			}
		})
	}
}
