package form

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gowho/gowho/internal/origin/origintest"
	"github.com/gowho/gowho/who"
)

var actionRE = regexp.MustCompile(`<form method="post" action="([^"]*)"`)

// formAction renders what h answers for r and returns the login form's
// action, unescaped.
func formAction(t *testing.T, h http.Handler, r *http.Request) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	m := actionRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("%q: no form in %d %s", r.URL.Path, rec.Code, rec.Body)
	}
	return html.UnescapeString(m[1])
}

// hostileRequests gives, for each hostile path, the requests a server can
// see: the request-URI as parsed by net/http (when it parses), and the
// %-decoded path a router that rewrites r.URL.Path leaves behind.
func hostileRequests(t *testing.T, method, query string) map[string]*http.Request {
	t.Helper()
	out := map[string]*http.Request{}
	for _, p := range origintest.HostilePaths {
		if u, err := url.ParseRequestURI(p); err == nil {
			r := httptest.NewRequest(method, "http://good.example/", nil)
			r.URL = u
			r.URL.RawQuery = query
			r.RequestURI = p
			out["raw "+strconv.Quote(p)] = r
		}
		dec, err := url.PathUnescape(p)
		if err != nil {
			dec = p
		}
		r := httptest.NewRequest(method, "http://good.example/", nil)
		r.URL.Path, r.URL.RawPath, r.URL.RawQuery = dec, "", query
		out["decoded "+strconv.Quote(p)] = r
	}
	return out
}

// TestFormActionStaysOnOrigin: in the form-on-challenge mode the form's
// action, for every hostile request path, is a path a browser resolves on
// the page's own host (never "//evil.example/x..."), both on the
// challenge and on the form shown again after a failed POST. Without the
// fix the action was the request URI: "//evil.example/x?__do_login=true".
func TestFormActionStaysOnOrigin(t *testing.T) {
	t.Parallel()
	h := chainWith(t, Options{}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized) // who.Require around the whole mux
	}))
	base, _ := url.Parse("http://good.example/")
	check := func(t *testing.T, action string) {
		t.Helper()
		if !strings.HasPrefix(action, "/") || strings.HasPrefix(action, "//") || strings.ContainsAny(action, "\\\t\r\n ") {
			t.Errorf("action %q is not a plain path", action)
		}
		if host, err := origintest.BrowserHost(base, action); err != nil || host != "good.example" {
			t.Errorf("action %q resolves to host %q (%v), want good.example", action, host, err)
		}
		if !strings.Contains(action, "__do_login=true") {
			t.Errorf("action %q lost the login flag", action)
		}
	}
	for name, r := range hostileRequests(t, "GET", "a=1") {
		t.Run("challenge "+name, func(t *testing.T) { check(t, formAction(t, h, r)) })
	}
	for name, r := range hostileRequests(t, "POST", "__do_login=true&a=1") {
		r.Body = io.NopCloser(strings.NewReader("login=alice&password=x"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		t.Run("refused POST "+name, func(t *testing.T) { check(t, formAction(t, h, r)) })
	}
}

// TestSelfActionKeepsOrdinaryPaths: ordinary paths post to themselves.
func TestSelfActionKeepsOrdinaryPaths(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ uri, want string }{
		{"/protected/page?a=1", "/protected/page?__do_login=true&a=1"},
		{"/", "/?__do_login=true"},
		{"/a%2Fb/c%20d", "/a%2Fb/c%20d?__do_login=true"},
		{"/a/./b/../c", "/a/c?__do_login=true"},
		{"/dir/", "/dir/?__do_login=true"},
	} {
		u, err := url.ParseRequestURI(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := selfAction(u, "__do_login"); got != tt.want {
			t.Errorf("selfAction(%q) = %q, want %q", tt.uri, got, tt.want)
		}
	}
}

// TestLoginCrossOrigin: a login POST from another origin is refused (403)
// even with a valid token and cookie; a same-origin one logs in. Without
// the fix the cross-site POST logged in (login CSRF when the token leaks,
// e.g. to a shared cache).
func TestLoginCrossOrigin(t *testing.T) {
	t.Parallel()
	h := chain(t, Options{LoginFormURL: "/login"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	tok, csrf := token(t, rec.Body.String()), rec.Result().Cookies()[0]
	for _, tt := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"other Origin", map[string]string{"Origin": "http://evil.example"}, 403},
		{"Origin null", map[string]string{"Origin": "null"}, 403},
		{"same-origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, 302},
		{"own Origin", map[string]string{"Origin": "http://good.example"}, 302},
		{"no header (curl)", nil, 302},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"login": {"alice"}, "password": {"wonderland"}, "_csrf": {tok}}
			req := httptest.NewRequest("POST", "http://good.example/login_handler", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(csrf)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || loggedIn(rec) != (tt.status == 302) {
				t.Fatalf("status %d (want %d), Set-Cookie %q", rec.Code, tt.status, rec.Header()["Set-Cookie"])
			}
		})
	}
}

