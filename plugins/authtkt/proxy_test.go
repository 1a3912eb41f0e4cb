package authtkt

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// TestBehindTrustedProxy: with [general] trusted_proxies listing the
// proxy, include_ip binds a ticket to the client address the proxy
// forwarded, not to the proxy's, and secure = "auto" (the default) marks
// the cookie Secure when the proxy says the client used https. The same
// headers from a peer that is not a trusted proxy change nothing. Without
// the fix the ticket was bound to RemoteAddr (the proxy) and the cookie
// was never Secure behind a TLS-terminating proxy.
func TestBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	tp, err := who.ParseTrustedProxies([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	p := mustNew(t, Options{IncludeIP: true, Now: func() time.Time { return t1700 }})
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "auth_tkt", Plugin: p}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: p}},
		TrustedProxies: tp,
	})
	if err != nil {
		t.Fatal(err)
	}
	var setCookie []string
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			_, hdr := who.APIFrom(r).Login(who.Identity{who.KeyLogin: "alice"}, "auth_tkt")
			setCookie = hdr["Set-Cookie"]
			return
		}
		_, _ = w.Write([]byte(who.UserID(r.Context())))
	}))
	const client = "203.0.113.9"
	forwarded := func(remote, path string, cookie ...string) *http.Request {
		r := req("app.example", remote, cookie...)
		r.URL.Path = path
		r.Header.Set("X-Forwarded-For", client)
		r.Header.Set("X-Forwarded-Proto", "https")
		return r
	}
	// Login behind the proxy: a Secure cookie whose ticket binds the client.
	h.ServeHTTP(httptest.NewRecorder(), forwarded("127.0.0.1:4000", "/login"))
	if len(setCookie) != 1 || !strings.Contains(setCookie[0], "; secure") {
		t.Fatalf("behind a trusted https proxy: Set-Cookie %q, want one with secure", setCookie)
	}
	// The same login from an untrusted peer: not Secure.
	h.ServeHTTP(httptest.NewRecorder(), forwarded("192.0.2.50:4000", "/login"))
	if len(setCookie) != 1 || strings.Contains(setCookie[0], "secure") {
		t.Fatalf("from an untrusted peer: Set-Cookie %q, want one without secure", setCookie)
	}
	bound := func(ip string) string {
		return "auth_tkt=" + mustCookie(Ticket{UserID: "alice", Time: t1700, IP: net.ParseIP(ip)}, "md5")
	}
	for _, tt := range []struct {
		name   string
		r      *http.Request
		wantID string
	}{
		{"client's ticket through the trusted proxy", forwarded("127.0.0.1:4000", "/", bound(client)), "alice"},
		{"proxy-bound ticket through the trusted proxy", forwarded("127.0.0.1:4000", "/", bound("127.0.0.1")), ""},
		{"client's ticket from an untrusted peer claiming the client", forwarded("192.0.2.50:4000", "/", bound(client)), ""},
		{"untrusted peer's own ticket", forwarded("192.0.2.50:4000", "/", bound("192.0.2.50")), "alice"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tt.r)
		if got := rec.Body.String(); got != tt.wantID {
			t.Errorf("%s: userid %q, want %q", tt.name, got, tt.wantID)
		}
	}
}
