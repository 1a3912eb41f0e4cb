package oidc

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The logout path logs out here (the auth_tkt cookie expires) and sends
// the browser to the provider's end_session_endpoint with the ID token as
// id_token_hint, client_id and post_logout_redirect_uri; the provider
// sends it back logged out. With the session it works the same.
func TestRPInitiatedLogout(t *testing.T) {
	for _, so := range []siteOptions{{}, {session: true}} {
		t.Run(fmt.Sprintf("session=%v", so.session), func(t *testing.T) {
			fp := newFakeProvider(t)
			o := fp.opts()
			o.PostLogoutURL = "/bye"
			s := newSite(t, so, o)
			b := newBrowser(t)
			b.login(s)
			out := b.do("POST", s.srv.URL+DefaultLogoutPath, url.Values{})
			if out.status != 302 || !strings.HasPrefix(out.loc, fp.url+"/end_session?") {
				t.Fatalf("logout: %d to %q", out.status, out.loc)
			}
			q := mustQuery(t, out.loc)
			if hint := q.Get("id_token_hint"); strings.Count(hint, ".") != 2 {
				t.Errorf("id_token_hint = %q, want the ID token", hint)
			}
			if q.Get("client_id") != fakeClientID || q.Get("post_logout_redirect_uri") != s.srv.URL+"/bye" {
				t.Errorf("end session request: %v", q)
			}
			if p := b.follow(out.loc); !strings.HasPrefix(p.body, "page /bye user= ") {
				t.Errorf("after the provider's logout: %d %q", p.status, p.body)
			}
			if p := b.get(s.srv.URL + "/protected/x"); p.status != 302 {
				t.Fatalf("still logged in after logout: %d %q", p.status, p.body)
			}
			// A second logout has no hint left to send.
			if again := b.do("POST", s.srv.URL+DefaultLogoutPath, url.Values{}); mustQuery(t, again.loc).Get("id_token_hint") != "" {
				t.Errorf("second logout still sends a hint")
			}
		})
	}
}

// A logout link followed from another site does not log out: it gets a
// page with a button; a cross-origin POST is refused.
func TestLogoutCrossSite(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	b.login(s)
	p := b.do("GET", s.srv.URL+DefaultLogoutPath, nil, "Sec-Fetch-Site", "cross-site")
	if p.status != 200 || !strings.Contains(p.body, `id="logout"`) {
		t.Fatalf("cross-site GET: %d %q", p.status, p.body)
	}
	p = b.do("POST", s.srv.URL+DefaultLogoutPath, url.Values{}, "Sec-Fetch-Site", "cross-site")
	if p.status != 403 {
		t.Fatalf("cross-site POST: %d %q", p.status, p.body)
	}
	if got := b.get(s.srv.URL + "/protected/x"); got.status != 200 {
		t.Fatalf("logged out by another site: %d", got.status)
	}
}

// Without end_session_endpoint the logout is local, to a safe came_from.
func TestLogoutWithoutEndSession(t *testing.T) {
	fp := newFakeProvider(t)
	fp.set(func(fp *fakeProvider) { fp.noEndSess = true })
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	b.login(s)
	for _, tc := range []struct{ cameFrom, want string }{{"/after", s.srv.URL + "/after"}, {"https://evil.example/", s.srv.URL + "/"}} {
		out := b.do("POST", s.srv.URL+DefaultLogoutPath, url.Values{"came_from": {tc.cameFrom}})
		if out.status != 302 || out.loc != tc.want {
			t.Errorf("logout with came_from %q: %d to %q, want %q", tc.cameFrom, out.status, out.loc, tc.want)
		}
	}
}

