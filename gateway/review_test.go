package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// Caddy's forward_auth and Traefik's forwardAuth pass the client's own
// headers on to the gateway, so a client of theirs can add the other
// convention's X-Original-URI (and nginx's client an X-Forwarded-Uri):
// two conventions that disagree, or a header sent twice, are a 400,
// never the judgement of the path the client names.
func TestForwardAuthConflictingConventions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	caddy := []string{"X-Forwarded-Method: GET", "X-Forwarded-Uri: /admin/x", "X-Forwarded-Proto: https",
		"X-Forwarded-Host: app.example", "X-Forwarded-For: 203.0.113.9"}
	nginx := []string{"Host: app.example", "X-Original-URI: /admin/x", "X-Original-Method: GET", "X-Forwarded-Proto: https"}
	tests := []struct {
		name    string
		path    string
		headers []string
		status  int
	}{
		{"caddy, client's X-Original-URI", "/_who/auth", append(caddy, "X-Original-URI: /public/x", basicBob), 400},
		{"caddy, client's X-Original-URI, anonymous", "/_who/auth", append(caddy, "X-Original-URI: /public/x"), 400},
		{"caddy, client's X-Original-Method", "/_who/auth", append(caddy, "X-Original-Method: POST"), 400},
		{"nginx, client's X-Forwarded-Uri", "/_who/auth", append(nginx, "X-Forwarded-Uri: /public/x"), 400},
		{"nginx, client's X-Forwarded-Method", "/_who/auth", append(nginx, "X-Forwarded-Method: POST"), 400},
		{"envoy, client's X-Original-URI", "/_who/auth/admin/x", []string{"Host: app.example", "X-Original-URI: /public/x", basicBob}, 400},
		{"envoy, client's X-Forwarded-Uri", "/_who/auth/admin/x", []string{"Host: app.example", "X-Forwarded-Uri: /public/x", basicBob}, 400},
		{"twice X-Forwarded-Uri", "/_who/auth", []string{"X-Forwarded-Method: GET", "X-Forwarded-Uri: /public/x", "X-Forwarded-Uri: /admin/x", basicBob}, 400},
		{"twice X-Original-URI", "/_who/auth", []string{"X-Original-URI: /public/x", "X-Original-URI: /admin/x", basicBob}, 400},
		// Agreeing conventions are one request (a proxy sending both).
		{"both, agreeing", "/_who/auth", append(caddy, "X-Original-URI: /admin/x", "X-Original-Method: get", basicBob), 403},
		{"both, agreeing, member", "/_who/auth", append(caddy, "X-Original-URI: /admin/x", basicAlice), 200},
		{"envoy, agreeing", "/_who/auth/admin/x", []string{"Host: app.example", "X-Forwarded-Uri: /admin/x", basicBob}, 403},
		// Unchanged: each convention alone.
		{"caddy alone", "/_who/auth", append(caddy, basicBob), 403},
		{"nginx alone", "/_who/auth", append(nginx, basicBob), 403},
	}
	for _, tt := range tests {
		resp := f.do(t, "GET", tt.path, tt.headers...)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d (identity %q)", tt.name, resp.StatusCode, tt.status, identity(resp))
		}
		if tt.status == 400 && identity(resp) != "||" {
			t.Errorf("%s: identity %q in a 400", tt.name, identity(resp))
		}
	}
}

