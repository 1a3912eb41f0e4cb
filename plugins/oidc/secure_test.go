package oidc

import (
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/who"
)

// TestCookieSecure: the flow cookie follows secure = "auto" (the
// default): Secure when the request is https as the client saw it (over
// TLS, or by a trusted proxy, who.RequestOrigin), true and false force
// it. Before, secure defaulted to false and a login over HTTPS set the
// flow cookie without Secure.
func TestCookieSecure(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		secure                   who.Secure
		plain, tlsReq, proxyHTTP bool
	}{
		{who.SecureAuto, false, true, true},
		{who.SecureAlways, true, true, true},
		{who.SecureNever, false, false, false},
	} {
		p := &Plugin{o: Options{CookiePrefix: DefaultCookiePrefix, CallbackPath: DefaultCallbackPath, Secure: tt.secure}}
		plain := httptest.NewRequest("GET", "http://rp.example/login", nil)
		tlsReq := httptest.NewRequest("GET", "https://rp.example/login", nil)
		proxied := httptest.NewRequest("GET", "http://backend/login", nil)
		proxied = proxied.WithContext(who.WithOrigin(proxied.Context(), who.Origin{Scheme: "https", Host: "rp.example", Proxied: true}))
		got := [3]bool{p.flowCookie(plain, "s", "v", 60).Secure, p.flowCookie(tlsReq, "s", "v", 60).Secure, p.flowCookie(proxied, "s", "", -1).Secure}
		if want := [3]bool{tt.plain, tt.tlsReq, tt.proxyHTTP}; got != want {
			t.Errorf("secure %v: flow cookie Secure (plain, TLS, trusted https proxy) = %v, want %v", tt.secure, got, want)
		}
	}
}
