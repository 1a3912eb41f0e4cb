package oidctest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gowho/gowho/oidctest/internal/provider"
	oidcplugin "github.com/gowho/gowho/plugins/oidc"
)

// A browser without a browser: an http.Client with a cookie jar that stops
// before the provider's redirect reaches the site's callback, so a test
// can tamper with it or play it twice.

type agent struct {
	t    *testing.T
	jar  *cookiejar.Jar
	c    *http.Client
	site *site
}

func newAgent(t *testing.T, s *site) *agent {
	jar, _ := cookiejar.New(nil)
	a := &agent{t: t, jar: jar, site: s}
	a.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return errors.New("more than 10 redirects")
		}
		if strings.HasPrefix(r.URL.String(), s.URL+"/oidc/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return a
}

// get fetches u (following redirects short of the callback) and returns
// the last response's status, URL and body.
func (a *agent) get(u string) (int, *url.URL, string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, resp.Request.URL, string(b)
}

// startLogin opens the protected page, logs in at the provider as user and
// returns the callback URL the provider sent back, not yet visited.
func (a *agent) startLogin(p *provider.Provider, user, password string) *url.URL {
	a.t.Helper()
	_, at, body := a.get(a.site.URL + "/private")
	if !strings.HasPrefix(at.String(), p.Issuer+"/login/username") {
		a.t.Fatalf("the protected page led to %s (%.200q), want the provider's login page", at, body)
	}
	resp, err := a.c.PostForm(p.Issuer+"/login/username", url.Values{
		"id": {at.Query().Get("authRequestID")}, "username": {user}, "password": {password}})
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), a.site.URL+"/oidc/callback") {
		a.t.Fatalf("login at the provider ended with %s at %s, want a redirect to the callback", resp.Status, resp.Request.URL)
	}
	return loc
}

// loggedIn reports whether /private shows the user (without following a
// challenge).
func (a *agent) loggedIn() (bool, string) {
	a.t.Helper()
	c := *a.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(a.site.URL + "/private")
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode == http.StatusOK && strings.HasPrefix(string(b), "hello "), string(b)
}

func tamper(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	if b[len(b)/2] == 'A' {
		b[len(b)/2] = 'B'
	} else {
		b[len(b)/2] = 'A'
	}
	return string(b)
}

// TestCallbackRefusals: the callback logs in with what the provider sent,
// and refuses a state or code changed on the way, an ID token whose nonce
// is not the flow's, and an ID token already expired; none of them leaves
// the browser logged in.
func TestCallbackRefusals(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(p *provider.Provider)
		edit    func(q url.Values)
		wantIn  bool
		wantSub string
	}{
		{name: "untouched", wantIn: true, wantSub: "u-alice"},
		{name: "tampered state", edit: func(q url.Values) { q.Set("state", tamper(q.Get("state"))) }},
		{name: "tampered code", edit: func(q url.Values) { q.Set("code", tamper(q.Get("code"))) }},
		{name: "no state", edit: func(q url.Values) { q.Del("state") }},
		{name: "provider error", edit: func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }},
		{name: "tampered nonce", setup: func(p *provider.Provider) { p.SetNonce("not-the-flows-nonce") }},
		{name: "expired ID token", setup: func(p *provider.Provider) { p.SetIDTokenLifetime(clientID, -time.Minute) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := provider.Start(t)
			s := newSite(t, p, nil)
			if tc.setup != nil {
				tc.setup(p)
			}
			a := newAgent(t, s)
			cb := a.startLogin(p, "alice", "alice-pw")
			if tc.edit != nil {
				q := cb.Query()
				tc.edit(q)
				cb.RawQuery = q.Encode()
			}
			status, _, body := a.get(cb.String())
			in, page := a.loggedIn()
			if in != tc.wantIn {
				t.Fatalf("callback answered %d %.200q; logged in = %v (%q), want %v", status, body, in, page, tc.wantIn)
			}
			if tc.wantIn && !hasHello(page, tc.wantSub) {
				t.Errorf("logged in page %q, want %s", page, hello(tc.wantSub))
			}
			if !tc.wantIn && status < 400 {
				t.Logf("refused callback answered %d (not an error status)", status)
			}
		})
	}
}

