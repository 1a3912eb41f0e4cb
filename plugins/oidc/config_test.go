package oidc

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"

	_ "github.com/gowho/gowho/plugins/authtkt"
	_ "github.com/gowho/gowho/plugins/sessionid"
	_ "github.com/gowho/gowho/session/sessionplugin"
)

// Two providers at once: the first challenger, with choose, shows a page
// listing both; each link logs in with its provider and comes back.
func TestChooser(t *testing.T) {
	fp1, fp2 := newFakeProvider(t), newFakeProvider(t)
	fp2.set(func(fp *fakeProvider) { fp.user = "bob" })
	o1, o2 := fp1.opts(), fp2.opts()
	o1.Name, o1.Label, o1.Choose = "corp", "Corp login", []string{"social"}
	o2.Name, o2.Label = "social", "Social login"
	o2.CallbackPath, o2.LoginPath, o2.LogoutPath = "/oidc/social/callback", "/oidc/social/login", "/oidc/social/logout"
	s := newSite(t, siteOptions{}, o1, o2)
	for i, user := range []string{"alice", "bob"} {
		b := newBrowser(t)
		p := b.get(s.srv.URL + "/protected/page")
		if p.status != 200 || !strings.Contains(p.body, "Corp login") || !strings.Contains(p.body, "Social login") {
			t.Fatalf("chooser: %d %q", p.status, p.body)
		}
		links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(p.body, -1)
		if len(links) != 2 {
			t.Fatalf("chooser links: %q", links)
		}
		link := strings.ReplaceAll(links[i][1], "&amp;", "&")
		got := b.follow(s.srv.URL + link)
		if !strings.Contains(got.body, "page /protected/page user="+user) {
			t.Errorf("provider %d: landed on %q", i, got.body)
		}
	}
}

// Two oidc plugins sharing a path is an error on that key.
func TestDuplicatePaths(t *testing.T) {
	a, err := New(withRem(Options{Issuer: "https://a.example", ClientID: "x"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(withRem(Options{Issuer: "https://b.example", ClientID: "x", LoginPath: "/b/login", LogoutPath: "/b/logout"}))
	if err != nil {
		t.Fatal(err)
	}
	err = a.Resolve(map[string]any{"a": a, "b": b})
	var oe *who.OptionError
	if !errors.As(err, &oe) || oe.Key != "callback_path" || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("Resolve with a shared callback_path: %v", err)
	}
}

// Bad options are errors on their key, with what to do.
func TestOptionErrors(t *testing.T) {
	ok := Options{Issuer: "https://idp.example", ClientID: "gowho", RemembererName: "tkt"}
	for _, tc := range []struct {
		name string
		edit func(o *Options)
		key  string
		want string
	}{
		{"no issuer", func(o *Options) { o.Issuer = "" }, "issuer", "is required"},
		{"issuer not a URL", func(o *Options) { o.Issuer = "idp.example" }, "issuer", "not an http(s) URL"},
		{"no client", func(o *Options) { o.ClientID = "" }, "client_id", "is required"},
		{"no rememberer", func(o *Options) { o.RemembererName = "" }, "rememberer_name", "is required"},
		{"relative redirect", func(o *Options) { o.RedirectURL = "/cb" }, "redirect_url", "absolute"},
		{"redirect vs callback", func(o *Options) { o.RedirectURL = "https://site.example/cb"; o.CallbackPath = "/other" }, "redirect_url", "callback_path"},
		{"bad path", func(o *Options) { o.LoginPath = "//evil" }, "login_path", "one /"},
		{"same paths", func(o *Options) { o.LogoutPath = DefaultCallbackPath }, "logout_path", "also callback_path"},
		{"bad cookie prefix", func(o *Options) { o.CookiePrefix = "a b" }, "cookie_prefix", "cookie name"},
		{"negative timeout", func(o *Options) { o.HTTPTimeout = -1 }, "http_timeout", "negative"},
		{"backchannel without session", func(o *Options) { o.BackchannelLogoutPath = "/bc" }, "backchannel_logout_path", "session_name"},
		{"short secret", func(o *Options) { o.CookieSecret = "short" }, "cookie_secret", "16 bytes"},
		{"bad scope", func(o *Options) { o.Scopes = []string{"a b"} }, "scopes", "not a scope"},
		{"bad claim", func(o *Options) { o.Claims = &[]string{"password"} }, "claims", "cannot copy"},
		{"max_age claim", func(o *Options) { o.Claims = &[]string{"max_age"} }, "claims", "cannot copy"},
		{"chain key claim", func(o *Options) { o.Claims = &[]string{"repoze.who.userid"} }, "claims", "cannot copy"},
		{"nonce as userid", func(o *Options) { o.UserIDClaim = "nonce" }, "userid_claim", "names no user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			_, err := New(o)
			var oe *who.OptionError
			if !errors.As(err, &oe) || oe.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error on %s with %q", err, tc.key, tc.want)
			}
		})
	}
	// The redirect_url's path becomes callback_path.
	o := ok
	o.RedirectURL = "https://site.example/auth/cb"
	p, err := New(o)
	if err != nil || p.o.CallbackPath != "/auth/cb" {
		t.Fatalf("callback_path from redirect_url: %v %q", err, p.o.CallbackPath)
	}
}

// The registered factory builds through the real loader, with its
// references (rememberer, session manager) resolved; the provider is not
// contacted while loading, and the client secret is not in any error.
func TestRegistered(t *testing.T) {
	factory, _, err := who.DefaultRegistry.Factory("oidc")
	if err != nil {
		t.Fatal(err)
	}
	p, err := whotest.Build(t, factory, `issuer = "http://127.0.0.1:1/never-contacted"
client_id = "gowho"
client_secret = "s3cret-value"
rememberer_name = "sid"
session_name = "sessions"
backchannel_logout_path = "/oidc/backchannel"
scopes = ["openid", "offline_access"]
claims = ["email"]
flow_timeout = "5m"

[plugin.sessions]
use = "session"
store = "memory"

[plugin.sid]
use = "sessionid"
`)
	if err != nil {
		t.Fatal(err)
	}
	op := p.(*Plugin)
	if op.sm == nil || op.rem == nil {
		t.Fatalf("references not resolved: %+v", op)
	}
	if got := strings.Join(op.scopes, " "); got != "openid offline_access" {
		t.Errorf("scopes %q", got)
	}
	// Identify never returns an identity: the login ends in the
	// callback's own handler, through LoginAs.
	if id, err := op.Identify(httptestRequest("GET", "/anything")); id != nil || err != nil {
		t.Errorf("Identify on a plain path: %v %v", id, err)
	}

	_, err = whotest.Build(t, factory, `issuer = "https://idp.example"
client_id = "gowho"
client_secret = "s3cret-value"
rememberer_name = "nobody"
`)
	if err == nil || strings.Contains(err.Error(), "s3cret-value") {
		t.Fatalf("a missing rememberer: %v", err)
	}
}

// A cookie-store session keeps the tokens in the cookie: Validate warns
// (who check counts it) and names the fix.
func TestCookieStoreWarning(t *testing.T) {
	cs, err := cookiestore.New(cookiestore.Options{Secret: strings.Repeat("k", 32)})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := session.New(session.Options{Store: cs})
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := whotest.Logger(t)
	p, err := New(Options{Issuer: "https://idp.example", ClientID: "c", Rememberer: nopRem{}, SessionManager: sm, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), `store = \"memory\"`) {
		t.Fatalf("no warning naming the fix:\n%s", logs.String())
	}
}
