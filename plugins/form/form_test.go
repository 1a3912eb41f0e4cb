package form

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/origin/origintest"
	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// testSecret signs the tests' auth_tkt cookies.
const testSecret = "form-test-secret-0123456789abcdef"

// passwords is a test authenticator: alice / wonderland.
type passwords map[string]string

func (p passwords) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	l, pw := id.Str(who.KeyLogin), id.Str(who.KeyPassword)
	if l != "" && p[l] == pw {
		return l, nil
	}
	return "", nil
}

// chain builds form + auth_tkt + passwords around an app with /protected
// (401 when anonymous) and / (public).
func chain(t testing.TB, o Options) http.Handler {
	t.Helper()
	return chainWith(t, o, nil, testApp)
}

// testApp answers /protected (401 when anonymous) and every other path
// with "page PATH user=USERID".
var testApp = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u := who.UserID(r.Context())
	if strings.HasPrefix(r.URL.Path, "/protected") && u == "" {
		w.WriteHeader(401)
		return
	}
	io.WriteString(w, "page "+r.URL.Path+" user="+u)
})

// chainWith builds form + auth_tkt + auth (passwords when nil) around app.
func chainWith(t testing.TB, o Options, auth who.Authenticator, app http.Handler) http.Handler {
	t.Helper()
	if auth == nil {
		auth = passwords{"alice": "wonderland"}
	}
	tkt, err := authtkt.New(authtkt.Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	o.Rememberer = tkt
	f, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "form", Plugin: f}, {Name: "auth_tkt", Plugin: tkt}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: tkt}, {Name: "passwords", Plugin: auth}},
		Challengers:    []who.Entry{{Name: "form", Plugin: f}},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.Wrap(app)
}

type client struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

func newClient(t *testing.T, h http.Handler) *client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &client{t: t, srv: srv, c: c}
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var tokenRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func token(t *testing.T, page string) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in %q", page)
	}
	return m[1]
}

func TestRedirectingFlow(t *testing.T) {
	t.Parallel()
	c := newClient(t, chain(t, Options{LoginFormURL: "/login"}))
	resp, _ := c.do("GET", "/protected?x=1", nil)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/login?came_from=%2Fprotected%3Fx%3D1" {
		t.Fatalf("challenge: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := c.do("GET", resp.Header.Get("Location"), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `name="came_from" value="/protected?x=1"`) || !strings.Contains(page, `action="/login_handler"`) {
		t.Fatalf("form: %d %s", resp.StatusCode, page)
	}
	tok := token(t, page)

	// Wrong password: the form again with a message and the counter.
	resp, page = c.do("POST", "/login_handler", url.Values{"login": {"alice"}, "password": {"nope"}, "_csrf": {tok}, "came_from": {"/protected?x=1"}, "__logins": {"0"}})
	if resp.StatusCode != 200 || !strings.Contains(page, MsgFailed) || !strings.Contains(page, `name="__logins" value="1"`) || !strings.Contains(page, `value="alice"`) {
		t.Fatalf("bad login: %d %s", resp.StatusCode, page)
	}
	if len(resp.Cookies()) != 0 {
		t.Fatalf("bad login set cookies: %q", resp.Header["Set-Cookie"])
	}

	resp, _ = c.do("POST", "/login_handler", url.Values{"login": {"alice"}, "password": {"wonderland"}, "_csrf": {token(t, page)}, "came_from": {"/protected?x=1"}})
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/protected?x=1" || !strings.Contains(resp.Header.Get("Set-Cookie"), "auth_tkt=") {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header)
	}
	if _, body := c.do("GET", "/protected?x=1", nil); body != "page /protected user=alice" {
		t.Fatalf("after login: %q", body)
	}
	resp, _ = c.do("GET", "/logout_handler?came_from=/bye", nil)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/bye" || !strings.Contains(resp.Header.Get("Set-Cookie"), `auth_tkt="INVALID"`) {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header)
	}
	if resp, _ := c.do("GET", "/protected", nil); resp.StatusCode != 302 {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	h := chain(t, Options{LoginFormURL: "/login"})
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		cookie   bool // send the CSRF cookie
		token    bool // send the right token
		status   int
		message  string
		loggedIn bool
	}{
		{"good", "POST", "/login_handler", "login=alice&password=wonderland", true, true, 302, "", true},
		{"no csrf token", "POST", "/login_handler", "login=alice&password=wonderland", true, false, 403, MsgCSRF, false},
		{"no csrf cookie", "POST", "/login_handler", "login=alice&password=wonderland", false, true, 403, MsgCSRF, false},
		{"wrong token", "POST", "/login_handler", "login=alice&password=wonderland&_csrf=AAAA", true, false, 403, MsgCSRF, false},
		{"credentials in the query", "POST", "/login_handler?login=alice&password=wonderland", "", true, true, 200, MsgFailed, false},
		{"GET with credentials", "GET", "/login_handler?login=alice&password=wonderland", "", true, true, 200, "", false},
		{"malformed body", "POST", "/login_handler", "login=%zz&password=%", true, false, 400, MsgMalformed, false},
		{"missing password", "POST", "/login_handler", "login=alice", true, true, 200, MsgFailed, false},
		{"huge body", "POST", "/login_handler", "login=" + strings.Repeat("a", DefaultMaxBodyBytes+10), true, true, 413, MsgTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Get a cookie and token from the form page.
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
			tok := token(t, rec.Body.String())
			csrf := rec.Result().Cookies()[0]
			body := tt.body
			if tt.token {
				body += "&_csrf=" + url.QueryEscape(tok)
			}
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.cookie {
				req.AddCookie(csrf)
			}
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.message != "" && !strings.Contains(rec.Body.String(), tt.message) {
				t.Fatalf("no message %q in %s", tt.message, rec.Body)
			}
			if got := strings.Contains(strings.Join(rec.Header()["Set-Cookie"], "\n"), "auth_tkt="); got != tt.loggedIn {
				t.Fatalf("logged in = %v: %q", got, rec.Header()["Set-Cookie"])
			}
		})
	}
}

