package whocmd

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestGatewayCommand runs `who gateway` on examples/gateway.toml on a
// free port: its forward-auth endpoint answers as nginx expects, the
// key set is served, and it stops on SIGTERM.
func TestGatewayCommand(t *testing.T) {
	t.Parallel()
	stop := make(chan os.Signal, 2)
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- gatewayMain([]string{"-config", "../examples/gateway.toml", "-addr", "127.0.0.1:0"}, stop, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	get := func(path string, h ...string) *http.Response {
		req, _ := http.NewRequest("GET", base+path, nil)
		for _, kv := range h {
			k, v, _ := strings.Cut(kv, ": ")
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/_who/auth", "X-Original-URI: /public/x"); resp.StatusCode != 200 {
		t.Errorf("public: %d", resp.StatusCode)
	}
	if resp := get("/_who/auth", "X-Original-URI: /x", "Accept: text/html"); resp.StatusCode != 401 || resp.Header.Get("X-Who-Location") == "" {
		t.Errorf("anonymous browser: %d %q", resp.StatusCode, resp.Header.Get("X-Who-Location"))
	}
	if resp := get("/_who/auth", "X-Original-URI: /x", "Authorization: Basic YWxpY2U6d29uZGVybGFuZA=="); resp.StatusCode != 200 || resp.Header.Get("X-Remote-User") != "alice" {
		t.Errorf("alice: %d %q", resp.StatusCode, resp.Header.Get("X-Remote-User"))
	}
	if resp := get("/_who/jwks.json"); resp.StatusCode != 200 {
		t.Errorf("jwks: %d", resp.StatusCode)
	}
	stop <- syscall.SIGTERM
	if code := <-done; code != 0 {
		t.Errorf("exit %d after shutdown", code)
	}
}

func TestGatewayCommandUsage(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	if code := gatewayMain([]string{"-h"}, nil, io.Discard, &stderr); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	for _, f := range []string{"-config", "-addr", "-debug", "-shutdown-timeout", "-read-header-timeout", "-max-header-bytes"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("usage lacks %s:\n%s", f, stderr.String())
		}
	}
	if code := gatewayMain(nil, nil, io.Discard, io.Discard); code != 2 {
		t.Errorf("no config: exit %d, want 2", code)
	}
	if code := gatewayMain([]string{"nosuch.toml"}, nil, io.Discard, io.Discard); code != 1 {
		t.Errorf("missing config: exit %d, want 1", code)
	}
}

// `who check` accepts a file with [gateway] and reports its mistakes.
func TestCheckGatewayFile(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := Run([]string{"check", "../examples/gateway.toml"}, nil, &out, &errb); code != 0 {
		t.Errorf("who check examples/gateway.toml: exit %d\n%s", code, errb.String())
	}
	bad := t.TempDir() + "/who.toml"
	_ = os.WriteFile(bad, []byte("[gateway]\nauth_pth = \"/x\"\n"), 0o600)
	errb.Reset()
	if code := Run([]string{"check", bad}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), `:2: [gateway]: unknown key "auth_pth" (did you mean "auth_path"?)`) {
		t.Errorf("exit %d:\n%s", code, errb.String())
	}
}

// `who explain` names the [gateway] rule a request matches and its
// verdict for the winner.
func TestExplainGatewayRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"GET", "/admin/x", "-H", "Authorization: Basic Ym9iOmJ1aWxkZXI="}, `gateway: rule 3 (path "/admin", groups ["admins"]): forbidden`},
		{[]string{"GET", "/public/../admin"}, `gateway: rule 3 (path "/admin", groups ["admins"]): login needed`},
		{[]string{"GET", "/public/a"}, `gateway: rule 1 (path "/public", public): allow`},
		{[]string{"GET", "/other"}, `gateway: no rule: the default, a login is needed: login needed`},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := Run(append([]string{"explain", "../examples/gateway.toml"}, tt.args...), nil, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%q: output lacks %q:\n%s", tt.args, tt.want, out.String())
		}
	}
}