// Methods are matched as an upstream reads them: case-insensitively (a
// "delete" is DELETE to Werkzeug, Rails, Express), and a rule naming GET
// covers HEAD (Go's ServeMux, Werkzeug and Django answer HEAD with the
// GET handler), in both modes.
func TestMethodRulesCaseAndHead(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{Path: "/api", Methods: []string{"DELETE", "GET"}, Groups: []string{"admins"}},
		{Path: "/api", Access: AccessPublic},
	}
	c := &Config{Rules: append([]Rule(nil), rules...)}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	bob := &who.Result{UserID: "bob", Identity: who.Identity{"groups": []string{"staff"}}}
	for _, m := range []string{"DELETE", "delete", "Delete", "GET", "get", "HEAD", "head"} {
		if v := c.Match(m, "/api/x").Verdict(bob, "groups"); v != Forbidden {
			t.Errorf("%s /api/x for bob: %v, want forbidden", m, v)
		}
		if v := c.Match(m, "/api/%78").Verdict(bob, "groups"); v != Forbidden {
			t.Errorf("%s /api/%%78 for bob: %v, want forbidden", m, v)
		}
	}
	for _, m := range []string{"POST", "post", "OPTIONS", "PUT"} {
		if v := c.Match(m, "/api/x").Verdict(nil, "groups"); v != Allow {
			t.Errorf("%s /api/x anonymous: %v, want allow (the public rule)", m, v)
		}
	}

	up := echoUpstream(t)
	f := newFixture(t, func(c *Config, o *Options) {
		c.Upstream = up.URL
		c.Rules = append([]Rule(nil), rules...)
	})
	for _, m := range []string{"delete", "head", "get"} {
		resp := f.do(t, m, "/api/x", basicBob)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("reverse proxy: %s /api/x for bob: status %d, want 403", m, resp.StatusCode)
		}
	}
	for _, m := range []string{"delete", "head"} {
		resp := f.do(t, "GET", "/_who/auth", "X-Original-URI: /api/x", "X-Original-Method: "+m, basicBob)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("forward-auth: %s /api/x for bob: status %d, want 403", m, resp.StatusCode)
		}
	}
}