func loggedIn(rec *httptest.ResponseRecorder) bool {
	c := strings.Join(rec.Header()["Set-Cookie"], "\n")
	return strings.Contains(c, "auth_tkt=") && !strings.Contains(c, "INVALID")
}

func loggedOut(rec *httptest.ResponseRecorder) bool {
	return strings.Contains(strings.Join(rec.Header()["Set-Cookie"], "\n"), `auth_tkt="INVALID"`)
}

// TestLoginWithoutServedForm: with serve_form = false (the application's
// own login page, which cannot know the token) a POST the browser marks
// same-origin logs in without the token; a cross-site one, or one with no
// Fetch Metadata or Origin at all, still needs it. When the plugin serves
// the form, the token is always needed. Without the fix every tokenless
// POST was refused.
func TestLoginWithoutServedForm(t *testing.T) {
	t.Parallel()
	off := false
	own := chain(t, Options{LoginFormURL: "/login", ServeForm: &off})
	sso := chain(t, Options{LoginFormURL: "https://good.example/app-login"})
	served := chain(t, Options{LoginFormURL: "/login"})
	for _, tt := range []struct {
		name    string
		h       http.Handler
		headers map[string]string
		status  int
	}{
		{"serve_form=false same-origin", own, map[string]string{"Sec-Fetch-Site": "same-origin"}, 302},
		{"serve_form=false own Origin", own, map[string]string{"Origin": "http://good.example"}, 302},
		{"serve_form=false absolute login_form_url same-origin", sso, map[string]string{"Sec-Fetch-Site": "same-origin"}, 302},
		{"serve_form=false cross-site", own, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"serve_form=false same-site", own, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"serve_form=false user-typed", own, map[string]string{"Sec-Fetch-Site": "none"}, 403},
		{"serve_form=false other Origin", own, map[string]string{"Origin": "http://evil.example"}, 403},
		{"serve_form=false Origin null", own, map[string]string{"Origin": "null"}, 403},
		{"serve_form=false other Origin, same-origin Referer", own, map[string]string{"Origin": "http://evil.example", "Referer": "http://good.example/login"}, 403},
		{"serve_form=false no header", own, nil, 403},
		{"served form same-origin", served, map[string]string{"Sec-Fetch-Site": "same-origin"}, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := "login=alice&password=wonderland&came_from=%2Fhome"
			req := httptest.NewRequest("POST", "http://good.example/login_handler", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req)
			if rec.Code != tt.status || loggedIn(rec) != (tt.status == 302) {
				t.Fatalf("status %d (want %d), Set-Cookie %q", rec.Code, tt.status, rec.Header()["Set-Cookie"])
			}
			if tt.status == 302 && rec.Header().Get("Location") != "/home" {
				t.Fatalf("Location %q", rec.Header().Get("Location"))
			}
		})
	}
}

