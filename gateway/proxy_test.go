package gateway

import (
	"bufio"
	"encoding/json"
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

// echoUpstream answers with the request headers it got, as JSON.
func echoUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		h := r.Header.Clone()
		h.Set("X-Seen-Host", r.Host)
		h.Set("X-Seen-Path", r.URL.RequestURI())
		_ = json.NewEncoder(w).Encode(h)
	}))
	t.Cleanup(up.Close)
	return up
}

func withUpstream(u string) func(*Config, *Options) {
	return func(c *Config, _ *Options) { c.Upstream = u }
}

func seen(t *testing.T, resp *http.Response) http.Header {
	t.Helper()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var h http.Header
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// A client's identity headers, in every spelling, never reach the
// upstream; the gateway's own do, after them; a client's X-Forwarded-For
// and Forwarded are dropped unless it is a trusted proxy.
func TestProxyHeaders(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	spoof := []string{"X-Remote-User: mallory", "X_Remote_User: mallory", "x-remote-user: mallory", "X-REMOTE_USER: mallory",
		"Remote-User: mallory", "Remote_User: mallory", "X-Remote-Mail: m@evil", "X_remote_groups: admins",
		"X-Who-Assertion: forged", "X-Forwarded-For: 198.51.100.1", "Forwarded: for=198.51.100.1"}
	idNames := []string{"X-Remote-User", "X_remote_user", "X-Remote_user", "Remote-User", "Remote_user", "X-Remote-Mail", "X_remote_groups", "X-Remote-Groups", "X-Who-Assertion"}

	t.Run("untrusted client", func(t *testing.T) {
		t.Parallel()
		f := newFixtureFile(t, noTrustedProxies, withUpstream(up.URL))
		h := seen(t, f.do(t, "GET", "/public/x", spoof...))
		for _, n := range idNames {
			if v, ok := h[n]; ok {
				t.Errorf("upstream got %s: %q", n, v)
			}
		}
		if got := h.Get("X-Forwarded-For"); got != "127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want the peer alone", got)
		}
		if got := h.Get("Forwarded"); got != "" {
			t.Errorf("Forwarded %q reached the upstream", got)
		}
		h = seen(t, f.do(t, "GET", "/x", append(spoof, basicBob)...))
		if h.Get("X-Remote-User") != "bob" || h.Get("X-Remote-Mail") != "bob@example.com" || h.Get("X-Remote-Groups") != "staff" {
			t.Errorf("identity %q %q %q", h.Get("X-Remote-User"), h.Get("X-Remote-Mail"), h.Get("X-Remote-Groups"))
		}
		if len(h["X-Remote-User"]) != 1 || h["X_remote_user"] != nil || h["Remote-User"] != nil {
			t.Errorf("spoofed spellings beside the real one: %v", h)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withUpstream(up.URL))
		h := seen(t, f.do(t, "GET", "/public/x", "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https", "X-Forwarded-Host: app.example", "X_Remote_User: mallory"))
		if got := h.Get("X-Forwarded-For"); got != "203.0.113.9, 127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want the proxy's list and the peer", got)
		}
		if h.Get("X-Forwarded-Proto") != "https" || h.Get("X-Forwarded-Host") != "app.example" {
			t.Errorf("X-Forwarded-Proto %q, -Host %q", h.Get("X-Forwarded-Proto"), h.Get("X-Forwarded-Host"))
		}
		if _, ok := h["X_remote_user"]; ok {
			t.Error("X_Remote_User reached the upstream")
		}
	})
	// A CGI or old WSGI server reads X-Forwarded_For as
	// HTTP_X_FORWARDED_FOR: only the gateway's own spelling may arrive.
	t.Run("forwarding headers in other spellings", func(t *testing.T) {
		t.Parallel()
		f := newFixtureFile(t, noTrustedProxies, withUpstream(up.URL))
		h := seen(t, f.do(t, "GET", "/public/x", "X-Forwarded_For: 198.51.100.7", "X_Forwarded_Proto: https",
			"x-forwarded_host: evil.example", "X_FORWARDED_PORT: 1", "X-Real_Ip: 198.51.100.7"))
		for k, v := range h {
			for _, n := range forwardingHeaders {
				if k != n && who.HeaderNamesMatch(k, n) {
					t.Errorf("upstream got %s: %q", k, v)
				}
			}
		}
		if got := h.Get("X-Forwarded-For"); got != "127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want the peer alone", got)
		}
	})
}

// The rules apply in front of the upstream: a login for the default, 403
// for a non-member, and the prefix never reaches it.
func TestProxyRules(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	f := newFixture(t, withUpstream(up.URL))
	tests := []struct {
		path    string
		headers []string
		status  int
	}{
		{"/x", nil, 401},
		{"/x", []string{acceptHTML}, 302},
		{"/admin", []string{basicBob}, 403},
		{"/admin", []string{basicAlice}, 200},
		{"/public/%2e%2e/admin", []string{basicBob}, 403},
		{"/_who/nothing", []string{basicAlice}, 404},
		{"/_who/login", []string{acceptHTML}, 200}, // the form's page, served by the chain
	}
	for _, tt := range tests {
		resp := f.do(t, "GET", tt.path, tt.headers...)
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
		if tt.status == 404 && resp.Header.Get("Content-Type") == "application/json" {
			t.Errorf("GET %s reached the upstream", tt.path)
		}
	}
}

// A streamed response reaches the client as it is written: the first
// event arrives while the upstream handler is still running.
func TestProxyStreaming(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	done := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		fmt.Fprint(w, "data: second\n\n")
	}))
	t.Cleanup(up.Close)
	f := newFixture(t, withUpstream(up.URL))
	resp := f.do(t, "GET", "/public/events")
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	select {
	case <-done:
		t.Fatal("the upstream handler ended before the first event arrived")
	default:
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Errorf("rest %q", rest)
	}
}

// A WebSocket upgrade passes through the proxy: the 101 and then bytes
// both ways on the hijacked connection.
func TestProxyWebSocket(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("X-Remote-User") != "bob" {
			http.Error(w, "want an upgrade from bob", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		brw.Flush()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		line, err := brw.ReadString('\n')
		if err != nil {
			return
		}
		fmt.Fprint(brw, "echo: "+line)
		brw.Flush()
	}))
	t.Cleanup(up.Close)
	f := newFixture(t, withUpstream(up.URL))
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(f.srv.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "GET /chat HTTP/1.1\r\nHost: app.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+basicBob+"\r\nX_Remote_User: mallory\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	fmt.Fprint(conn, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: hello\n" {
		t.Fatalf("echo %q, %v", line, err)
	}
}

// An upstream that is down gives 502 and one log line naming it, without
// the query or the credentials.
func TestProxyUpstreamDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	f := newFixture(t, withUpstream("http://"+addr))
	resp := f.do(t, "GET", "/x?token=s3cr3t-query", basicAlice)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	log := f.log.String()
	if n := strings.Count(log, "upstream unreachable"); n != 1 {
		t.Errorf("%d log lines, want 1:\n%s", n, log)
	}
	if !strings.Contains(log, addr) {
		t.Errorf("the log does not name the upstream %s:\n%s", addr, log)
	}
	for _, secret := range []string{"s3cr3t-query", "wonderland", "YWxpY2U6d29uZGVybGFuZA"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
}
