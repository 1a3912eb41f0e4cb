package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// TestCookieSecureBehindProxy: with Secure unset (secure = "auto"), the
// session cookie is Secure when a trusted proxy says the client used
// https, and not when the same header comes from any other peer; Secure
// set forces it either way. Without the fix only r.TLS counted, so behind
// a TLS-terminating proxy the cookie was never Secure.
func TestCookieSecureBehindProxy(t *testing.T) {
	t.Parallel()
	tp, err := who.ParseTrustedProxies([]string{"127.0.0.1/32", "::1/128"})
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, tt := range []struct {
		name   string
		secure *bool
		remote string
		want   bool
	}{
		{"auto, trusted proxy says https", nil, "127.0.0.1:4000", true},
		{"auto, trusted IPv6 proxy says https", nil, "[::1]:4000", true},
		{"auto, untrusted peer says https", nil, "192.0.2.9:4000", false},
		{"false, trusted proxy says https", &no, "127.0.0.1:4000", false},
		{"true, untrusted peer", &yes, "192.0.2.9:4000", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, session.Options{Secure: tt.secure})
			chain, err := who.New(who.Config{TrustedProxies: tp})
			if err != nil {
				t.Fatal(err)
			}
			h := chain.Wrap(f.m.Wrap(set("k", "v")))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Forwarded-Proto", "https")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			c := sessionCookie(rec)
			if c == nil {
				t.Fatalf("no session cookie: %q", rec.Header().Values("Set-Cookie"))
			}
			if c.Secure != tt.want {
				t.Errorf("Secure = %v, want %v (Set-Cookie %q)", c.Secure, tt.want, rec.Header().Get("Set-Cookie"))
			}
		})
	}
}