// logoutToken returns a logout token fp signed, with claims changed by
// edit (a nil value deletes a claim).
func (fp *fakeProvider) logoutToken(edit map[string]any) string {
	now := time.Now()
	claims := map[string]any{
		"iss": fp.url, "aud": fakeClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": randString(), "sid": "sid-alice",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	for k, v := range edit {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return fp.sign(claims)
}

// A verified back-channel logout token destroys the session of its sid:
// the record goes from the store at once, and the browser is logged out.
// Invalid tokens are refused with 400 and log nobody out.
func TestBackchannelLogout(t *testing.T) {
	fp := newFakeProvider(t)
	o := fp.opts()
	o.BackchannelLogoutPath = "/oidc/backchannel"
	s := newSite(t, siteOptions{session: true}, o)
	b := newBrowser(t)
	b.login(s)
	provider := newBrowser(t) // the provider's server-to-server POST

	for _, tc := range []struct {
		name string
		edit map[string]any
	}{
		{"wrong audience", map[string]any{"aud": "someone-else"}},
		{"other issuer", map[string]any{"iss": "https://evil.example"}},
		{"with a nonce", map[string]any{"nonce": "n"}},
		{"no event", map[string]any{"events": map[string]any{}}},
		{"no sid nor sub", map[string]any{"sid": nil}},
		{"no jti", map[string]any{"jti": nil}},
		{"expired", map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}},
	} {
		p := provider.do("POST", s.srv.URL+o.BackchannelLogoutPath, url.Values{"logout_token": {fp.logoutToken(tc.edit)}})
		if p.status != 400 || !strings.Contains(p.body, "invalid_request") {
			t.Errorf("%s: %d %q, want 400", tc.name, p.status, p.body)
		}
	}
	tampered := fp.logoutToken(nil)
	tampered = tampered[:len(tampered)-4] + "AAAA"
	if p := provider.do("POST", s.srv.URL+o.BackchannelLogoutPath, url.Values{"logout_token": {tampered}}); p.status != 400 {
		t.Errorf("bad signature: %d", p.status)
	}
	if p := provider.get(s.srv.URL + o.BackchannelLogoutPath); p.status != 405 {
		t.Errorf("GET: %d", p.status)
	}
	if got := b.get(s.srv.URL + "/protected/x"); got.status != 200 {
		t.Fatalf("logged out by a refused token: %d", got.status)
	}

	before := s.store.Len()
	tok := fp.logoutToken(nil)
	if p := provider.do("POST", s.srv.URL+o.BackchannelLogoutPath, url.Values{"logout_token": {tok}}); p.status != 200 || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("valid logout token: %d %q", p.status, p.body)
	}
	if after := s.store.Len(); after != before-1 {
		t.Errorf("store holds %d sessions after the logout, had %d: the session was not deleted", after, before)
	}
	if got := b.get(s.srv.URL + "/protected/x"); got.status != 302 {
		t.Fatalf("still logged in after back-channel logout: %d %q", got.status, got.body)
	}
	if p := provider.do("POST", s.srv.URL+o.BackchannelLogoutPath, url.Values{"logout_token": {tok}}); p.status != 400 {
		t.Errorf("replayed logout token: %d", p.status)
	}
	// A new login after the logout stands.
	b.login(s)
}

// Sessions this process did not index (another process logged them in,
// or the index was full) are destroyed at their next request; a logout
// token with sub alone ends every session of that user.
func TestBackchannelLogoutUnindexed(t *testing.T) {
	fp := newFakeProvider(t)
	o := fp.opts()
	o.BackchannelLogoutPath = "/oidc/backchannel"
	s := newSite(t, siteOptions{session: true}, o)
	b1, b2 := newBrowser(t), newBrowser(t)
	b1.login(s)
	b2.login(s)
	s.plugins[0].sessions = newSessionIndex(maxFlows) // forget the index
	tok := fp.logoutToken(map[string]any{"sid": nil, "sub": "alice"})
	if p := newBrowser(t).do("POST", s.srv.URL+o.BackchannelLogoutPath, url.Values{"logout_token": {tok}}); p.status != 200 {
		t.Fatalf("logout token: %d %q", p.status, p.body)
	}
	for i, b := range []*browser{b1, b2} {
		if got := b.get(s.srv.URL + "/protected/x"); got.status != 302 {
			t.Errorf("browser %d still logged in: %d %q", i+1, got.status, got.body)
		}
	}
}

// TokenSource gives the access token, refreshed with the refresh token
// once expired, and saves the refreshed one in the session.
func TestTokenSource(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{session: true}, fp.opts())
	b := newBrowser(t)
	if p := b.get(s.srv.URL + "/api"); p.status != 409 || !strings.Contains(p.body, ErrNoTokens.Error()) {
		t.Fatalf("anonymous TokenSource: %d %q", p.status, p.body)
	}
	b.login(s)
	for range 2 {
		// The first access token expires in 1s (inside oauth2's 10s
		// margin): the first call refreshes, the second uses the saved one.
		if p := b.get(s.srv.URL + "/api"); p.body != "token=access-refreshed" {
			t.Fatalf("TokenSource: %d %q", p.status, p.body)
		}
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if fp.refreshed != 1 {
		t.Errorf("refreshed %d times, want 1 (the refreshed token is not kept)", fp.refreshed)
	}
}

// Without session_name TokenSource says what is missing.
func TestTokenSourceWithoutSession(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	b.login(s)
	if p := b.get(s.srv.URL + "/api"); p.status != 409 || !strings.Contains(p.body, "session_name") {
		t.Fatalf("TokenSource without a session: %d %q", p.status, p.body)
	}
}
