package oidctest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gowho/gowho/internal/browsertest"
	"github.com/gowho/gowho/oidctest/internal/provider"
)

// The browser helpers. internal/browsertest is importable here: Go's
// internal rule compares import paths, and this module's path is under
// github.com/gowho/gowho (as gopls imports golang.org/x/tools/internal).
// It skips without chromium unless GOWHO_REQUIRE_SERVERS=1.

// js quotes s as a JavaScript string literal.
func js(s string) string { return strconv.Quote(s) }

// bodyText reads the page's text.
func bodyText(ctx context.Context) (string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
}

// waitLoginPage waits until the tab shows the provider's login page.
func waitLoginPage(p *provider.Provider) chromedp.Action[chromedp.Void] {
	return browsertest.WaitTrue(
		fmt.Sprintf(`location.href.startsWith(%s) && document.getElementById("username") !== null`, js(p.Issuer+"/login/username")),
		"the provider's login page")
}

// logIn fills the provider's login form (already shown) and submits it.
func logIn(user, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SetValue(chromedp.ID("username"), user),
		chromedp.SetValue(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("submit")),
	)
}

// waitAt waits until the tab is at url and its text starts with prefix.
func waitAt(url, prefix string) chromedp.Action[chromedp.Void] {
	return browsertest.WaitTrue(
		fmt.Sprintf(`location.href === %s && document.body !== null && document.body.innerText.trim().startsWith(%s)`, js(url), js(prefix)),
		fmt.Sprintf("page %s showing %q", url, prefix))
}

// describe says where a tab is, for a failure message.
func describe(ctx context.Context) string {
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := bodyText(ctx)
	if len(body) > 300 {
		body = body[:300]
	}
	return fmt.Sprintf("at %s showing %q", loc, body)
}

// TestBrowserLoginReloadLogout: a protected page sends the browser to the
// provider's login page; after the password, the callback brings it back
// to the same page (query kept) logged in as the provider's subject; a
// reload stays logged in without a new visit to the provider; the logout
// path ends the gowho login and, by RP-initiated logout with the ID token
// as hint, the provider's session (its tokens deleted), and lands on the
// post-logout page; the protected page then asks the provider again.
func TestBrowserLoginReloadLogout(t *testing.T) {
	ctx := browsertest.Start(t, 2*time.Minute)
	p := provider.Start(t)
	s := newSite(t, p, nil)
	ended := p.SessionEnded()
	target := s.URL + "/private?x=1&y=%C3%A9"

	if err := chromedp.Do(ctx, chromedp.Navigate(target), waitLoginPage(p)); err != nil {
		t.Fatalf("the protected page did not lead to the provider: %v (%s)", err, describe(ctx))
	}
	if err := chromedp.Do(ctx, logIn("alice", "alice-pw"), waitAt(target, hello("u-alice"))); err != nil {
		t.Fatalf("login did not come back to the page: %v (%s)", err, describe(ctx))
	}

	before := p.AuthRequests()
	if err := chromedp.Do(ctx, chromedp.Reload(), waitAt(target, hello("u-alice"))); err != nil {
		t.Fatalf("reload lost the login: %v (%s)", err, describe(ctx))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/private"), waitAt(s.URL+"/private", hello("u-alice"))); err != nil {
		t.Fatalf("another page lost the login: %v (%s)", err, describe(ctx))
	}
	if n := p.AuthRequests(); n != before {
		t.Errorf("reloading went to the provider again (%d authorization requests, want %d)", n, before)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/oidc/logout"), waitAt(s.URL+"/", "home")); err != nil {
		t.Fatalf("logout did not end on the post-logout page: %v (%s)", err, describe(ctx))
	}
	if body, _ := bodyText(ctx); strings.TrimSpace(body) != "home" {
		t.Errorf("after logout the home page shows %q, want an anonymous \"home\"", body)
	}
	select {
	case sub := <-ended:
		if sub != "u-alice" {
			t.Errorf("the provider ended the session of %q, want u-alice", sub)
		}
	default:
		t.Errorf("the provider's session was not ended (RP-initiated logout); ended: %v", p.EndedSessions())
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(target), waitLoginPage(p)); err != nil {
		t.Fatalf("after logout the protected page did not ask the provider again: %v (%s)", err, describe(ctx))
	}
}

// TestBrowserTwoTabs: two tabs open protected pages together, each is sent
// to the provider with a flow of its own; both log in (the second tab
// first) and each comes back to its own page logged in.
func TestBrowserTwoTabs(t *testing.T) {
	ctx1 := browsertest.Start(t, 2*time.Minute)
	p := provider.Start(t)
	s := newSite(t, p, nil)
	ctx2, cancel := chromedp.NewContext(ctx1)
	defer cancel()
	t1, t2 := s.URL+"/private?tab=1", s.URL+"/private?tab=2"

	errs := make(chan error, 2)
	for _, tab := range []struct {
		ctx context.Context
		url string
	}{{ctx1, t1}, {ctx2, t2}} {
		go func() { errs <- chromedp.Do(tab.ctx, chromedp.Navigate(tab.url), waitLoginPage(p)) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a tab did not reach the provider: %v (tab 1 %s; tab 2 %s)", err, describe(ctx1), describe(ctx2))
		}
	}
	if err := chromedp.Do(ctx2, logIn("bob", "bob-pw"), waitAt(t2, hello("u-bob"))); err != nil {
		t.Fatalf("tab 2 did not complete: %v (%s)", err, describe(ctx2))
	}
	// Tab 1's flow started before tab 2's login: it still completes, and
	// its login (alice) replaces bob's in the shared cookie jar.
	if err := chromedp.Do(ctx1, logIn("alice", "alice-pw"), waitAt(t1, hello("u-alice"))); err != nil {
		t.Fatalf("tab 1 did not complete after tab 2: %v (%s)", err, describe(ctx1))
	}
}
