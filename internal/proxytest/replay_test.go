package proxytest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Traefik and Envoy are not packaged here: TestReplay sends the gateway
// the forward-auth requests they send, as their sources and documentation
// give them, for what gateway/'s replays leave out: the original method
// (Traefik's X-Forwarded-Method on a GET; Envoy's own method on the path
// below auth_path) against a rule with methods, the original request's
// other headers passed along, and a client's identity headers on a public
// path answered without an identity (Traefik's authResponseHeaders then
// removes the client's).
func TestReplay(t *testing.T) {
	t.Parallel()
	gw := startGateway(t, nil)
	base := "http://" + gw.Addr
	// traefik: pkg/middlewares/auth/forward.go: a GET to the address with
	// every header of the original request (hop-by-hop removed), and
	// X-Forwarded-For (the peer), -Method, -Proto, -Host, -Uri written by
	// Traefik itself (trustForwardHeader off).
	traefik := func(method, uri string, h map[string]string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, base+"/_who/auth", nil)
		for k, v := range h {
			req.Header[k] = []string{v}
		}
		req.Header.Set("User-Agent", "Mozilla/5.0")
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		req.Header.Set("X-Forwarded-Method", method)
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "app.example")
		req.Header.Set("X-Forwarded-Uri", uri)
		return req
	}
	// envoy: ext_authz's HTTP service: the original method, the original
	// path appended to path_prefix, Host, Authorization and the allowed
	// headers, Content-Length 0 (no body: with_request_body unset), and
	// Envoy's own x-envoy-* headers.
	envoy := func(method, uri string, h map[string]string) *http.Request {
		req, _ := http.NewRequest(method, base+"/_who/auth"+uri, http.NoBody)
		req.Host = "app.example"
		for k, v := range h {
			req.Header[k] = []string{v}
		}
		req.ContentLength = 0
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		req.Header.Set("X-Envoy-Expected-Rq-Timeout-Ms", "1000")
		req.Header.Set("X-Envoy-Internal", "true")
		return req
	}
	browser := map[string]string{"Accept": "text/html,application/xhtml+xml"}
	alice := map[string]string{"Authorization": basicAlice}
	bob := map[string]string{"Authorization": basicBob}
	spoof := map[string]string{"X-Remote-User": "mallory", "X_Remote_User": "mallory", "Remote-User": "mallory"}
	cameFrom := "/_who/login?came_from=" + url.QueryEscape("/private/x?a=1")
	tests := []struct {
		name     string
		method   string
		uri      string
		h        map[string]string
		status   int
		user     string
		location string
	}{
		{"GET on a GET-only public rule", "GET", "/api/x", nil, 200, "", ""},
		{"POST there needs a login", "POST", "/api/x", nil, 401, "", ""},
		{"POST there with Basic", "POST", "/api/x", alice, 200, "alice", ""},
		{"browser sent to the form", "GET", "/private/x?a=1", browser, 302, "", cameFrom},
		{"groups rule, non-member", "DELETE", "/admin/x", bob, 403, "", ""},
		{"groups rule, member", "DELETE", "/admin/x", alice, 200, "alice", ""},
		{"spoofed identity on a public path", "GET", "/public/x", spoof, 200, "", ""},
		{"spoofed identity alone", "GET", "/private/x", spoof, 401, "", ""},
	}
	c := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for name, build := range map[string]func(string, string, map[string]string) *http.Request{"traefik": traefik, "envoy": envoy} {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				resp, err := c.Do(build(tt.method, tt.uri, tt.h))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<12))
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Errorf("%s: %s, want %d: %.200s", tt.name, resp.Status, tt.status, body)
					continue
				}
				if got := resp.Header.Get("X-Remote-User"); got != tt.user {
					t.Errorf("%s: X-Remote-User %q, want %q", tt.name, got, tt.user)
				}
				if got := resp.Header.Get("Location"); tt.location != "" && got != tt.location {
					t.Errorf("%s: Location %q, want %q", tt.name, got, tt.location)
				}
				if tt.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("%s: WWW-Authenticate %q, want Basic", tt.name, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}
