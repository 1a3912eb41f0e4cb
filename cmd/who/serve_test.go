package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// demoServer serves examples/who.toml's chain in front of the demo app.
func demoServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, closeChain, err := newServer("../../examples/who.toml", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("loading examples/who.toml: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = closeChain() })
	return srv
}

type exchange struct {
	method, path, user, pass, form string
	wantStatus                     int
	wantBody                       string // substring
	wantHeader                     map[string]string
	wantNoBody                     string
}

func (e exchange) run(t *testing.T, srv *httptest.Server) *http.Response {
	t.Helper()
	var body io.Reader
	if e.form != "" {
		body = strings.NewReader(e.form)
	}
	req, err := http.NewRequest(e.method, srv.URL+e.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if e.form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if e.user != "" {
		req.SetBasicAuth(e.user, e.pass)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != e.wantStatus {
		t.Errorf("%s %s: status %d, want %d (body %q)", e.method, e.path, resp.StatusCode, e.wantStatus, b)
	}
	if !strings.Contains(string(b), e.wantBody) {
		t.Errorf("%s %s: body %q lacks %q", e.method, e.path, b, e.wantBody)
	}
	if e.wantNoBody != "" && strings.Contains(string(b), e.wantNoBody) {
		t.Errorf("%s %s: body %q holds %q", e.method, e.path, b, e.wantNoBody)
	}
	for k, v := range e.wantHeader {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s %s: %s = %q, want %q", e.method, e.path, k, got, v)
		}
	}
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp
}

// TestDemoExchanges replays REPOZE-WHO.md §7.2 against `who serve`'s
// handler, with Basic auth standing in for auth_tkt.
func TestDemoExchanges(t *testing.T) {
	t.Parallel()
	srv := demoServer(t)
	basic := map[string]string{"Www-Authenticate": `Basic realm="gowho demo"`}
	tests := []struct {
		name string
		ex   exchange
	}{
		{"(1) anonymous /protected is challenged", exchange{method: "GET", path: "/protected",
			wantStatus: 401, wantHeader: basic, wantNoBody: "login required"}},
		{"(2) the login form", exchange{method: "GET", path: "/login?came_from=%2Fprotected",
			wantStatus: 200, wantBody: `name="came_from" value="/protected"`}},
		{"(3) good login by Basic", exchange{method: "GET", path: "/protected", user: "alice", pass: "wonderland",
			wantStatus: 200, wantBody: "protected: alice"}},
		{"(3) good login by apr1 Basic", exchange{method: "GET", path: "/protected", user: "bob", pass: "builder",
			wantStatus: 200, wantBody: "protected: bob"}},
		{"(3) good login by form", exchange{method: "POST", path: "/login", form: "login=alice&password=wonderland&came_from=%2Fprotected",
			wantStatus: 302, wantHeader: map[string]string{"Location": "/protected"}}},
		{"(3a) bad password by Basic", exchange{method: "GET", path: "/protected", user: "alice", pass: "nope",
			wantStatus: 401, wantHeader: basic}},
		{"(3a) bad password by form", exchange{method: "POST", path: "/login", form: "login=alice&password=nope&came_from=%2Fprotected",
			wantStatus: 200, wantBody: "bad login"}},
		{"(3a) unknown user", exchange{method: "GET", path: "/protected", user: "mallory", pass: "wonderland",
			wantStatus: 401, wantHeader: basic}},
		{"(4) home page", exchange{method: "GET", path: "/", user: "alice", pass: "wonderland",
			wantStatus: 200, wantBody: "hello, alice"}},
		{"(4) anonymous home page", exchange{method: "GET", path: "/", wantStatus: 200, wantBody: "hello, anonymous"}},
		{"(5) logout", exchange{method: "GET", path: "/logout", user: "alice", pass: "wonderland",
			wantStatus: 302, wantHeader: map[string]string{"Location": "/"}}},
		{"(6) malformed Basic header", exchange{method: "GET", path: "/protected", user: "alice\xff", pass: "x",
			wantStatus: 401, wantHeader: basic}},
		{"hostile came_from falls back to /", exchange{method: "POST", path: "/login", form: "login=alice&password=wonderland&came_from=%2F%2Fevil.example",
			wantStatus: 302, wantHeader: map[string]string{"Location": "/"}}},
		{"whoami anonymous", exchange{method: "GET", path: "/whoami", wantStatus: 200, wantBody: `{"userid":null}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.ex.run(t, srv) })
	}
}

func TestDemoWhoami(t *testing.T) {
	t.Parallel()
	srv := demoServer(t)
	resp := exchange{method: "GET", path: "/whoami", user: "alice", pass: "wonderland", wantStatus: 200}.run(t, srv)
	var got struct {
		UserID        *string        `json:"userid"`
		Identifier    string         `json:"identifier"`
		Authenticator string         `json:"authenticator"`
		Identity      map[string]any `json:"identity"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.UserID == nil || *got.UserID != "alice" || got.Identifier != "basicauth" || got.Authenticator != "htpasswd" {
		t.Errorf("whoami = %+v", got)
	}
	if _, leaked := got.Identity["password"]; leaked {
		t.Error("whoami shows the password")
	}
	if got.Identity["login"] != "alice" {
		t.Errorf("identity %v lacks the login", got.Identity)
	}
}

func TestSafeRedirect(t *testing.T) {
	t.Parallel()
	good := []string{"/", "/protected", "/a?b=c", "/a#x", "/%2F%2Fevil"}
	bad := []string{"", "//evil.example", "///evil", "/\\evil", "\\\\evil", "https://evil.example", "https:evil",
		"http:/evil", "javascript:alert(1)", "/a\r\nSet-Cookie: x", "/a\tb", "evil.example", " /x", "\x00/x",
		"//evil.example/%2e%2e", "/\t/evil", "data:text/html,x", "//", "/\\/evil"}
	for _, s := range good {
		if got := safeRedirect(s); got != s {
			t.Errorf("safeRedirect(%q) = %q, want it kept", s, got)
		}
	}
	for _, s := range bad {
		if got := safeRedirect(s); got != "/" {
			t.Errorf("safeRedirect(%q) = %q, want /", s, got)
		}
	}
	// Whatever passes is a path on this site once a browser resolves it.
	base, _ := url.Parse("http://app.example/")
	for _, s := range append(good, bad...) {
		u, err := base.Parse(safeRedirect(s))
		if err != nil || u.Host != "app.example" {
			t.Errorf("safeRedirect(%q) resolves to %v", s, u)
		}
	}
}

// TestServeCommand runs `who serve` on a free port, waits for its
// "listening on" line, sends a request and stops it.
func TestServeCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- serveUntil(ctx, []string{"-config", "../../examples/who.toml", "-addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	resp, err := http.Get(strings.TrimSpace(strings.TrimPrefix(line, "listening on ")) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello, anonymous\n" {
		t.Errorf("GET / = %q", body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after shutdown", code)
	}
	if code := serveUntil(context.Background(), []string{"-config", "nosuch.toml"}, io.Discard, io.Discard); code != 1 {
		t.Errorf("missing config: exit %d, want 1", code)
	}
	if code := serveUntil(context.Background(), nil, io.Discard, io.Discard); code != 2 {
		t.Errorf("no -config: exit %d, want 2", code)
	}
}