// Request trailers are headers too, to an upstream that merges them: a
// client's identity trailers never reach it with a value (the declared
// names may, empty: httputil.ReverseProxy sends the trailer map it cloned
// before the body was read).
func TestProxyStripsIdentityTrailers(t *testing.T) {
	t.Parallel()
	got := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got <- r.Trailer.Clone()
	}))
	t.Cleanup(up.Close)
	f := newFixture(t, withUpstream(up.URL))
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(f.srv.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "POST /public/x HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n"+
		"Trailer: X-Remote-User, X_Remote_User, X-Who-Assertion, X-Other\r\n\r\n"+
		"3\r\nabc\r\n0\r\nX-Remote-User: mallory\r\nX_Remote_User: mallory\r\nX-Who-Assertion: forged\r\nX-Other: kept\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	select {
	case tr := <-got:
		for k, v := range tr {
			if strings.Contains(strings.Join(v, ","), "mallory") || strings.Contains(strings.Join(v, ","), "forged") {
				t.Errorf("trailer %s reached the upstream: %q", k, v)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream got no request")
	}
}

// A client naming the gateway's identity headers in Connection (hop by
// hop) does not make the reverse proxy drop the gateway's own values:
// httputil.ReverseProxy removes those before Rewrite sets them.
func TestProxyConnectionHeaderKeepsIdentity(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	f := newFixture(t, withUpstream(up.URL))
	resp := f.do(t, "GET", "/admin/x", basicAlice, "Connection: X-Remote-User, X-Remote-Groups, X-Who-Assertion")
	h := seen(t, resp)
	if h.Get("X-Remote-User") != "alice" || h.Get("X-Remote-Groups") != "admins,staff" {
		t.Errorf("upstream saw user %q groups %q, want alice and admins,staff", h.Get("X-Remote-User"), h.Get("X-Remote-Groups"))
	}
}

// A method override (X-HTTP-Method-Override, X-Method-Override,
// X-HTTP-Method, a _method query parameter, or a form POST whose body may
// hold _method) makes the request be judged as every method an upstream
// may run it as: a public GET rule lets no DELETE through.
func TestMethodOverride(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{Path: "/api", Methods: []string{"GET"}, Access: AccessPublic},
		{Path: "/api", Methods: []string{"OPTIONS"}, Access: AccessPublic}, // CORS preflight
		{Path: "/api", Methods: []string{"POST"}, Access: AccessPublic},
		{Path: "/api", Groups: []string{"admins"}},
	}
	c := &Config{Rules: append([]Rule(nil), rules...)}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	bob := &who.Result{UserID: "bob", Identity: who.Identity{"groups": []string{"staff"}}}
	alice := &who.Result{UserID: "alice", Identity: who.Identity{"groups": []string{"admins"}}}
	tests := []struct {
		method, target string
		headers        []string
		bob, anonymous Verdict
	}{
		{"GET", "/api/x", nil, Allow, Allow},
		{"OPTIONS", "/api/x", nil, Allow, Allow},
		{"POST", "/api/x", []string{"Content-Type: application/octet-stream"}, Allow, Allow},
		{"POST", "/api/x", []string{"Content-Type: text/xml"}, Allow, Allow},
		{"GET", "/api/x", []string{"X-HTTP-Method-Override: DELETE"}, Forbidden, NeedLogin},
		{"GET", "/api/x", []string{"X-Method-Override: delete"}, Forbidden, NeedLogin},
		{"GET", "/api/x", []string{"X-HTTP-Method: PUT"}, Forbidden, NeedLogin},
		{"OPTIONS", "/api/x", []string{"X-HTTP-Method-Override: DELETE"}, Forbidden, NeedLogin},
		{"GET", "/api/x", []string{"X-HTTP-Method-Override: GET, DELETE"}, Forbidden, NeedLogin},
		{"GET", "/api/x", []string{"X-HTTP-Method-Override: GET", "X-HTTP-Method-Override: DELETE"}, Forbidden, NeedLogin},
		{"GET", "/api/x", []string{"X-HTTP-Method-Override: GET"}, Allow, Allow}, // names its own method
		{"GET", "/api/x?_method=DELETE", nil, Forbidden, NeedLogin},
		{"GET", "/api/x?a=1&%5Fmethod=DELETE", nil, Forbidden, NeedLogin},
		{"GET", "/api/x?.method=DELETE", nil, Forbidden, NeedLogin}, // PHP reads it as _method
		{"GET", "/api/x?a=1;_METHOD=delete", nil, Forbidden, NeedLogin},
		{"GET", "/api/x?_method=%zz", nil, Forbidden, NeedLogin},
		{"GET", "/api/x?methods=DELETE&x_method=DELETE", nil, Allow, Allow},
		// A form POST: Rails, Laravel and Symfony read _method from the body.
		{"POST", "/api/x", nil, Forbidden, NeedLogin},
		{"POST", "/api/x", []string{"Content-Type: application/x-www-form-urlencoded"}, Forbidden, NeedLogin},
		{"POST", "/api/x", []string{"Content-Type: Multipart/Form-Data; boundary=x"}, Forbidden, NeedLogin},
		{"post", "/api/x", []string{"Content-Type: application/x-www-form-urlencoded; charset=utf-8"}, Forbidden, NeedLogin},
		{"POST", "/api/x", []string{"Content-Type: application/json"}, Forbidden, NeedLogin}, // Laravel
		{"POST", "/api/x", []string{"Content-Type: application/merge-patch+json"}, Forbidden, NeedLogin},
		{"PUT", "/api/x", []string{"Content-Type: application/x-www-form-urlencoded"}, Forbidden, NeedLogin},
		{"GET", "/api/x", []string{"Content-Type: application/x-www-form-urlencoded"}, Allow, Allow},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		r.Method = tt.method
		for _, h := range tt.headers {
			k, v, _ := strings.Cut(h, ": ")
			r.Header.Add(k, v)
		}
		m := c.MatchRequest(r)
		if v := m.Verdict(bob, "groups"); v != tt.bob {
			t.Errorf("%s %s %q for bob: %v, want %v (%s)", tt.method, tt.target, tt.headers, v, tt.bob, m)
		}
		if v := m.Verdict(nil, "groups"); v != tt.anonymous {
			t.Errorf("%s %s %q anonymous: %v, want %v (%s)", tt.method, tt.target, tt.headers, v, tt.anonymous, m)
		}
		if v := m.Verdict(alice, "groups"); v != Allow {
			t.Errorf("%s %s %q for alice: %v, want allow (%s)", tt.method, tt.target, tt.headers, v, m)
		}
	}
	// Very many override values: read as every method, in linear time.
	var many []string
	for i := range 200000 {
		many = append(many, fmt.Sprintf("M%d", i))
	}
	r := httptest.NewRequest("GET", "/api/x", nil)
	r.Header.Set("X-HTTP-Method-Override", strings.Join(many, ","))
	done := make(chan Verdict, 1)
	go func() { done <- c.MatchRequest(r).Verdict(bob, "groups") }()
	select {
	case v := <-done:
		if v != Forbidden {
			t.Errorf("200000 override values for bob: %v, want forbidden", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("200000 override values: no verdict in 10s")
	}
	r = httptest.NewRequest("GET", "/api/x?_method=DELETE", nil)
	if got, want := c.MatchRequest(r).String(), `rule 1 (path "/api", methods ["GET"], public) and rule 4 (path "/api", groups ["admins"]), by the views of the path (raw, decoded, folded, slashes merged or not) and the methods it may be read as (GET, DELETE): every one must allow`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}

	// Both modes judge the override.
	up := echoUpstream(t)
	f := newFixture(t, func(c *Config, o *Options) {
		c.Upstream = up.URL
		c.Rules = append([]Rule(nil), rules...)
	})
	for _, h := range [][]string{{"X-HTTP-Method-Override: DELETE", basicBob}, {"X-HTTP-Method: DELETE", basicBob}} {
		if resp := f.do(t, "GET", "/api/x", h...); resp.StatusCode != http.StatusForbidden {
			t.Errorf("reverse proxy: GET /api/x %q: status %d, want 403", h, resp.StatusCode)
		}
	}
	if resp := f.do(t, "GET", "/api/x?_method=DELETE", basicBob); resp.StatusCode != http.StatusForbidden {
		t.Errorf("reverse proxy: GET /api/x?_method=DELETE: status %d, want 403", resp.StatusCode)
	}
	if resp := f.do(t, "GET", "/api/x", basicBob); resp.StatusCode != http.StatusOK {
		t.Errorf("reverse proxy: GET /api/x: status %d, want 200", resp.StatusCode)
	}
	fwd := []struct {
		headers []string
		status  int
	}{
		{[]string{"X-Original-URI: /api/x", "X-Original-Method: GET", "X-HTTP-Method-Override: DELETE", basicBob}, 403},
		{[]string{"X-Original-URI: /api/x?_method=DELETE", "X-Original-Method: GET", basicBob}, 403},
		{[]string{"X-Forwarded-Uri: /api/x", "X-Forwarded-Method: POST", "Content-Type: application/x-www-form-urlencoded", basicBob}, 403},
		{[]string{"X-Forwarded-Uri: /api/x", "X-Forwarded-Method: POST", "Content-Type: application/octet-stream", basicBob}, 200},
		{[]string{"X-Forwarded-Uri: /api/x", "X-Forwarded-Method: POST", "Content-Type: application/json", basicBob}, 403},
		{[]string{"X-Original-URI: /api/x", "X-Original-Method: GET", basicBob}, 200},
	}
	for _, tt := range fwd {
		if resp := f.do(t, "GET", "/_who/auth", tt.headers...); resp.StatusCode != tt.status {
			t.Errorf("forward-auth %q: status %d, want %d", tt.headers, resp.StatusCode, tt.status)
		}
	}
}

// A CORS preflight carries no credentials: through a groups rule it gets
// the challenge, unless a public OPTIONS rule comes first; a member's
// OPTIONS passes.
func TestOptionsThroughGroupsRule(t *testing.T) {
	t.Parallel()
	c := &Config{Rules: []Rule{{Path: "/admin", Groups: []string{"admins"}}}}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	alice := &who.Result{UserID: "alice", Identity: who.Identity{"groups": []string{"admins"}}}
	r := httptest.NewRequest("OPTIONS", "/admin/x", nil)
	r.Header.Set("Access-Control-Request-Method", "DELETE")
	if v := c.MatchRequest(r).Verdict(nil, "groups"); v != NeedLogin {
		t.Errorf("anonymous preflight: %v, want login needed", v)
	}
	if v := c.MatchRequest(r).Verdict(alice, "groups"); v != Allow {
		t.Errorf("a member's OPTIONS: %v, want allow", v)
	}
}