// TestLogoutCrossSite: a cross-site GET of logout_handler_path does not
// log out but shows one button posting there (came_from kept when safe);
// a same-origin GET (a logout link on the site), a typed URL and curl
// still log out; a cross-origin POST is refused. Without the fix every GET
// and POST logged out.
func TestLogoutCrossSite(t *testing.T) {
	t.Parallel()
	h := chain(t, Options{LoginFormURL: "/login", PostLogoutURL: "/bye"})
	for _, tt := range []struct {
		name    string
		method  string
		headers map[string]string
		logout  bool
		status  int
	}{
		{"GET cross-site", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 200},
		{"GET same-site", "GET", map[string]string{"Sec-Fetch-Site": "same-site"}, false, 200},
		{"GET other Referer", "GET", map[string]string{"Referer": "http://evil.example/page"}, false, 200},
		{"GET other Origin", "GET", map[string]string{"Origin": "http://evil.example"}, false, 200},
		{"HEAD cross-site", "HEAD", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 200},
		{"GET same-origin", "GET", map[string]string{"Sec-Fetch-Site": "same-origin", "Referer": "http://good.example/"}, true, 302},
		{"GET typed URL", "GET", map[string]string{"Sec-Fetch-Site": "none"}, true, 302},
		{"GET own Referer", "GET", map[string]string{"Referer": "http://good.example/page"}, true, 302},
		{"GET curl", "GET", nil, true, 302},
		{"POST cross-site", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 403},
		{"POST other Origin", "POST", map[string]string{"Origin": "http://evil.example"}, false, 403},
		{"DELETE cross-site", "DELETE", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 403},
		{"POST same-origin", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, true, 302},
		{"POST curl", "POST", nil, true, 302},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, "http://good.example/logout_handler?came_from=%2Fafter", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || loggedOut(rec) != tt.logout {
				t.Fatalf("status %d (want %d), logged out %v (want %v): %q", rec.Code, tt.status, loggedOut(rec), tt.logout, rec.Header())
			}
			if tt.logout {
				if loc := rec.Header().Get("Location"); loc != "/after" {
					t.Fatalf("Location %q", loc)
				}
				return
			}
			if tt.method == "GET" {
				b := rec.Body.String()
				if !strings.Contains(b, `<form method="post" action="/logout_handler">`) || !strings.Contains(b, `name="came_from" value="/after"`) ||
					!strings.Contains(b, `id="logout"`) {
					t.Fatalf("no logout button: %s", b)
				}
				if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Cache-Control") != "no-store" {
					t.Fatalf("headers %q", rec.Header())
				}
			}
		})
	}
	// The button's page never carries a hostile came_from.
	req := httptest.NewRequest("GET", "http://good.example/logout_handler?came_from=%2F%2Fevil.example", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "evil") {
		t.Fatalf("hostile came_from on the logout page: %s", rec.Body)
	}
}

// counting counts the authenticator calls and the longest password seen.
type counting struct {
	calls, longest atomic.Int64
}

func (c *counting) Authenticate(r *http.Request, id who.Identity) (string, error) {
	pw := id.Str(who.KeyPassword)
	if pw == "" {
		return "", nil // the auth_tkt identity
	}
	c.calls.Add(1)
	if n := int64(len(pw)); n > c.longest.Load() {
		c.longest.Store(n)
	}
	if id.Str(who.KeyLogin) == "alice" && strings.Trim(pw, "w") == "" {
		return "alice", nil
	}
	return "", nil
}