// TestCallbackReplay: a callback that logged in once cannot log in again,
// neither in the same browser after logout nor in another one given the
// same flow cookie and URL.
func TestCallbackReplay(t *testing.T) {
	p := provider.Start(t)
	s := newSite(t, p, nil)
	a := newAgent(t, s)
	cb := a.startLogin(p, "alice", "alice-pw")
	siteURL, _ := url.Parse(s.URL)
	flowCookies := a.jar.Cookies(siteURL)
	a.get(cb.String())
	if in, page := a.loggedIn(); !in {
		t.Fatalf("the first callback did not log in: %q", page)
	}

	b := newAgent(t, s)
	b.jar.SetCookies(siteURL, flowCookies)
	status, _, body := b.get(cb.String())
	if in, page := b.loggedIn(); in {
		t.Fatalf("a replayed callback (with the flow cookie) logged in: %d %.200q, then %q", status, body, page)
	}
}

// TestRotatedKey: the provider rotates its signing key (dropping the old
// one) after the site has verified a login with it; the next login, whose
// ID token the new key signs, is accepted once the site refreshed the keys.
func TestRotatedKey(t *testing.T) {
	p := provider.Start(t)
	s := newSite(t, p, nil)
	a := newAgent(t, s)
	a.get(a.startLogin(p, "alice", "alice-pw").String())
	if in, page := a.loggedIn(); !in {
		t.Fatalf("the first login failed: %q", page)
	}
	if _, err := p.RotateKey(false); err != nil {
		t.Fatal(err)
	}
	b := newAgent(t, s)
	b.get(b.startLogin(p, "bob", "bob-pw").String())
	if in, page := b.loggedIn(); !in || !hasHello(page, "u-bob") {
		t.Fatalf("a login signed by the rotated key: logged in %v, page %q", in, page)
	}
}

