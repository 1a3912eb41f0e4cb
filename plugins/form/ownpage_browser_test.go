package form

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gowho/gowho/internal/browsertest"
)

// loginPost is what the site saw of one POST to login_handler_path.
type loginPost struct {
	fetchSite, origin string
	status            int
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// reportPosts serves h and sends every login POST's Fetch Metadata and
// answer to posts.
func reportPosts(h http.Handler, posts chan<- loginPost) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/login_handler" {
			h.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		posts <- loginPost{r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin"), sw.status}
	})
}

// TestBrowserOwnLoginPage: with serve_form = false, the application's
// own login page (a Go handler rendering its own HTML, not gowho's) logs
// alice in through headless Chromium, both the documented template (with
// CSRFField) and a page without any token (what a static page or another
// framework posts): the challenge of /protected leads there, and the
// browser's same-origin POST to login_handler_path logs in and goes back.
// First, a page on another site (localhost, against the site's 127.0.0.1)
// that submits the same credentials to login_handler_path is refused
// (403) and logs nobody in. Without the fix (before the same-origin rule)
// both logins were refused with 403, the page not knowing the token.
func TestBrowserOwnLoginPage(t *testing.T) {
	ctx := browsertest.Start(t, 3*time.Minute)
	posts := make(chan loginPost, 8)
	nextPost := func(what string) loginPost {
		t.Helper()
		select {
		case p := <-posts:
			return p
		case <-ctx.Done():
			t.Fatalf("%s: the site saw no login POST", what)
			return loginPost{}
		}
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	body := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(s)
	}
	// waitBody waits (30 s at most) for a page whose text starts with
	// prefix, or for the form plugin's page with a message (a refusal).
	waitBody := func(prefix string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			return browsertest.WaitTrue(`!!document.body && (document.body.innerText.trim().startsWith(`+strconv.Quote(prefix)+`) || !!document.getElementById("message"))`,
				"the page never showed "+strconv.Quote(prefix))(ctx, tg)
		}
	}

	template := httptest.NewServer(reportPosts(ownPageChain(t, docTemplate(t)), posts))
	defer template.Close()
	tokenless := httptest.NewServer(reportPosts(ownPageChain(t, tokenlessPage), posts))
	defer tokenless.Close()

	// Another site submits the credentials: refused, nobody logged in.
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<form method="post" action="`+template.URL+`/login_handler">
<input name="login" value="alice"><input name="password" value="wonderland"><input name="came_from" value="/protected">
</form><script>document.forms[0].submit()</script>`)
	}))
	defer attacker.Close()
	step("cross-site POST", chromedp.Navigate(strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)))
	if p := nextPost("cross-site POST"); p.status != http.StatusForbidden || p.fetchSite != "cross-site" {
		t.Fatalf("cross-site POST (Sec-Fetch-Site %q, Origin %q): %d, want 403", p.fetchSite, p.origin, p.status)
	}
	step("after the cross-site POST", chromedp.Navigate(template.URL+"/"), waitBody("page /"))
	if b := body(); b != "page / user=" {
		t.Fatalf("a cross-site POST logged in: %q", b)
	}

	for _, site := range []struct {
		name string
		srv  *httptest.Server
	}{
		{"documented template", template},
		{"page without a token", tokenless},
	} {
		step(site.name+": challenge",
			chromedp.Navigate(site.srv.URL+"/protected?x=1"),
			chromedp.WaitVisible(chromedp.ID("password")))
		if l, _ := chromedp.Run(ctx, chromedp.Location()); l != site.srv.URL+"/login?came_from=%2Fprotected%3Fx%3D1" {
			t.Fatalf("%s: the challenge led to %s", site.name, l)
		}
		step(site.name+": log in",
			chromedp.SendKeys(chromedp.ID("login"), "alice"),
			chromedp.SendKeys(chromedp.ID("password"), "wonderland"),
			chromedp.Click(chromedp.ID("submit")),
			waitBody("page /protected"))
		p := nextPost(site.name)
		if p.status != http.StatusFound || p.fetchSite != "same-origin" || p.origin != site.srv.URL {
			t.Fatalf("%s: the page's POST (Sec-Fetch-Site %q, Origin %q) was answered %d, want 302", site.name, p.fetchSite, p.origin, p.status)
		}
		if b := body(); b != "page /protected user=alice" {
			t.Fatalf("%s: after the login: %q", site.name, b)
		}
		if l, _ := chromedp.Run(ctx, chromedp.Location()); l != site.srv.URL+"/protected?x=1" {
			t.Errorf("%s: landed on %s, want came_from", site.name, l)
		}
		// A typed logout URL logs out, for the next page's login.
		step(site.name+": log out", chromedp.Navigate(site.srv.URL+"/logout_handler"), waitBody("page /"))
		if b := body(); b != "page / user=" {
			t.Fatalf("%s: after the logout: %q", site.name, b)
		}
	}
}
