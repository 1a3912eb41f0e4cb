package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/who"
)

// No view of a path escapes the rules: every view is an absolute path
// without dot segments or "//", a path whose plain or folded resolution
// lands below /admin is never allowed to a non-member, whatever it holds,
// and a method override never makes a verdict more permissive than the
// request's own method gives.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"/public/../admin", "/public/%2e%2e/admin", "/public%2F..%2Fadmin", "/public/..;/admin",
		`/public\..\admin`, "//admin", "/admin//../public", "/public//../admin", "", "/%zz", "/a;b/../admin",
		"/ADMIN", "/admin./x", "/adm%C4%B1n", "/public/x.%20/../../admin"} {
		f.Add("GET", s, "")
	}
	f.Add("GET", "/public/x?_method=DELETE", "DELETE")
	f.Add("POST", "/public/x", "PUT, DELETE")
	c := &Config{Rules: []Rule{{Path: "/public", Methods: []string{"GET", "HEAD"}, Access: AccessPublic},
		{Path: "/admin", Groups: []string{"admins"}}, {Path: "/admin/open", Methods: []string{"POST"}, Access: AccessPublic}}}
	if err := c.check(); err != nil {
		f.Fatal(err)
	}
	bob := &who.Result{UserID: "bob", Identity: who.Identity{"groups": []string{"staff"}}}
	f.Fuzz(func(t *testing.T, method, path, override string) {
		views := matchPaths(path)
		for _, v := range views {
			if !strings.HasPrefix(v, "/") || strings.Contains(v, "//") || origin.RemoveDotSegments(v) != v {
				t.Fatalf("view %q of %q", v, path)
			}
		}
		m := c.Match(method, path)
		under := func(p string) bool {
			return (p == "/admin" || strings.HasPrefix(p, "/admin/")) && !strings.HasPrefix(p, "/admin/open")
		}
		plain := collapse(origin.RemoveDotSegments(collapse("/" + path)))
		if (under(plain) || under(views[4])) && m.Verdict(bob, DefaultGroupsKey) == Allow && !strings.EqualFold(method, "POST") {
			t.Fatalf("%q (%s) allowed to a non-member", path, m)
		}
		_ = m.String()
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.URL.RawPath, r.URL.Path = "", ""
		if u, err := url.ParseRequestURI(path); err == nil {
			r.URL = u
		}
		if override != "" {
			r.Header.Set("X-Http-Method-Override", override)
		}
		mr := c.MatchRequest(r)
		base := c.Match(method, r.URL.EscapedPath())
		for _, res := range []*who.Result{nil, bob} {
			if mr.Verdict(res, DefaultGroupsKey) < base.Verdict(res, DefaultGroupsKey) {
				t.Fatalf("%s %q with override %q: %s is more permissive than %s", method, path, override, mr, base)
			}
		}
		_ = mr.String()
	})
}

// Whatever the forwarding headers hold, the forward-auth endpoint answers
// 200, 302, 400, 401 or 403, never with an identity for an anonymous
// request, and never 200 for a path under /admin to an anonymous one.
func FuzzForwardAuth(f *testing.F) {
	f.Add("/admin", "GET", "app.example", "https", "")
	f.Add("/public/../admin", "", "a\r\nb", "ftp", "x")
	f.Add("http://evil/x", "G E T", "", "", "/public")
	f.Add("/public", "POST", "[::1]:8443", "HTTPS", "/admin")
	g, err := New(Config{Rules: []Rule{{Path: "/public", Access: AccessPublic}}}, Options{
		Wrap: func(h http.Handler) http.Handler {
			m, err := who.New(who.Config{Challengers: []who.Entry{{Name: "basic", Plugin: basicChallenger{}}}})
			if err != nil {
				panic(err)
			}
			return m.Wrap(h)
		},
		TrustedProxies: mustTrust(f, "192.0.2.1"),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, uri, method, host, proto, original string) {
		for _, nginx := range []bool{false, true} {
			req := httptest.NewRequest("GET", "/_who/auth", nil)
			req.RemoteAddr = "192.0.2.1:1234"
			set := func(k, v string) {
				if v != "" {
					req.Header[k] = []string{v}
				}
			}
			if nginx {
				set("X-Original-Uri", uri)
				set("X-Original-Method", method)
			} else {
				set("X-Forwarded-Uri", uri)
				set("X-Forwarded-Method", method)
			}
			set("X-Forwarded-Host", host)
			set("X-Forwarded-Proto", proto)
			set("X-Remote-User", original)
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			switch rec.Code {
			case 200, 302, 400, 401, 403:
			default:
				t.Fatalf("status %d", rec.Code)
			}
			if rec.Header().Get("X-Remote-User") != "" {
				t.Fatalf("anonymous answer carries X-Remote-User %q", rec.Header().Get("X-Remote-User"))
			}
			if rec.Code == 200 {
				p, _, _ := strings.Cut(uri, "?")
				if v := matchPaths(p); !strings.HasPrefix(v[0], "/public") {
					t.Fatalf("200 for %q (view %q)", uri, v[0])
				}
			}
		}
	})
}

// basicChallenger answers every challenge with a Basic 401.
type basicChallenger struct{}

func (basicChallenger) Challenge(*http.Request, int, http.Header, http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="fuzz"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

func mustTrust(tb testing.TB, cidrs ...string) who.TrustedProxies {
	tb.Helper()
	tp, err := who.ParseTrustedProxies(cidrs)
	if err != nil {
		tb.Fatal(err)
	}
	return tp
}

// Identity values: what passes has no control character, and a list
// item with a comma is refused rather than split.
func FuzzIdentityValue(f *testing.F) {
	f.Add("alice", "b")
	f.Add("a\r\nX-Injected: 1", "c,d")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, v := range []any{a, []string{a, b}, []any{a, b}} {
			s, ok := identityValue(v)
			if ok && badHeaderValue(s) {
				t.Fatalf("%q passed with a control character", s)
			}
			if ok && strings.Contains(a+b, ",") {
				if _, isStr := v.(string); !isStr {
					t.Fatalf("list %q with a comma passed as %q", v, s)
				}
			}
		}
	})
}

// plainPath's fast path agrees with matchPaths.
func FuzzPlainPath(f *testing.F) {
	for _, s := range []string{"/a/b", "/a/.b", "/a//b", "/a;b", "/a%2e", `/a\b`, "", "a", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !plainPath(p) {
			return
		}
		for _, v := range matchPaths(p) {
			if v != p {
				t.Fatalf("plain %q has the view %q", p, v)
			}
		}
	})
}
