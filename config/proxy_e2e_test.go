package config_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
)

// TestBehindTrustedProxyEndToEnd loads a who.toml with [general]
// trusted_proxies and sends requests through the chain as a
// TLS-terminating proxy on 127.0.0.1 forwards them: the redirector's
// challenge sends came_from as the https URL on the forwarded host, the login page's
// CSRF cookie is Secure, and an include_ip ticket is checked against the
// client the proxy forwarded. The same headers from a peer that is not
// listed change nothing. Without trusted proxies came_from was built from
// the backend's Host, the CSRF cookie was not Secure, and include_ip bound
// the proxy's address.
func TestBehindTrustedProxyEndToEnd(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef"
	src := `
[general]
trusted_proxies = ["127.0.0.1/32", "::1/128"]

[plugin.auth_tkt]
use = "auth_tkt"
secret = "` + secret + `"
include_ip = true

[plugin.form]
use = "form"
login_form_url = "/login"
rememberer_name = "auth_tkt"
csrf_secret = "k"

[plugin.redirector]
use = "redirector"
login_url = "/login"

[identifiers]
plugins = ["form", "auth_tkt"]
[authenticators]
plugins = ["auth_tkt"]
[challengers]
plugins = ["redirector"]
`
	chain, err := config.Parse("who.toml", []byte(src), config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	h := chain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := who.UserID(r.Context()); u != "" {
			_, _ = w.Write([]byte("user=" + u))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	const client = "203.0.113.9"
	send := func(remote, path string, cookies ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://127.0.0.1:8080"+path, nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("X-Forwarded-Host", "app.example")
		r.Header.Set("X-Forwarded-For", client)
		r.Header.Set("Accept", "text/html")
		for _, c := range cookies {
			r.Header.Add("Cookie", c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	cameFrom := func(rec *httptest.ResponseRecorder) string {
		loc, err := url.Parse(rec.Header().Get("Location"))
		if err != nil || rec.Code != http.StatusFound {
			t.Fatalf("challenge: %d, Location %q", rec.Code, rec.Header().Get("Location"))
		}
		return loc.Query().Get("came_from")
	}
	csrfSecure := func(rec *httptest.ResponseRecorder) bool {
		for _, c := range rec.Result().Cookies() {
			if strings.Contains(c.Name, "csrf") {
				return c.Secure
			}
		}
		t.Fatalf("login page: no CSRF cookie in %q", rec.Header().Values("Set-Cookie"))
		return false
	}
	ticket := func(ip string) string {
		v, err := authtkt.Ticket{UserID: "alice", Time: time.Now(), IP: net.ParseIP(ip)}.Cookie(secret, "md5")
		if err != nil {
			t.Fatal(err)
		}
		return "auth_tkt=" + v
	}
	for _, tt := range []struct {
		name, remote   string
		wantCameFrom   string
		wantSecureCSRF bool
		clientOK       bool // a ticket bound to the forwarded client identifies
		peerOK         bool // a ticket bound to the peer identifies
	}{
		{"trusted proxy", "127.0.0.1:40000", "https://app.example/private?x=1", true, true, false},
		{"trusted IPv6 proxy", "[::1]:40000", "https://app.example/private?x=1", true, true, false},
		{"untrusted peer", "192.0.2.50:40000", "http://127.0.0.1:8080/private?x=1", false, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := cameFrom(send(tt.remote, "/private?x=1")); got != tt.wantCameFrom {
				t.Errorf("came_from %q, want %q", got, tt.wantCameFrom)
			}
			if got := csrfSecure(send(tt.remote, "/login")); got != tt.wantSecureCSRF {
				t.Errorf("CSRF cookie Secure %v, want %v", got, tt.wantSecureCSRF)
			}
			peer, _, _ := net.SplitHostPort(tt.remote)
			for _, c := range []struct {
				ip   string
				want bool
			}{{client, tt.clientOK}, {peer, tt.peerOK}} {
				body := send(tt.remote, "/private", ticket(c.ip)).Body.String()
				if got := body == "user=alice"; got != c.want {
					t.Errorf("ticket bound to %s: body %q, identified %v, want %v", c.ip, body, got, c.want)
				}
			}
		})
	}
}