// TestTokenSourceRefreshAndLogout: after a login the plugin's TokenSource
// gives the access token the provider issued (its userinfo accepts it);
// once it is due, TokenSource refreshes it with the refresh token kept in
// the server session; the logout path ends the session at the provider,
// which then refuses the tokens it had issued, and here.
func TestTokenSourceRefreshAndLogout(t *testing.T) {
	p := provider.Start(t)
	s := newSite(t, p, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Shorter than oauth2's ten seconds of margin: due at once.
	p.SetAccessTokenLifetime(5 * time.Second)
	a := newAgent(t, s)
	a.get(a.startLogin(p, "alice", "alice-pw").String())
	if in, page := a.loggedIn(); !in {
		t.Fatalf("login failed: %q", page)
	}
	status, _, at1 := a.get(s.URL + "/token")
	if status != http.StatusOK {
		t.Fatalf("/token: %d %q", status, at1)
	}
	status, _, at2 := a.get(s.URL + "/token")
	if status != http.StatusOK || at2 == at1 || p.Refreshes() == 0 {
		t.Fatalf("a due access token was not refreshed: %d, same token %v, %d refreshes", status, at1 == at2, p.Refreshes())
	}
	info, err := p.Userinfo(ctx, at2)
	if err != nil || info["sub"] != "u-alice" {
		t.Fatalf("the provider's userinfo with the refreshed token: %v %v", info, err)
	}

	status, at, body := a.get(s.URL + "/oidc/logout")
	if status != http.StatusOK || at.String() != s.URL+"/" || body != "home " {
		t.Fatalf("logout ended at %d %s %q, want the anonymous home page", status, at, body)
	}
	if ended := p.EndedSessions(); len(ended) != 1 || ended[0] != [2]string{"u-alice", clientID} {
		t.Errorf("sessions the provider ended: %v, want u-alice's with %s", ended, clientID)
	}
	if _, err := p.Userinfo(ctx, at2); err == nil {
		t.Error("after logout the provider still accepts the access token")
	}
	if in, page := a.loggedIn(); in {
		t.Errorf("after logout the site still logs in: %q", page)
	}
	if status, _, body := a.get(s.URL + "/token"); status == http.StatusOK {
		t.Errorf("after logout /token still gives a token: %q", body)
	}
}

// TestBackchannelLogout: the provider posts a logout token signed with its
// key about the user's subject to the site's back-channel logout path;
// the site ends that user's login (the browser that was logged in is not
// any more, another user's is), and refuses the same token again, a token
// for another client, and one signed by a key the provider does not
// publish. With the login in the server session (sessionid) it works;
// with the login in an auth_tkt cookie the plugin warns when it is built
// that a back-channel logout cannot end the login, and that is what
// happens: the session's tokens go, the cookie's login stays.
func TestBackchannelLogout(t *testing.T) {
	for _, rem := range []string{"sessionid", "auth_tkt"} {
		t.Run(rem, func(t *testing.T) { testBackchannelLogout(t, rem) })
	}
}

func testBackchannelLogout(t *testing.T, rememberer string) {
	p := provider.Start(t)
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	s := newSiteWith(t, p, rememberer, func(o *oidcplugin.Options) {
		o.BackchannelLogoutPath = "/oidc/backchannel"
		o.Logger = logger
	})
	warned := strings.Contains(logs.String(), oidcplugin.MsgBackchannelRememberer)
	if want := rememberer == "auth_tkt"; warned != want {
		t.Errorf("warned that back-channel logout cannot end the login: %v, want %v; logs:\n%s", warned, want, logs.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	alice, bob := newAgent(t, s), newAgent(t, s)
	alice.get(alice.startLogin(p, "alice", "alice-pw").String())
	bob.get(bob.startLogin(p, "bob", "bob-pw").String())
	for _, a := range []*agent{alice, bob} {
		if in, page := a.loggedIn(); !in {
			t.Fatalf("login failed: %q", page)
		}
	}
	post := func(tok string) int {
		status, err := p.BackchannelLogout(ctx, s.URL+"/oidc/backchannel", tok)
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	mint := func(client, sub string) string {
		tok, err := p.LogoutToken(client, sub, "")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	if status := post(mint("another-client", "u-alice")); status == http.StatusOK {
		t.Errorf("a logout token for another client was accepted")
	}
	// Signed by a key that is not in the provider's JWKS.
	other := provider.Start(t)
	forged, err := other.LogoutToken(clientID, "u-alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if status := post(forged); status == http.StatusOK {
		t.Errorf("a logout token signed by another provider's key was accepted")
	}
	if in, _ := alice.loggedIn(); !in {
		t.Fatal("a refused logout token logged alice out")
	}

	tok := mint(clientID, "u-alice")
	if status := post(tok); status != http.StatusOK {
		t.Fatalf("the provider's logout token: %d, want 200", status)
	}
	if status := post(tok); status == http.StatusOK {
		t.Errorf("a replayed logout token was accepted")
	}
	if in, page := bob.loggedIn(); !in {
		t.Errorf("back-channel logout of alice logged bob out: %q", page)
	}
	in, page := alice.loggedIn()
	if rememberer == "auth_tkt" {
		// What the warning said: the tokens went with the session, the
		// login in the cookie stays.
		if status, _, body := alice.get(s.URL + "/token"); status == http.StatusOK {
			t.Errorf("after back-channel logout alice's session still gives a token: %q", body)
		}
		if !in {
			t.Errorf("alice's auth_tkt login ended too (%q): the warning is wrong now, drop it", page)
		}
		return
	}
	if in {
		t.Errorf("after back-channel logout alice is still logged in: %q", page)
	}
}

// logBuffer collects what a logger writes, safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
