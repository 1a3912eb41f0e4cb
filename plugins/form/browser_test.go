package form

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gowho/gowho/internal/browsertest"
	"github.com/gowho/gowho/internal/origin/origintest"
	"github.com/gowho/gowho/who"
)

// TestBrowserFormActionOrigin renders the form-on-challenge page for every
// hostile path in headless Chromium and reads document.forms[0].action as
// the browser resolved it: its origin must be the page's. Each path is
// tried three ways: navigated to directly (the browser normalizes it
// first, as a link would), and handed to the chain by a router that
// replaces r.URL with the raw request-URI or with the %-decoded path (so
// tabs, newlines and backslashes reach the plugin as they are). Without
// the fix "//evil.example/x" posted the password to http://evil.example.
func TestBrowserFormActionOrigin(t *testing.T) {
	ctx := browsertest.Start(t, 3*time.Minute)
	chain := chainWith(t, Options{}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	// No ServeMux in front: it would clean "//evil" into "/evil" with a
	// redirect, and the issue is the chain around the whole mux.
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("p")
		r2 := r.Clone(r.Context())
		switch r.URL.Path {
		case "/__raw":
			u, err := url.ParseRequestURI(p)
			if err != nil {
				http.Error(w, "not a request-URI", http.StatusTeapot)
				return
			}
			r2.URL, r2.RequestURI = u, p
		case "/__decoded":
			if d, err := url.PathUnescape(p); err == nil {
				p = d
			}
			r2.URL.Path, r2.URL.RawPath, r2.URL.RawQuery = p, "", ""
		}
		chain.ServeHTTP(w, r2)
	})
	srv := httptest.NewServer(front)
	defer srv.Close()

	type result struct {
		Origin string `json:"origin"`
		Action string `json:"action"`
		Page   string `json:"page"`
		Forms  int    `json:"forms"`
	}
	read := chromedp.Evaluate[result](`({
		origin: location.origin,
		page: location.href,
		forms: document.forms.length,
		action: document.forms.length ? document.forms[0].action : ""
	})`)
	for _, p := range origintest.HostilePaths {
		targets := map[string]string{
			"raw":     srv.URL + "/__raw?p=" + url.QueryEscape(p),
			"decoded": srv.URL + "/__decoded?p=" + url.QueryEscape(p),
		}
		if strings.HasPrefix(p, "/") && !strings.Contains(p, " ") {
			targets["direct"] = srv.URL + p
		}
		for how, target := range targets {
			name := how + " " + strconv.Quote(p)
			if err := chromedp.Do(ctx, chromedp.Navigate(target)); err != nil {
				t.Errorf("%s: navigate to %q: %v", name, target, err)
				continue
			}
			res, err := chromedp.Run(ctx, read)
			if err != nil {
				t.Errorf("%s: read the form: %v", name, err)
				continue
			}
			if res.Forms == 0 {
				if how == "raw" { // not a request-URI net/http would accept
					continue
				}
				t.Errorf("%s: no form on %s", name, res.Page)
				continue
			}
			a, err := url.Parse(res.Action)
			if err != nil || a.Scheme+"://"+a.Host != res.Origin || res.Origin != srv.URL {
				t.Errorf("%s: the form posts to %q, off the page's origin %s (page %s)", name, res.Action, res.Origin, res.Page)
				continue
			}
			t.Logf("%s: page %s posts to %s", name, res.Page, res.Action)
		}
	}
}

// TestBrowserLogoutCrossSite logs alice in with headless Chromium, then
// has a page on another site (localhost, against the site's 127.0.0.1)
// navigate the browser to logout_handler_path: she stays logged in and
// sees one button, whose same-origin POST logs her out. A logout link on
// the site itself logs out at once. Without the fix the cross-site
// navigation logged her out.
func TestBrowserLogoutCrossSite(t *testing.T) {
	ctx := browsertest.Start(t, 3*time.Minute)
	h := chainWith(t, Options{LoginFormURL: "/login"}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := who.UserID(r.Context())
		if user == "" {
			user = "anonymous"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<p id="user">user=`+user+`</p><a id="out" href="/logout_handler">Log out</a>`)
	}))
	site := httptest.NewServer(h)
	defer site.Close()
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<p>cat pictures</p><script>location = `+strconv.Quote(site.URL+"/logout_handler")+`</script>`)
	}))
	defer attacker.Close()
	attackerURL := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)

	user := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("user") ? document.getElementById("user").innerText : ""`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	login := func() {
		t.Helper()
		step("log in",
			chromedp.Navigate(site.URL+"/login"),
			chromedp.WaitVisible(chromedp.ID("password")),
			chromedp.SendKeys(chromedp.ID("login"), "alice"),
			chromedp.SendKeys(chromedp.ID("password"), "wonderland"),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("user")))
		if u := user(); u != "user=alice" {
			t.Fatalf("after login: %q", u)
		}
	}

	// landed waits until the browser has left the other site's page and
	// shows the logout button or the site's page, whichever comes.
	landed := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return browsertest.WaitTrue(`location.origin === `+strconv.Quote(site.URL)+` && !!(document.getElementById("logout") || document.getElementById("user"))`,
			"the browser never came back to the site")(ctx, tg)
	}

	login()
	// The other site sends the browser to the logout path: the button page.
	step("cross-site navigation", chromedp.Navigate(attackerURL), landed)
	if u := user(); u != "" {
		t.Fatalf("a cross-site navigation to the logout path logged out (page shows %q)", u)
	}
	if l, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(l, site.URL+"/logout_handler") {
		t.Fatalf("at %s, want the logout page", l)
	}
	step("back to the site", chromedp.Navigate(site.URL+"/"), chromedp.WaitVisible(chromedp.ID("user")))
	if u := user(); u != "user=alice" {
		t.Fatalf("a cross-site navigation logged out: %q", u)
	}
	// The button posts from the site: that logs out.
	step("cross-site again", chromedp.Navigate(attackerURL), chromedp.WaitVisible(chromedp.ID("logout")))
	step("press the button", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("user")))
	if u := user(); u != "user=anonymous" {
		t.Fatalf("after the button: %q", u)
	}
	// A logout link on the site logs out at once.
	login()
	step("same-origin link", chromedp.Click(chromedp.ID("out")), chromedp.WaitVisible(chromedp.ID("user")))
	if u := user(); u != "user=anonymous" {
		t.Fatalf("after the site's logout link: %q", u)
	}
}