func TestFormOnChallenge(t *testing.T) {
	t.Parallel()
	c := newClient(t, chain(t, Options{}))
	resp, page := c.do("GET", "/protected/page?a=1", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `action="/protected/page?__do_login=true&amp;a=1"`) {
		t.Fatalf("challenge: %d %s", resp.StatusCode, page)
	}
	tok := token(t, page)
	resp, page = c.do("POST", "/protected/page?__do_login=true&a=1", url.Values{"login": {"alice"}, "password": {"x"}, "_csrf": {tok}})
	if resp.StatusCode != 200 || !strings.Contains(page, MsgFailed) {
		t.Fatalf("bad login: %d %s", resp.StatusCode, page)
	}
	resp, _ = c.do("POST", "/protected/page?__do_login=true&a=1", url.Values{"login": {"alice"}, "password": {"wonderland"}, "_csrf": {tok}})
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/protected/page?a=1" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header)
	}
	if _, body := c.do("GET", "/protected/page", nil); body != "page /protected/page user=alice" {
		t.Fatalf("after login: %q", body)
	}
}

func TestChallengeKeepsHeaders(t *testing.T) {
	t.Parallel()
	f, _ := New(Options{LoginFormURL: "https://sso.example/login?app=1", Rememberer: nopRem{}})
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/p?q=1", nil)
	f.Challenge(r, 401, http.Header{"Set-Cookie": {"app=1"}}, http.Header{"Set-Cookie": {"forget=1"}}).ServeHTTP(rec, r)
	if rec.Code != 302 || rec.Header().Get("Location") != "https://sso.example/login?app=1&came_from=%2Fp%3Fq%3D1" ||
		strings.Join(rec.Header()["Set-Cookie"], ",") != "forget=1,app=1" {
		t.Fatalf("%d %q", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	f.Challenge(r, 401, http.Header{"Location": {"/elsewhere"}}, nil).ServeHTTP(rec, r)
	if rec.Code != 302 || rec.Header().Get("Location") != "/elsewhere" {
		t.Fatalf("app Location: %d %q", rec.Code, rec.Header())
	}
}

type nopRem struct{}

func (nopRem) Identify(*http.Request) (who.Identity, error)     { return nil, nil }
func (nopRem) Remember(*http.Request, who.Identity) http.Header { return nil }
func (nopRem) Forget(*http.Request, who.Identity) http.Header   { return nil }

// TestOpenRedirectThroughLogin: a successful login with a hostile
// came_from lands on post_login_url, and logout on post_logout_url.
func TestOpenRedirectThroughLogin(t *testing.T) {
	t.Parallel()
	h := chain(t, Options{LoginFormURL: "/login", PostLoginURL: "/home", PostLogoutURL: "/bye"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	tok, csrf := token(t, rec.Body.String()), rec.Result().Cookies()[0]
	for _, v := range origintest.HostileTargets {
		t.Run(url.QueryEscape(v), func(t *testing.T) {
			t.Parallel()
			form := url.Values{"login": {"alice"}, "password": {"wonderland"}, "_csrf": {tok}, "came_from": {v}}
			req := httptest.NewRequest("POST", "http://good.example/login_handler", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(csrf)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 302 || rec.Header().Get("Location") != "/home" {
				t.Fatalf("login: %d %q", rec.Code, rec.Header().Get("Location"))
			}
			req = httptest.NewRequest("GET", "http://good.example/logout_handler?came_from="+url.QueryEscape(v), nil)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 302 || rec.Header().Get("Location") != "/bye" {
				t.Fatalf("logout: %d %q", rec.Code, rec.Header().Get("Location"))
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	tkt, _ := authtkt.New(authtkt.Options{Secret: testSecret})
	f, err := New(Options{RemembererName: "tkt"})
	if err != nil {
		t.Fatal(err)
	}
	if refs := f.References(); len(refs) != 1 || refs[0] != (who.Reference{Key: "rememberer_name", Name: "tkt"}) {
		t.Fatalf("References = %v", refs)
	}
	if err := f.Validate(); err == nil {
		t.Fatal("Validate before Resolve passed")
	}
	var oe *who.OptionError
	if err := f.Resolve(map[string]any{"other": tkt}); !errors.As(err, &oe) || oe.Key != "rememberer_name" {
		t.Fatalf("missing: %v", err)
	}
	// who.Lookup's message: the loader's words for a wrong reference.
	if err := f.Resolve(map[string]any{"tkt": passwords{}}); !errors.As(err, &oe) || oe.Key != "rememberer_name" ||
		!strings.Contains(err.Error(), `plugin "tkt" (form.passwords) is not a who.Rememberer`) {
		t.Fatalf("not a rememberer: %v", err)
	}
	if err := f.Resolve(map[string]any{"tkt": tkt}); err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{}); !errors.As(err, &oe) || oe.Key != "rememberer_name" {
		t.Fatalf("no rememberer: %v", err)
	}
	if _, err := New(Options{Rememberer: tkt, LoginHandlerPath: "login"}); !errors.As(err, &oe) || oe.Key != "login_handler_path" {
		t.Fatalf("relative handler path: %v", err)
	}
	for _, tt := range []struct {
		o   Options
		key string
	}{
		{Options{Rememberer: tkt, LoginHandlerPath: "//evil.example/h"}, "login_handler_path"},
		{Options{Rememberer: tkt, LogoutHandlerPath: "/\\evil.example"}, "logout_handler_path"},
		{Options{Rememberer: tkt, LoginFormURL: "//@"}, "login_form_url"},
		{Options{Rememberer: tkt, LoginFormURL: "///login"}, "login_form_url"},
		{Options{Rememberer: tkt, LoginFormURL: "https://u:p@sso.example/login"}, "login_form_url"},
		// ParseLoginURL's rule, as the redirector's login_url: a browser
		// reads http:////evil.example as evil.example.
		{Options{Rememberer: tkt, LoginFormURL: "http:////evil.example/login"}, "login_form_url"},
		{Options{Rememberer: tkt, LoginFormURL: "/login\x00"}, "login_form_url"},
		{Options{Rememberer: tkt, MaxRemember: who.Duration(1e6)}, "max_remember"},
	} {
		if _, err := New(tt.o); !errors.As(err, &oe) || oe.Key != tt.key {
			t.Errorf("New(%+v) = %v, want an error on %s", tt.o, err, tt.key)
		}
	}
}

func TestFactoryAndTemplate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "login.html"), []byte(`custom {{.Action}} {{.CSRFToken | len}} {{.Message}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.html"), []byte(`{{.Nope`), 0o644)
	for _, use := range []string{"form", "repoze.who.plugins.form:make_plugin", "repoze.who.plugins.form:make_redirecting_plugin", "repoze.who.plugins.friendlyform:FriendlyFormPlugin"} {
		f, canon, err := who.DefaultRegistry.Factory(use)
		if err != nil || canon != "form" {
			t.Fatal(use, err)
		}
		pl, err := f(who.PluginSpec{Use: use, Dir: dir, Decode: func(v any) error {
			o := v.(*Options)
			o.RemembererName, o.LoginFormURL, o.Form = "tkt", "/login", "login.html"
			return nil
		}})
		if err != nil {
			t.Fatal(use, err)
		}
		p := pl.(*Plugin)
		p.rem = nopRem{}
		rec := httptest.NewRecorder()
		p.formHandler("/login_handler", "", "", "hi", 0, 200, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
		if rec.Body.String() != "custom /login_handler 43 hi" {
			t.Fatalf("template: %q", rec.Body)
		}
	}
	f, _, _ := who.DefaultRegistry.Factory("repoze.who.plugins.form:make_redirecting_plugin")
	if _, err := f(who.PluginSpec{Use: "repoze.who.plugins.form:make_redirecting_plugin", Decode: func(v any) error {
		v.(*Options).RemembererName = "x"
		return nil
	}}); err == nil {
		t.Fatal("make_redirecting_plugin without login_form_url accepted")
	}
	if _, err := New(Options{Rememberer: nopRem{}, Form: filepath.Join(dir, "bad.html")}); err == nil {
		t.Fatal("bad template accepted")
	}
}

func TestHTMLOnly(t *testing.T) {
	t.Parallel()
	f, _ := New(Options{LoginFormURL: "/login", HTMLOnly: true, Rememberer: nopRem{}})
	for _, tt := range []struct {
		accept string
		want   bool
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"application/xhtml+xml", true},
		{"TEXT/HTML; charset=utf-8", true},
		{"text/html;q=0", false},
		{"*/*", false},
		{"application/json", false},
		{"", false},
	} {
		r := httptest.NewRequest("GET", "/p", nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if got := f.Challenge(r, 401, http.Header{}, nil) != nil; got != tt.want {
			t.Errorf("Accept %q: challenged = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestApacheBackParam(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	chain(t, Options{LoginFormURL: "/login"}).ServeHTTP(rec, httptest.NewRequest("GET", "/login?back=http%3A%2F%2F127.0.0.1%2Fprotected%2F", nil))
	if !strings.Contains(rec.Body.String(), `name="came_from" value="http://127.0.0.1/protected/"`) {
		t.Fatalf("back not carried: %s", rec.Body)
	}
}

// TestFactoryFormPath: the form option follows the one path rule
// (who.PluginSpec.Path): relative to who.toml's directory, "~/" the home
// directory, an absolute path kept.
func TestFactoryFormPath(t *testing.T) {
	home, dir, other := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	for _, d := range []string{home, dir, other} {
		if err := os.WriteFile(filepath.Join(d, "login.html"), []byte(`form of `+d), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ name, form, wantDir string }{
		{"home", "~/login.html", home},
		{"relative", "login.html", dir},
		{"relative, cleaned", "./x/../login.html", dir},
		{"absolute", filepath.Join(other, "login.html"), other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := whotest.Spec(t, "rememberer_name = \"tkt\"\nform = "+strconv.Quote(tt.form))
			spec.Dir = dir
			v, err := factory(spec)
			if err != nil {
				t.Fatal(err)
			}
			p := v.(*Plugin)
			if want := filepath.Join(tt.wantDir, "login.html"); p.o.Form != want {
				t.Errorf("form %q read from %q, want %q", tt.form, p.o.Form, want)
			}
			p.rem = nopRem{}
			rec := httptest.NewRecorder()
			p.formHandler("/login_handler", "", "", "", 0, 200, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
			if got := rec.Body.String(); got != "form of "+tt.wantDir {
				t.Errorf("form %q rendered %q", tt.form, got)
			}
		})
	}
}

// TestOptionErrorsNameTheKeyOnce: an option error reads "KEY: what is
// wrong" (the loader adds file, line and plugin); it once read
// "form: form: open ..." and "rememberer_name: form: rememberer_name is
// required".
func TestOptionErrorsNameTheKeyOnce(t *testing.T) {
	t.Parallel()
	tkt, err := authtkt.New(authtkt.Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"missing template", Options{Rememberer: tkt, Form: filepath.Join(t.TempDir(), "nope.html")}, "form: open "},
		{"no rememberer", Options{}, "rememberer_name: is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want) || strings.Count(msg, "form:") > 1 || strings.Count(msg, "rememberer_name") > 1 {
				t.Errorf("error %q, want it to start with %q and name its key once", msg, tt.want)
			}
		})
	}
}
