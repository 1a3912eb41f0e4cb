package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// A protected page sends the browser to the provider; back at the
// callback the user is logged in, remembered by auth_tkt (a reload keeps
// the login) and sent back to the page, query and all.
func TestLoginFlow(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)

	ch := b.get(s.srv.URL + "/protected/page?x=1")
	if ch.status != 302 || !strings.HasPrefix(ch.loc, fp.url+"/authorize?") {
		t.Fatalf("challenge: %d to %q", ch.status, ch.loc)
	}
	q := mustQuery(t, ch.loc)
	for k, want := range map[string]string{"code_challenge_method": "S256", "client_id": fakeClientID, "response_type": "code", "redirect_uri": s.srv.URL + DefaultCallbackPath} {
		if q.Get(k) != want {
			t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if !strings.Contains(q.Get("scope"), "openid") || q.Get("nonce") == "" || !validState(q.Get("state")) {
		t.Errorf("authorization request lacks openid scope, nonce or state: %v", q)
	}
	flowCookies := 0
	for _, c := range b.jar.Cookies(mustURL(t, s.srv.URL+DefaultCallbackPath)) {
		if c.Name == DefaultCookiePrefix+q.Get("state") {
			flowCookies++
		}
	}
	if flowCookies != 1 {
		t.Fatalf("no flow cookie named after the state")
	}

	p := b.follow(ch.loc)
	if p.status != 200 || !strings.Contains(p.body, "page /protected/page?x=1 user=alice") {
		t.Fatalf("after login: %d %q", p.status, p.body)
	}
	if again := b.get(s.srv.URL + "/protected/page"); again.status != 200 || !strings.Contains(again.body, "user=alice") {
		t.Fatalf("reload: %d %q", again.status, again.body)
	}
	// The flow cookie is gone.
	for _, c := range b.jar.Cookies(mustURL(t, s.srv.URL+DefaultCallbackPath)) {
		if strings.HasPrefix(c.Name, DefaultCookiePrefix) && c.Name != DefaultCookiePrefix+"idt" {
			t.Errorf("flow cookie %s left after the callback", c.Name)
		}
	}
}

// The claims listed in claims reach the identity (kept by sessionid's
// alsopersist), and userid_claim chooses the userid.
func TestClaimsAndUserIDClaim(t *testing.T) {
	fp := newFakeProvider(t)
	o := fp.opts()
	o.UserIDClaim = "email"
	s := newSite(t, siteOptions{session: true}, o)
	b := newBrowser(t)
	p := b.follow(s.srv.URL + "/protected/start")
	want := "page /protected/start user=alice@example.com email=alice@example.com groups=[admins staff] name=Alice Liddell"
	if p.status != 200 || p.body != want {
		t.Fatalf("got %d %q\nwant %q", p.status, p.body, want)
	}
}

// Two logins started together in two tabs of one browser both complete,
// in either order: each flow has its own cookie.
func TestParallelTabs(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	a := b.get(s.srv.URL + "/protected/a")
	c := b.get(s.srv.URL + "/protected/b")
	if a.status != 302 || c.status != 302 {
		t.Fatalf("challenges: %d %d", a.status, c.status)
	}
	pb := b.follow(c.loc)
	pa := b.follow(a.loc)
	if !strings.Contains(pb.body, "page /protected/b user=alice") || !strings.Contains(pa.body, "page /protected/a user=alice") {
		t.Fatalf("tab b: %d %q; tab a: %d %q", pb.status, pb.body, pa.status, pa.body)
	}
}

// Many browsers log in at once (go test -race).
func TestConcurrentLogins(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{session: true}, fp.opts())
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 16 {
		wg.Go(func() {
			b := newBrowser(t)
			if p := b.follow(s.srv.URL + "/protected/x"); !strings.Contains(p.body, "user=alice") {
				errs <- p.body
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a concurrent login failed: %q", e)
	}
}

// came_from survives the round trip when it is safe, and falls back to
// post_login_url when it points elsewhere.
func TestCameFrom(t *testing.T) {
	fp := newFakeProvider(t)
	o := fp.opts()
	o.PostLoginURL = "/welcome"
	s := newSite(t, siteOptions{}, o)
	for _, tc := range []struct{ cameFrom, want string }{
		{"/protected/deep?a=b", "page /protected/deep?a=b user=alice"},
		{"https://evil.example/steal", "page /welcome user=alice"},
		{"//evil.example/", "page /welcome user=alice"},
		{"/\\evil.example", "page /welcome user=alice"},
		{"", "page /welcome user=alice"},
	} {
		b := newBrowser(t)
		p := b.follow(s.srv.URL + DefaultLoginPath + "?" + url.Values{"came_from": {tc.cameFrom}}.Encode())
		if !strings.HasPrefix(p.body, tc.want) {
			t.Errorf("came_from %q: landed on %q, want %q", tc.cameFrom, p.body, tc.want)
		}
	}
}

// callbackOf starts a flow and returns the provider's redirect back to
// the callback (not followed).
func callbackOf(t *testing.T, b *browser, s *site) string {
	t.Helper()
	ch := b.get(s.srv.URL + "/protected/x")
	back := b.get(ch.loc)
	if back.status != 302 || !strings.HasPrefix(back.loc, s.srv.URL+DefaultCallbackPath+"?") {
		t.Fatalf("provider did not send back to the callback: %d %q %q", back.status, back.loc, back.body)
	}
	return back.loc
}

// A tampered state, code or flow cookie, a nonce that is not the flow's,
// an expired ID token, a replayed callback and a provider error are
// refused with a page, and nobody is logged in.
func TestCallbackRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, fp *fakeProvider, s *site, b *browser, cb string) string // returns the URL to GET
		status  int
		msg     string
	}{
		{"tampered state", func(t *testing.T, _ *fakeProvider, _ *site, _ *browser, cb string) string {
			return setParam(t, cb, "state", flip(mustQuery(t, cb).Get("state")))
		}, 400, MsgNoFlow},
		{"malformed state", func(t *testing.T, _ *fakeProvider, _ *site, _ *browser, cb string) string {
			return setParam(t, cb, "state", "../../x")
		}, 400, MsgBadReply},
		{"tampered code", func(t *testing.T, _ *fakeProvider, _ *site, _ *browser, cb string) string {
			return setParam(t, cb, "code", flip(mustQuery(t, cb).Get("code")))
		}, 403, MsgRefused},
		{"no code", func(t *testing.T, _ *fakeProvider, _ *site, _ *browser, cb string) string {
			return setParam(t, cb, "code", "")
		}, 400, MsgBadReply},
		{"tampered flow cookie", func(t *testing.T, _ *fakeProvider, s *site, b *browser, cb string) string {
			u := mustURL(t, s.srv.URL+DefaultCallbackPath)
			for _, c := range b.jar.Cookies(u) {
				if strings.HasPrefix(c.Name, DefaultCookiePrefix) {
					c.Value = flip(c.Value)
					c.Path = DefaultCallbackPath
					b.jar.SetCookies(u, []*http.Cookie{c})
				}
			}
			return cb
		}, 400, MsgNoFlow},
		{"other nonce", func(t *testing.T, fp *fakeProvider, _ *site, _ *browser, cb string) string {
			fp.set(func(fp *fakeProvider) { fp.nonce = "not-the-flows-nonce" })
			return cb
		}, 403, MsgRefused},
		{"expired ID token", func(t *testing.T, fp *fakeProvider, _ *site, _ *browser, cb string) string {
			fp.set(func(fp *fakeProvider) { fp.idTTL = -time.Hour })
			return cb
		}, 403, MsgRefused},
		{"expired flow", func(t *testing.T, _ *fakeProvider, s *site, _ *browser, cb string) string {
			s.clock.Advance(DefaultFlowTimeout + time.Second)
			return cb
		}, 400, MsgNoFlow},
		{"provider error", func(t *testing.T, _ *fakeProvider, _ *site, _ *browser, cb string) string {
			u := setParam(t, cb, "code", "")
			return setParam(t, u, "error", "access_denied<script>")
		}, 403, MsgDenied + " (access_deniedscript)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakeProvider(t)
			s := newSite(t, siteOptions{}, fp.opts())
			b := newBrowser(t)
			cb := callbackOf(t, b, s)
			p := b.get(tc.prepare(t, fp, s, b, cb))
			if p.status != tc.status || !strings.Contains(p.body, htmlEscape(tc.msg)) {
				t.Fatalf("got %d %q, want %d with %q", p.status, p.body, tc.status, tc.msg)
			}
			if p.header.Get("Cache-Control") != "no-store" {
				t.Errorf("refusal page is cacheable")
			}
			if got := b.get(s.srv.URL + "/protected/x"); got.status != 302 {
				t.Fatalf("logged in after a refused callback: %d %q", got.status, got.body)
			}
		})
	}
}

