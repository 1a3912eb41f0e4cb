package form

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/internal/origin/origintest"
)

// FuzzLoginPost sends arbitrary login POSTs (body, content type, query,
// came_from) through the whole chain: never a panic or a 500, never a
// redirect off the site, never a login without the right password.
func FuzzLoginPost(f *testing.F) {
	f.Add("/login_handler", "login=alice&password=wonderland&came_from=%2Fp", "application/x-www-form-urlencoded", true)
	f.Add("/login_handler?login=alice&password=wonderland", "", "application/x-www-form-urlencoded", true)
	f.Add("/p?__do_login=true", "login=alice&password=x&_csrf=", "multipart/form-data; boundary=x", false)
	f.Add("/logout_handler?came_from=//evil", "came_from=%2F%2Fevil", "application/x-www-form-urlencoded", true)
	f.Add("/login_handler", "login=%zz", "application/x-www-form-urlencoded; charset=utf-8", true)
	hr := chain(f, Options{LoginFormURL: "/login"})
	hq := chain(f, Options{})
	rec := httptest.NewRecorder()
	hr.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	csrf := rec.Result().Cookies()[0]
	tok := tokenRE.FindStringSubmatch(rec.Body.String())[1]
	f.Fuzz(func(t *testing.T, target, body, ctype string, redirecting bool) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		h := hq
		if redirecting {
			h = hr
		}
		req, err := http.NewRequest("POST", "http://good.example"+target, strings.NewReader(strings.ReplaceAll(body, "TOKEN", tok)))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ctype)
		req.AddCookie(csrf)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q %q", rec.Code, target, body)
		}
		if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") {
			t.Fatalf("redirect off the site: %q", loc)
		}
		if loc := rec.Header().Get("Location"); strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
			t.Fatalf("redirect off the site: %q", loc)
		}
		if c := strings.Join(rec.Header()["Set-Cookie"], ";"); strings.Contains(c, "auth_tkt=\"") && !strings.Contains(c, "INVALID") &&
			!strings.Contains(body, "wonderland") {
			t.Fatalf("logged in without the password: %q %q", target, body)
		}
	})
}

// FuzzSelfAction: for any request path (as net/http parses it, or as a
// decoding router leaves it) the form-on-challenge action is a plain path
// a browser resolves on the page's own host.
func FuzzSelfAction(f *testing.F) {
	for _, p := range origintest.HostilePaths {
		f.Add(p, "a=1")
	}
	f.Add("/a/./b/../c", "")
	base, _ := url.Parse("http://good.example/")
	f.Fuzz(func(t *testing.T, path, query string) {
		for _, u := range []*url.URL{{Path: path, RawQuery: query}, parsedOrNil(path, query)} {
			if u == nil {
				continue
			}
			a := selfAction(u, "__do_login")
			if !strings.HasPrefix(a, "/") || strings.HasPrefix(a, "//") || strings.ContainsAny(a, "\\\t\r\n \x00") {
				t.Fatalf("selfAction(%q) = %q", path, a)
			}
			if p, _, _ := strings.Cut(a, "?"); strings.HasPrefix(origin.RemoveDotSegments(p), "//") {
				t.Fatalf("selfAction(%q) = %q: dot segments resolve to //", path, a)
			}
			if host, err := origintest.BrowserHost(base, a); err != nil || host != "good.example" {
				t.Fatalf("selfAction(%q) = %q resolves to %q (%v)", path, a, host, err)
			}
		}
	})
}

func parsedOrNil(path, query string) *url.URL {
	u, err := url.ParseRequestURI(path)
	if err != nil {
		return nil
	}
	u.RawQuery = query
	return u
}
