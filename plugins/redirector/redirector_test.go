package redirector

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/internal/origin/origintest"
	"github.com/gowho/gowho/who"
)

func ptr(s string) *string { return &s }

func TestLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		o      Options
		target string
		reason string
		want   string
	}{
		{"defaults", Options{LoginURL: "/login"}, "/protected", "login required",
			"/login?reason=login+required&came_from=http%3A%2F%2F127.0.0.1%3A8765%2Fprotected"},
		{"repoze demo absolute", Options{LoginURL: "http://127.0.0.1:8765/login"}, "/protected", "login required",
			"http://127.0.0.1:8765/login?reason=login+required&came_from=http%3A%2F%2F127.0.0.1%3A8765%2Fprotected"},
		{"no reason header", Options{LoginURL: "/login"}, "/p?x=1&y=a+b", "",
			"/login?came_from=http%3A%2F%2F127.0.0.1%3A8765%2Fp%3Fx%3D1%26y%3Da%2Bb"},
		{"path requoted as repoze", Options{LoginURL: "/login"}, "/a%20b", "",
			"/login?came_from=http%3A%2F%2F127.0.0.1%3A8765%2Fa%2520b"},
		{"existing query first", Options{LoginURL: "/login?lang=fr&x=1"}, "/p", "why",
			"/login?lang=fr&x=1&reason=why&came_from=http%3A%2F%2F127.0.0.1%3A8765%2Fp"},
		{"repoze make_plugin defaults (None)", Options{LoginURL: "/login", CameFromParam: ptr(""), ReasonParam: ptr("")}, "/p", "why",
			"/login"},
		{"custom names", Options{LoginURL: "/login", CameFromParam: ptr("next"), ReasonParam: ptr("why"), ReasonHeader: ptr("X-Why")}, "/p", "",
			"/login?next=http%3A%2F%2F127.0.0.1%3A8765%2Fp"},
		{"relative login_url", Options{LoginURL: "login", CameFromParam: ptr("")}, "/app/protected", "", "/app/login"},
		{"relative login_url up", Options{LoginURL: "../login", CameFromParam: ptr("")}, "/app/sub/page", "", "/app/login"},
		{"relative login_url from dir", Options{LoginURL: "login", CameFromParam: ptr("")}, "/app/", "", "/app/login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := New(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "http://127.0.0.1:8765"+tt.target, nil)
			app := http.Header{}
			if tt.reason != "" {
				app.Set(DefaultReasonHeader, tt.reason)
			}
			if got := p.Location(r, app); got != tt.want {
				t.Fatalf("Location\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCustomReasonHeader(t *testing.T) {
	t.Parallel()
	p, _ := New(Options{LoginURL: "/l", CameFromParam: ptr(""), ReasonParam: ptr("why"), ReasonHeader: ptr("X-Why")})
	r := httptest.NewRequest("GET", "/p", nil)
	if got := p.Location(r, http.Header{"X-Why": {"no"}, DefaultReasonHeader: {"ignored"}}); got != "/l?why=no" {
		t.Fatal(got)
	}
}

func TestChallengeHeaders(t *testing.T) {
	t.Parallel()
	p, _ := New(Options{LoginURL: "/login", CameFromParam: ptr("")})
	app := http.Header{"Set-Cookie": {"app=1"}, "X-Other": {"dropped"}, DefaultReasonHeader: {"login required"}}
	forget := http.Header{"Set-Cookie": {`auth_tkt="INVALID"; Path=/; Max-Age=0`}}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/protected", nil)
	p.Challenge(r, 401, app, forget).ServeHTTP(rec, r)
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d", rec.Code)
	}
	want := []string{`auth_tkt="INVALID"; Path=/; Max-Age=0`, "app=1"}
	if diff := cmp.Diff(want, rec.Header()["Set-Cookie"]); diff != "" {
		t.Fatal(diff)
	}
	if rec.Header().Get("Location") != "/login?reason=login+required" || rec.Header().Get("X-Other") != "" {
		t.Fatalf("headers %q", rec.Header())
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		o   Options
		key string
	}{
		{Options{}, "login_url"},
		{Options{LoginURL: "/l\r\nX: y"}, "login_url"},
		{Options{LoginURL: "//@"}, "login_url"},
		{Options{LoginURL: "https://user:pw@sso.example/login"}, "login_url"},
		{Options{LoginURL: "///login"}, "login_url"},
		{Options{LoginURL: "http:////evil.example/login"}, "login_url"},
		{Options{LoginURL: "https://sso.example/%zz"}, "login_url"},
		{Options{LoginURL: "/l", ReasonParam: ptr(""), ReasonHeader: ptr("X-Why")}, "reason_header"},
	} {
		_, err := New(tt.o)
		var oe *who.OptionError
		if !errors.As(err, &oe) || oe.Key != tt.key || !strings.HasPrefix(oe.Err.Error(), "redirector: ") {
			t.Errorf("New(%+v) = %v, want OptionError %q", tt.o, err, tt.key)
		}
	}
	if _, err := New(Options{LoginURL: "/l"}); !errors.Is(err, nil) {
		t.Fatal(err)
	}
}

func TestFactory(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"redirector", "repoze.who.plugins.redirector:make_plugin"} {
		f, canon, err := who.DefaultRegistry.Factory(name)
		if err != nil || canon != "redirector" {
			t.Fatal(name, err)
		}
		pl, err := f(who.PluginSpec{Decode: func(v any) error { v.(*Options).LoginURL = "/login"; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pl.(who.Challenger); !ok {
			t.Fatal("not a challenger")
		}
	}
}

// TestThroughMiddleware: an anonymous 401 from the handler becomes the
// redirect, with the handler's cookie kept and its body dropped.
func TestThroughMiddleware(t *testing.T) {
	t.Parallel()
	p, _ := New(Options{LoginURL: "/login"})
	m, err := who.New(who.Config{Challengers: []who.Entry{{Name: "redirector", Plugin: p, Classifications: []string{"browser"}}}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "flash=1")
		w.Header().Set(DefaultReasonHeader, "login required")
		w.WriteHeader(401)
		w.Write([]byte("secret body"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(srv.URL + "/protected?a=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "/login?reason=login+required&came_from=" + strings.ReplaceAll(strings.ReplaceAll(srv.URL, ":", "%3A"), "/", "%2F") + "%2Fprotected%3Fa%3D1"
	if resp.StatusCode != 302 || resp.Header.Get("Location") != want || resp.Header.Get("Set-Cookie") != "flash=1" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header)
	}
}

// TestLocationStaysOnSite: a login_url without a host (query-only,
// fragment-only, relative) never gives a Location a browser reads as
// another host, whatever the request path. Without the fix a query-only
// login_url at "//evil.example/x" sent "Location: //evil.example/x?...".
func TestLocationStaysOnSite(t *testing.T) {
	t.Parallel()
	parsed := 0
	logins := []string{"?login=1", "#top", "?", "login", "../login", "./", "login/"}
	for _, lu := range logins {
		p, err := New(Options{LoginURL: lu, CameFromParam: ptr(""), ReasonParam: ptr("")})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range origintest.HostilePaths {
			r := httptest.NewRequest("GET", "http://good.example/", nil)
			u, err := url.ParseRequestURI(path)
			if err != nil {
				continue // net/http would not accept this request-URI
			}
			parsed++
			r.URL = u
			for name, req := range map[string]*http.Request{"raw": r, "decoded": decoded(r)} {
				loc := p.Location(req, http.Header{})
				if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\t\r\n ") {
					t.Errorf("login_url %q, %s path %q: Location %q", lu, name, path, loc)
					continue
				}
				ref, err := url.Parse(loc)
				if err != nil || r.URL.ResolveReference(ref).Host != "" && r.URL.ResolveReference(ref).Host != r.URL.Host {
					t.Errorf("login_url %q, %s path %q: Location %q leaves the site", lu, name, path, loc)
				}
			}
		}
	}
	if parsed < 20*len(logins) {
		t.Fatalf("only %d of the hostile paths parsed as request-URIs", parsed/len(logins))
	}
	for _, tt := range []struct{ login, path, want string }{
		{"?login=1", "//evil.example/x", "/evil.example/x?login=1"},
		{"?login=1", "/app/page", "/app/page?login=1"},
		{"?login=1", "/a%2Fb/c", "/a%2Fb/c?login=1"},
		{"?login=1", "/.//evil.example", "/evil.example?login=1"},
		{"#top", "//evil.example/x", "/evil.example/x#top"},
		{"?login=1", "/%2F%2Fevil.example", "/%2F%2Fevil.example?login=1"},
	} {
		p, _ := New(Options{LoginURL: tt.login, CameFromParam: ptr("")})
		r := httptest.NewRequest("GET", "http://good.example/", nil)
		r.URL, _ = url.ParseRequestURI(tt.path)
		if got := p.Location(r, http.Header{}); got != tt.want {
			t.Errorf("login_url %q at %q: Location %q, want %q", tt.login, tt.path, got, tt.want)
		}
	}
}

// decoded returns r as a router that decodes r.URL.Path leaves it.
func decoded(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.RawPath = ""
	return r2
}

// FuzzLocation: with a login_url without a host, the Location for any
// request path is a path on this site, never "//host" or "/\host".
func FuzzLocation(f *testing.F) {
	for _, path := range origintest.HostilePaths {
		f.Add("?login=1", path, false)
	}
	f.Add("?login=1", "//evil.example/x", false)
	f.Add("#top", "/%2F%2Fevil.example", true)
	f.Add("login", "/.//evil.example/x", false)
	f.Add("../login", "/a/..//evil.example", true)
	f.Fuzz(func(t *testing.T, login, path string, decode bool) {
		p, err := New(Options{LoginURL: login, CameFromParam: ptr(""), ReasonParam: ptr("")})
		if err != nil || p.login.Scheme != "" || p.login.Host != "" || p.login.Opaque != "" || strings.HasPrefix(p.login.Path, "/") {
			return // absolute login_url: the operator's choice
		}
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return
		}
		r := httptest.NewRequest("GET", "http://good.example/", nil)
		r.URL = u
		if decode {
			r = decoded(r)
		}
		loc := p.Location(r, http.Header{})
		locPath, _, _ := strings.Cut(loc, "?")
		locPath, _, _ = strings.Cut(locPath, "#")
		if strings.HasPrefix(loc, "//") || strings.ContainsAny(locPath, "\\") || strings.ContainsAny(loc, "\t\r\n") {
			t.Fatalf("login_url %q at %q: Location %q", login, path, loc)
		}
		if ref, err := url.Parse(loc); err == nil && ref.Host != "" {
			t.Fatalf("login_url %q at %q: Location %q has a host", login, path, loc)
		}
	})
}

// TestCameFromWithoutHost: an HTTP/1.0 request without a Host header, over
// a real listener, gets came_from on the server's own address. Without the
// fix it was "http:///protected", which no login page can go back to.
func TestCameFromWithoutHost(t *testing.T) {
	t.Parallel()
	p, _ := New(Options{LoginURL: "/login"})
	m, err := who.New(who.Config{Challengers: []who.Entry{{Name: "redirector", Plugin: p}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	resp, _ := origintest.RawRequest(t, addr, "GET /protected?x=1 HTTP/1.0\r\n\r\n")
	want := "/login?came_from=" + url.QueryEscape("http://"+addr+"/protected?x=1")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		t.Fatalf("HTTP/1.0 without Host: %d, Location %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// TestCameFromBehindTLSProxy: behind a proxy listed in trusted_proxies
// that says the request came over HTTPS (X-Forwarded-Proto, Forwarded),
// came_from is https, the scheme origin.SafeRedirect then requires of it.
// Without the fix it was http://, which the login page refused: the user
// landed on its fallback. The same header from a peer that is not a
// trusted proxy leaves came_from http (and the login page, which believes
// an https claim only to refuse more, refuses it).
func TestCameFromBehindTLSProxy(t *testing.T) {
	t.Parallel()
	p, _ := New(Options{LoginURL: "/login", ReasonParam: ptr("")})
	tp, err := who.ParseTrustedProxies([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	through := func(r *http.Request, remote string) *http.Request {
		r.RemoteAddr = remote
		return r.WithContext(who.WithOrigin(r.Context(), tp.Resolve(r)))
	}
	for _, h := range [][2]string{{"X-Forwarded-Proto", "https"}, {"Forwarded", "for=192.0.2.1;proto=https"}} {
		for _, tc := range []struct {
			remote, want string
		}{{"127.0.0.1:4000", "https://good.example/protected"}, {"192.0.2.9:4000", "http://good.example/protected"}} {
			r := httptest.NewRequest("GET", "http://good.example/protected", nil)
			r.Header.Set(h[0], h[1])
			loc, err := url.Parse(p.Location(through(r, tc.remote), http.Header{}))
			if err != nil {
				t.Fatal(err)
			}
			cameFrom := loc.Query().Get("came_from")
			if cameFrom != tc.want {
				t.Errorf("%s: %s from %s: came_from %q, want %s", h[0], h[1], tc.remote, cameFrom, tc.want)
			}
			// The login POST comes through the same proxy.
			login := httptest.NewRequest("POST", "http://good.example/login", nil)
			login.Header.Set(h[0], h[1])
			want := cameFrom
			if !strings.HasPrefix(cameFrom, "https:") {
				want = "/"
			}
			if got := origin.SafeRedirect(through(login, tc.remote), cameFrom, nil, "/"); got != want {
				t.Errorf("%s: %s from %s: the login page goes to %q, want %q", h[0], h[1], tc.remote, got, want)
			}
		}
	}
}
