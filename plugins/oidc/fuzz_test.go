package oidc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeFlow: no flow cookie value panics the decoder, and only the
// plugin's own signature, for that very state, is accepted.
func FuzzDecodeFlow(f *testing.F) {
	p, err := New(withRem(Options{Issuer: "https://idp.example", ClientID: "c", CookieSecret: "fuzz-secret-0123456789"}))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	state := strings.Repeat("s", stateLen)
	good := p.encodeFlow(state, flow{Nonce: "n", Verifier: "v", Redirect: "https://site.example/cb", CameFrom: "/x", Expires: now.Unix() + 60})
	f.Add(state, good)
	f.Add(state, good+"x")
	f.Add(state, "."+good)
	f.Add(strings.Repeat("t", stateLen), good)
	f.Add(state, "e30.AAAA")
	f.Add(state, strings.Repeat(".", 100))
	f.Fuzz(func(t *testing.T, st, v string) {
		fl, err := p.decodeFlow(st, v, now)
		if err != nil {
			return
		}
		if fl.Nonce == "" || fl.Verifier == "" || fl.Redirect == "" || fl.Expires <= now.Unix() {
			t.Fatalf("accepted an incomplete or expired flow: %+v", fl)
		}
		if p.encodeFlow(st, fl) == "" {
			t.Fatal("unreachable")
		}
		if st != state && v == good {
			t.Fatalf("the cookie of state %q was accepted for %q", state, st)
		}
	})
}

// FuzzCallback: whatever query and cookies a callback carries, it answers
// a refusal page without panicking and without reaching the provider (the
// issuer here is a closed port: a request to it would fail the test by
// answering 503).
func FuzzCallback(f *testing.F) {
	p, err := New(withRem(Options{Issuer: "http://127.0.0.1:1", ClientID: "c"}))
	if err != nil {
		f.Fatal(err)
	}
	st := newState()
	f.Add("state="+st+"&code=abc", DefaultCookiePrefix+st+"=x.y")
	f.Add("state="+st+"&error=access_denied&error_description=%3Cb%3E", DefaultCookiePrefix+st+"=e30.AAAA")
	f.Add("state=%00&code=%ff", "a=b; c")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, query, cookie string) {
		r := httptest.NewRequest("GET", "/oidc/callback", nil)
		r.URL.RawQuery = query
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		p.serveCallback(w, r)
		if w.Code != http.StatusBadRequest && w.Code != http.StatusForbidden {
			t.Fatalf("callback answered %d for query %q cookie %q", w.Code, query, cookie)
		}
	})
}

// FuzzBackchannel: whatever a back-channel POST carries, it is refused
// (400, or 503 while the closed-port provider cannot be discovered),
// never a panic, never a 200.
func FuzzBackchannel(f *testing.F) {
	p, err := New(withRem(Options{Issuer: "http://127.0.0.1:1", ClientID: "c", BackchannelLogoutPath: "/bc", SessionManager: nil, SessionName: "s"}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("logout_token=a.b.c")
	f.Add("logout_token=")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/bc", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		p.serveBackchannel(w, r)
		if w.Code == http.StatusOK {
			t.Fatalf("back-channel logout accepted %q", body)
		}
	})
}
