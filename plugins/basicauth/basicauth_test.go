package basicauth

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func mustNew(t *testing.T, o Options) *Plugin {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return p
}

func TestIdentify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header []string // nil: no header
		want   who.Identity
	}{
		{name: "none"},
		{name: "empty", header: []string{""}},
		{name: "non-basic", header: []string{"Digest abc"}},
		{name: "scheme only", header: []string{"Basic"}},
		{name: "scheme and space", header: []string{"Basic "}},
		{name: "bad base64", header: []string{"Basic nope*"}},
		{name: "no colon", header: []string{"Basic " + b64("foo")}},
		{name: "ok", header: []string{"Basic " + b64("foo:bar")},
			want: who.Identity{"login": "foo", "password": "bar"}},
		{name: "scheme case-insensitive", header: []string{"bAsIc " + b64("foo:bar")},
			want: who.Identity{"login": "foo", "password": "bar"}},
		{name: "password with colons", header: []string{"Basic " + b64("foo:b:a:r")},
			want: who.Identity{"login": "foo", "password": "b:a:r"}},
		{name: "empty password", header: []string{"Basic " + b64("foo:")},
			want: who.Identity{"login": "foo", "password": ""}},
		{name: "utf-8", header: []string{"Basic " + b64("b\u00f6ss:p\u00e4ss\u20ac")},
			want: who.Identity{"login": "b\u00f6ss", "password": "p\u00e4ss\u20ac"}},
		{name: "latin-1", header: []string{"Basic " + b64("b\xf6ss:p\xe4ss")},
			want: who.Identity{"login": "b\u00f6ss", "password": "p\u00e4ss"}},
		{name: "latin-1 password only", header: []string{"Basic " + b64("boss:p\xe4ss")},
			want: who.Identity{"login": "boss", "password": "p\u00e4ss"}},
		{name: "non-ascii header", header: []string{"Basic " + b64("foo:bar") + "\u00e9"}},
		{name: "non-ascii scheme", header: []string{"B\u00e4sic " + b64("foo:bar")}},
		{name: "missing padding", header: []string{"Basic " + strings.TrimRight(b64("foo:ba"), "=")},
			want: who.Identity{"login": "foo", "password": "ba"}},
		{name: "extra spaces", header: []string{"Basic   " + b64("foo:bar") + " "},
			want: who.Identity{"login": "foo", "password": "bar"}},
		{name: "bad padding", header: []string{"Basic " + b64("foo:ba") + "="}},
		{name: "garbage after base64", header: []string{"Basic " + b64("foo:bar") + " x"}},
	}
	p := mustNew(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			if tt.header != nil {
				r.Header["Authorization"] = tt.header
			}
			got, err := p.Identify(r)
			if err != nil {
				t.Fatalf("Identify: error %v, want none (a malformed header is a no)", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Identify (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRememberIsNil(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	r := httptest.NewRequest("GET", "/", nil)
	if h := p.Remember(r, who.Identity{"login": "foo"}); h != nil {
		t.Errorf("Remember = %v, want nil", h)
	}
}

func TestForget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		realm, want string
	}{
		{"", `Basic realm="basic"`},
		{"realm", `Basic realm="realm"`},
		{`My "quoted" realm`, `Basic realm="My \"quoted\" realm"`},
		{`back\slash`, `Basic realm="back\\slash"`},
		{"caf\u00e9", "Basic realm=\"caf\u00e9\""},
	}
	for _, tt := range tests {
		t.Run(tt.realm, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, Options{Realm: tt.realm})
			r := httptest.NewRequest("GET", "/", nil)
			got := p.Forget(r, nil)
			want := http.Header{"Www-Authenticate": {tt.want}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Forget (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	for _, realm := range []string{"a\r\nSet-Cookie: x=y", "a\nb", "a\tb", "a\x00", "a\x7f"} {
		t.Run(realm, func(t *testing.T) {
			t.Parallel()
			_, err := New(Options{Realm: realm})
			if !errors.Is(err, ErrBadRealm) {
				t.Errorf("New(%q) error = %v, want ErrBadRealm", realm, err)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{Realm: "realm"})
	tests := []struct {
		name   string
		forget http.Header
		want   http.Header
	}{
		{
			name: "no forget headers",
			want: http.Header{"Www-Authenticate": {`Basic realm="realm"`}},
		},
		{
			name:   "duplicate dropped",
			forget: http.Header{"Www-Authenticate": {`Basic realm="realm"`}},
			want:   http.Header{"Www-Authenticate": {`Basic realm="realm"`}},
		},
		{
			name: "other forget headers kept",
			forget: http.Header{
				"Set-Cookie":       {"auth_tkt=INVALID; Max-Age=0"},
				"Www-Authenticate": {`Negotiate`},
			},
			want: http.Header{
				"Www-Authenticate": {`Basic realm="realm"`, `Negotiate`},
				"Set-Cookie":       {"auth_tkt=INVALID; Max-Age=0"},
			},
		},
		{
			name:   "non-canonical key",
			forget: http.Header{"WWW-Authenticate": {`Basic realm="realm"`}, "x-other": {"1"}},
			want:   http.Header{"Www-Authenticate": {`Basic realm="realm"`}, "X-Other": {"1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			app := http.Header{"X-App": {"dropped"}, "Content-Type": {"text/html"}}
			h := p.Challenge(r, http.StatusForbidden, app, tt.forget)
			if h == nil {
				t.Fatal("Challenge returned nil")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", w.Code)
			}
			got := w.Header().Clone()
			if ct := got.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got.Get("X-App") != "" {
				t.Errorf("app header leaked: %v", got)
			}
			got.Del("Content-Type")
			got.Del("X-Content-Type-Options")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(w.Body.String(), "401 Unauthorized") {
				t.Errorf("body = %q", w.Body.String())
			}
			// The handler is reusable and does not share its header slices.
			w2 := httptest.NewRecorder()
			h.ServeHTTP(w2, r)
			w2.Header().Add("Www-Authenticate", "x")
			w3 := httptest.NewRecorder()
			h.ServeHTTP(w3, r)
			if diff := cmp.Diff(w.Header()["Www-Authenticate"], w3.Header()["Www-Authenticate"]); diff != "" {
				t.Errorf("second serve differs:\n%s", diff)
			}
		})
	}
}

func TestFactory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, use, src, realm, errKey string
		maxPassword                   int
	}{
		{name: "default", use: "basicauth", realm: "basic", maxPassword: who.DefaultMaxPasswordBytes},
		{name: "max_password_bytes", use: "basicauth", src: `max_password_bytes = 64`, realm: "basic", maxPassword: 64},
		{name: "negative max_password_bytes", use: "basicauth", src: `max_password_bytes = -1`, errKey: "max_password_bytes"},
		{name: "realm", use: "basicauth", src: `realm = "Mine"`, realm: "Mine"},
		{name: "repoze alias", use: "repoze.who.plugins.basicauth:make_plugin", src: `realm = "x"`, realm: "x"},
		{name: "bad realm", use: "basicauth", src: `realm = "a\nb"`, errKey: "realm"},
		{name: "unknown key", use: "basicauth", src: `relam = "x"`, errKey: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, canonical, err := who.DefaultRegistry.Factory(tt.use)
			if err != nil {
				t.Fatal(err)
			}
			if canonical != "basicauth" {
				t.Errorf("canonical name = %q", canonical)
			}
			spec := whotest.Spec(t, tt.src)
			spec.Use = tt.use
			v, err := f(spec)
			if tt.errKey != "" {
				var oe *who.OptionError
				switch {
				case err == nil:
					t.Fatal("factory: no error")
				case tt.errKey != "-" && (!errors.As(err, &oe) || oe.Key != tt.errKey):
					t.Errorf("factory error = %v, want an OptionError for %q", err, tt.errKey)
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
			if p.Realm() != tt.realm {
				t.Errorf("realm = %q, want %q", p.Realm(), tt.realm)
			}
			if tt.maxPassword != 0 && p.maxPassword != tt.maxPassword {
				t.Errorf("max_password_bytes = %d, want %d", p.maxPassword, tt.maxPassword)
			}
		})
	}
}

// fixedAuth accepts foo/bar.
type fixedAuth struct{}

func (fixedAuth) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	if id.Str(who.KeyLogin) == "foo" && id.Str(who.KeyPassword) == "bar" {
		return "foo", nil
	}
	return "", nil
}

func TestThroughMiddleware(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{Realm: "demo"})
	mw, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "basicauth", Plugin: p}},
		Authenticators: []who.Entry{{Name: "fixed", Plugin: fixedAuth{}}},
		Challengers:    []who.Entry{{Name: "basicauth", Plugin: p}},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := who.UserID(r.Context())
		if u == "" {
			w.Header().Set("X-App", "secret")
			http.Error(w, "app body", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "hello "+u)
	})))
	defer srv.Close()

	tests := []struct {
		name       string
		user, pass string
		raw        string
		wantCode   int
		wantBody   string
	}{
		{name: "anonymous", wantCode: 401, wantBody: "401 Unauthorized"},
		{name: "good", user: "foo", pass: "bar", wantCode: 200, wantBody: "hello foo"},
		{name: "wrong password", user: "foo", pass: "baz", wantCode: 401, wantBody: "401 Unauthorized"},
		{name: "garbage header", raw: "Basic %%%", wantCode: 401, wantBody: "401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			if tt.raw != "" {
				req.Header.Set("Authorization", tt.raw)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode || !strings.HasPrefix(string(body), tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
			if tt.wantCode == 401 {
				if got := resp.Header.Values("Www-Authenticate"); len(got) != 1 || got[0] != `Basic realm="demo"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if resp.Header.Get("X-App") != "" {
					t.Error("the app's header reached the client")
				}
			}
		})
	}
}

// TestIdentifyBoundsLength: a login or password over max_password_bytes
// is no identity, and a header too long to hold such credentials is not
// decoded; credentials at the bound pass.
func TestIdentifyBoundsLength(t *testing.T) {
	t.Parallel()
	identify := func(p *Plugin, header string) who.Identity {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		id, err := p.Identify(r)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for _, tt := range []struct {
		name string
		max  int // Options.MaxPasswordBytes
		n    int // the bound
	}{
		{"default", 0, who.DefaultMaxPasswordBytes},
		{"small", 16, 16},
		{"large", 4096, 4096},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, Options{MaxPasswordBytes: tt.max})
			at, over := strings.Repeat("p", tt.n), strings.Repeat("p", tt.n+1)
			cases := []struct {
				name, login, password string
				ok                    bool
			}{
				{"password at the bound", "foo", at, true},
				{"login and password at the bound", at, at, true},
				{"password over", "foo", over, false},
				{"login over", over, "bar", false},
			}
			for _, c := range cases {
				id := identify(p, "Basic "+b64(c.login+":"+c.password))
				if got := id != nil; got != c.ok {
					t.Errorf("%s: identity %v, want %v", c.name, got, c.ok)
				}
			}
			// Far too long: refused before decoding, with padding spaces
			// or without.
			huge := "Basic " + b64("foo:"+strings.Repeat("p", 1<<20))
			if id := identify(p, huge); id != nil {
				t.Error("1 MiB password accepted")
			}
			if _, _, ok := parse("Basic   "+b64("foo:"+at)+"  ", tt.n); !ok {
				t.Error("spaces around credentials at the bound refused")
			}
		})
	}
	if _, err := New(Options{MaxPasswordBytes: -1}); !errors.Is(err, ErrBadMaxPasswordBytes) {
		t.Errorf("New(max_password_bytes = -1) = %v", err)
	}
	// Parse has the default bound.
	if _, _, ok := Parse("Basic " + b64("foo:"+strings.Repeat("p", who.DefaultMaxPasswordBytes+1))); ok {
		t.Error("Parse accepted a password over who.DefaultMaxPasswordBytes")
	}
}

// TestIdentifierContract: the plugin built from who.toml options keeps the
// who.Identifier contract (a fresh map per call, nil without credentials).
func TestIdentifierContract(t *testing.T) {
	t.Parallel()
	v, err := whotest.Build(t, factory, `realm = "x"`)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Basic "+b64("alice:pw"))
	whotest.CheckIdentifier(t, v.(who.Identifier), r)
}

// TestHugeHeaderNotDecoded: credentials longer than the base64 of two
// max_password_bytes fields are refused without being decoded (no
// allocation), with spaces around them or without, by Identify and Parse.
func TestHugeHeaderNotDecoded(t *testing.T) {
	p := mustNew(t, Options{})
	cred := b64("foo:" + strings.Repeat("p", 1<<20))
	for _, header := range []string{"Basic " + cred, "Basic " + strings.Repeat(" ", headerSlack) + cred} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		var id who.Identity
		if allocs := testing.AllocsPerRun(10, func() { id, _ = p.Identify(r) }); allocs != 0 || id != nil {
			t.Errorf("Identify of a %d-byte header: %v allocations, identity %v; want 0, nil", len(header), allocs, id)
		}
		if allocs := testing.AllocsPerRun(10, func() { _, _, _ = Parse(header) }); allocs != 0 {
			t.Errorf("Parse of a %d-byte header: %v allocations, want 0", len(header), allocs)
		}
	}
}

// TestSecretKeys (issue 12 item 16): the plugin declares its password,
// and a chain's debug log shows a Basic identity's login but not its
// password.
func TestSecretKeys(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	if diff := cmp.Diff([]string{who.KeyPassword}, p.SecretKeys()); diff != "" {
		t.Errorf("SecretKeys (-want +got):\n%s", diff)
	}
	log, buf := whotest.Logger(t)
	mw, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "basicauth", Plugin: p}},
		Authenticators: []who.Entry{{Name: "fixed", Plugin: fixedAuth{}}},
		Logger:         log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{who.KeyPassword}, mw.SecretKeys()); diff != "" {
		t.Errorf("the chain's SecretKeys (-want +got):\n%s", diff)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Basic "+b64("alice:pa55-w0rd-x"))
	mw.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(httptest.NewRecorder(), req)
	out := buf.String()
	if strings.Contains(out, "pa55-w0rd-x") || !strings.Contains(out, "identity.login=alice") ||
		!strings.Contains(out, "identity.password="+who.Mask) {
		t.Errorf("debug log: want the login shown and the password masked:\n%s", out)
	}
}
