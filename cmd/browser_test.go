package whocmd

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gowho/gowho/internal/browsertest"
)

// TestBrowserLogin drives headless Chromium through the demo's two
// browser chains: examples/who.toml (the form plugin's login page, which
// sends came_from=/protected) and examples/redirector.toml (the redirector
// challenger and the demo app's own /login page, which get
// came_from=http://HOST/protected, absolute as in repoze.who). In each,
// /protected sends the browser to the login page, a wrong password shows it
// again, alice logs in and lands back on /protected, a reload keeps her
// logged in, logging out makes /protected challenge again.
func TestBrowserLogin(t *testing.T) {
	formConfig := "../examples/who.toml"
	if c := os.Getenv("GOWHO_BROWSER_CONFIG"); c != "" {
		formConfig = c // another demo configuration to drive
	}
	for _, tc := range []struct {
		name, config string
		cameFrom     func(srvURL string) string // the came_from the login page gets
		wrong        string                     // the message after a wrong password
		logout       string                     // the path that logs out
	}{
		{"form", formConfig, func(string) string { return "/protected" }, "Wrong login or password", "/logout_handler"},
		{"redirector", "../examples/redirector.toml", func(u string) string { return u + "/protected" }, "bad login", "/logout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			browserLogin(t, tc.config, tc.cameFrom, tc.wrong, tc.logout)
		})
	}
}

// browserLogin is one chain's walk of TestBrowserLogin.
func browserLogin(t *testing.T, cfg string, cameFrom func(string) string, wrong, logoutPath string) {
	handler, closeChain, err := newServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeChain()
	srv := httptest.NewServer(handler)
	defer srv.Close()

	ctx := browsertest.Start(t, 90*time.Second)

	loc := func() string {
		t.Helper()
		l, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	path := func() string {
		t.Helper()
		l := loc()
		u, err := url.Parse(l)
		if err != nil {
			t.Fatalf("bad location %q", l)
		}
		return u.Path
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v (at %s)", name, err, loc())
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	// bodyHas waits until the page's text holds s, across navigations
	// (a poll inside the page dies when the page goes away).
	bodyHas := func(s string) chromedp.Action[chromedp.Void] {
		return browsertest.WaitTrue(`!!(document.body && document.body.innerText.includes(`+strconv.Quote(s)+`))`,
			fmt.Sprintf("page never showed %q", s))
	}

	// 1. /protected sends the browser to the login page with came_from.
	step("open /protected",
		chromedp.Navigate(srv.URL+"/protected"),
		chromedp.WaitVisible(chromedp.ID("password")))
	if l := loc(); path() != "/login" || !strings.Contains(l, "came_from="+url.QueryEscape(cameFrom(srv.URL))) {
		t.Fatalf("landed on %s, want the login page with came_from=%s", l, cameFrom(srv.URL))
	}

	// A wrong password shows the page again with a message.
	step("wrong password",
		chromedp.SendKeys(chromedp.ID("login"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "not-the-password"),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("message")))
	if m := text("#message"); !strings.Contains(m, wrong) {
		t.Fatalf("message %q, want %q", m, wrong)
	}

	// 2. Type the demo user's password (examples/README.md) and submit;
	// the page kept the login, and the login goes back to /protected.
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("login").value`)); err != nil || v != "alice" {
		t.Fatalf("login field after a failure: %q, %v", v, err)
	}
	step("log in",
		chromedp.SendKeys(chromedp.ID("password"), "wonderland"),
		chromedp.Click(chromedp.ID("submit")),
		// Either demo page a login can land on: /protected or the
		// fallback "/".
		browsertest.WaitTrue(`!!(document.body && /^(protected: |hello, )/.test(document.body.innerText))`,
			"the login never reached a page of the demo app"))
	if p := path(); p != "/protected" {
		t.Fatalf("after login: at %s, want /protected (came_from lost)", loc())
	}
	step("protected page", bodyHas("protected: alice"))

	// 3. A reload is still logged in (the auth_tkt cookie).
	step("reload", chromedp.Reload(), bodyHas("protected: alice"))
	if p := path(); p != "/protected" {
		t.Fatalf("after reload: at %s", p)
	}

	// 4. Log out, then /protected challenges again.
	step("log out", chromedp.Navigate(srv.URL+logoutPath), bodyHas("hello, anonymous"))
	step("protected again",
		chromedp.Navigate(srv.URL+"/protected"),
		chromedp.WaitVisible(chromedp.ID("password")))
	if p := path(); p != "/login" {
		t.Fatalf("after logout /protected went to %s, want the login page", p)
	}
}