// postLogin fetches the login form at /login of h, as a browser does, and
// posts form to /login_handler with the form's CSRF token and cookie.
func postLogin(t *testing.T, h http.Handler, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	form.Set(FieldCSRF, token(t, rec.Body.String()))
	req := httptest.NewRequest("POST", "/login_handler", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(rec.Result().Cookies()[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestLoginBounds: the POST body is bounded by max_body_bytes (413), a
// password over max_password_bytes is "wrong" without reaching any
// authenticator, one at the bound is passed on. Without the fix the
// options did not exist and a 100 KiB password went to the authenticator.
func TestLoginBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		o        Options
		password int
		pad      int // extra body bytes
		status   int
		calls    int64
	}{
		{"default at the bound", Options{}, who.DefaultMaxPasswordBytes, 0, 302, 1},
		{"default over the bound", Options{}, who.DefaultMaxPasswordBytes + 1, 0, 200, 0},
		{"default 60 KiB password", Options{}, 60 << 10, 0, 200, 0},
		{"max_password_bytes 8 at", Options{MaxPasswordBytes: 8}, 8, 0, 302, 1},
		{"max_password_bytes 8 over", Options{MaxPasswordBytes: 8}, 9, 0, 200, 0},
		{"max_body_bytes 512 under", Options{MaxBodyBytes: 512}, 16, 300, 302, 1},
		{"max_body_bytes 512 over", Options{MaxBodyBytes: 512}, 16, 600, 413, 0},
		{"default body over 64 KiB", Options{MaxPasswordBytes: 1 << 20}, 16, 64 << 10, 413, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			auth := &counting{}
			o := tt.o
			o.LoginFormURL = "/login"
			h := chainWith(t, o, auth, http.NotFoundHandler())
			rec := postLogin(t, h, url.Values{"login": {"alice"}, "password": {strings.Repeat("w", tt.password)}, "pad": {strings.Repeat("p", tt.pad)}})
			if rec.Code != tt.status || auth.calls.Load() != tt.calls {
				t.Fatalf("status %d (want %d), authenticator calls %d (want %d), longest password passed %d",
					rec.Code, tt.status, auth.calls.Load(), tt.calls, auth.longest.Load())
			}
			if tt.status == 200 && !strings.Contains(rec.Body.String(), MsgFailed) {
				t.Fatalf("no %q: %s", MsgFailed, rec.Body)
			}
			if tt.status == 413 && !strings.Contains(rec.Body.String(), MsgTooLarge) {
				t.Fatalf("no %q: %s", MsgTooLarge, rec.Body)
			}
		})
	}
}

var maxAgeRE = regexp.MustCompile(`auth_tkt="?[^;]*;.*Max-Age=(\d+)`)

// TestRememberCapped: the form's remember field (seconds) is capped at
// max_remember (default 30 days). Without the fix 630720000 (20 years)
// went through as the ticket cookie's Max-Age.
func TestRememberCapped(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		o        Options
		remember string
		want     string // the auth_tkt cookie's Max-Age, "" for none
	}{
		{"20 years", Options{}, "630720000", "2592000"},
		{"int64 max", Options{}, "9223372036854775807", "2592000"},
		{"one hour", Options{}, "3600", "3600"},
		{"30 days", Options{}, "2592000", "2592000"},
		{"max_remember 1h", Options{MaxRemember: who.Duration(3600e9)}, "7200", "3600"},
		{"negative", Options{}, "-5", ""},
		{"overflow", Options{}, "99999999999999999999", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.o
			o.LoginFormURL = "/login"
			rec := postLogin(t, chain(t, o), url.Values{"login": {"alice"}, "password": {"wonderland"}, "remember": {tt.remember}})
			if rec.Code != 302 {
				t.Fatalf("status %d", rec.Code)
			}
			got := ""
			for _, c := range rec.Header()["Set-Cookie"] {
				if m := maxAgeRE.FindStringSubmatch(c); m != nil {
					got = m[1]
				}
			}
			if got != tt.want {
				t.Fatalf("Max-Age %q, want %q: %q", got, tt.want, rec.Header()["Set-Cookie"])
			}
		})
	}
}

// TestPageHeaders: every page the plugin renders (the login form in both
// modes, the form shown again after a refused POST, the cross-site logout
// button) is HTML that is never stored or framed.
func TestPageHeaders(t *testing.T) {
	t.Parallel()
	redirecting := chain(t, Options{LoginFormURL: "/login"})
	onChallenge := chainWith(t, Options{}, nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	refused := httptest.NewRequest("POST", "/login_handler", strings.NewReader("login=alice&password=x"))
	refused.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	crossLogout := httptest.NewRequest("GET", "/logout_handler", nil)
	crossLogout.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, tt := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		csp  bool // frame-ancestors 'none' too
	}{
		{"login form", redirecting, httptest.NewRequest("GET", "/login", nil), false},
		{"form on challenge", onChallenge, httptest.NewRequest("GET", "/app", nil), false},
		{"refused POST", redirecting, refused, false},
		{"cross-site logout button", redirecting, crossLogout, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, tt.r)
			h := rec.Header()
			if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" {
				t.Fatalf("%d, headers %q", rec.Code, h)
			}
			if got := h.Get("Content-Security-Policy") == "frame-ancestors 'none'"; got != tt.csp {
				t.Fatalf("frame-ancestors 'none': %v, want %v (%q)", got, tt.csp, h)
			}
		})
	}
}