// A callback replayed, with its flow cookie put back (an attacker who
// copied both), is refused: each state is used once.
func TestReplayedCallback(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	cb := callbackOf(t, b, s)
	u := mustURL(t, s.srv.URL+DefaultCallbackPath)
	var saved []*http.Cookie
	for _, c := range b.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, DefaultCookiePrefix) {
			c.Path = DefaultCallbackPath
			saved = append(saved, c)
		}
	}
	if first := b.get(cb); first.status != 302 {
		t.Fatalf("first callback: %d %q", first.status, first.body)
	}
	// The same reply again, in the same browser (cookie gone): refused.
	if again := b.get(cb); again.status != 400 || !strings.Contains(again.body, htmlEscape(MsgNoFlow)) {
		t.Fatalf("replayed callback: %d %q", again.status, again.body)
	}
	// In another browser holding the copied cookie: refused too.
	other := newBrowser(t)
	other.jar.SetCookies(u, saved)
	if again := other.get(cb); again.status != 400 {
		t.Fatalf("replayed callback with its cookie: %d %q", again.status, again.body)
	}
	if got := other.get(s.srv.URL + "/protected/x"); got.status != 302 {
		t.Fatalf("the replaying browser is logged in: %d %q", got.status, got.body)
	}
}

// A reply naming another issuer (RFC 9207 iss) is refused.
func TestCallbackOtherIssuer(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	cb := callbackOf(t, b, s)
	if p := b.get(setParam(t, cb, "iss", "https://evil.example")); p.status != 403 {
		t.Fatalf("reply from another issuer: %d %q", p.status, p.body)
	}
}

// The provider rotates its signing key: the next login's ID token, signed
// with a key id not seen before, verifies once the keys are fetched again.
func TestKeyRotation(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	newBrowser(t).login(s)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fp.set(func(fp *fakeProvider) { fp.key, fp.kid = key, "k2" })
	newBrowser(t).login(s)
}

// A HEAD or POST of the callback URL does not spend the flow: the GET
// that follows still logs in.
func TestCallbackGETOnly(t *testing.T) {
	fp := newFakeProvider(t)
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	cb := callbackOf(t, b, s)
	for _, m := range []string{"HEAD", "POST"} {
		if p := b.do(m, cb, nil); p.status != 405 {
			t.Fatalf("%s callback: %d", m, p.status)
		}
	}
	if p := b.follow(cb); !strings.Contains(p.body, "user=alice") {
		t.Fatalf("GET after HEAD: %d %q", p.status, p.body)
	}
}
