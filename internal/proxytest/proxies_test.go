package proxytest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gowho/gowho/internal/browsertest"
)

const (
	basicAlice = "Basic YWxpY2U6d29uZGVybGFuZA==" // alice:wonderland
	basicBob   = "Basic Ym9iOmJ1aWxkZXI="         // bob:builder
)

// seen is what testdata/app.py answers: the CGI variables it was given.
type seen map[string]*string

func (s seen) get(k string) string {
	if v := s[k]; v != nil {
		return *v
	}
	return ""
}

// fetch sends method path to base with the headers (a "X_Remote_User"
// key is sent as written), not following redirects, and returns the
// response and its body.
func fetch(t *testing.T, method, url string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	c := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// appSaw fetches url, wants a 200 from the application and returns what
// it saw.
func appSaw(t *testing.T, url string, headers map[string]string) seen {
	t.Helper()
	resp, body := fetch(t, http.MethodGet, url, headers)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, want 200: %.300s", url, resp.Status, body)
	}
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("GET %s: not the application's JSON (%v): %.300s", url, err, body)
	}
	return s
}

// spoofed are the identity headers a client might send, every spelling.
var spoofed = map[string]string{
	"X-Remote-User":    "mallory",
	"X_Remote_User":    "mallory",
	"x-remote-user":    "mallory",
	"Remote-User":      "mallory",
	"Remote_User":      "mallory",
	"X-Forwarded-User": "mallory",
	"X-Remote-Groups":  "admins",
	"X_Remote_Groups":  "admins",
	"X-Remote-Mail":    "mallory@example.com",
	"X-Who-Assertion":  "forged",
	"X-Forwarded-For":  "10.9.9.9",
}

// with returns spoofed plus the pairs.
func with(pairs ...string) map[string]string {
	h := map[string]string{}
	for k, v := range spoofed {
		h[k] = v
	}
	for i := 0; i < len(pairs); i += 2 {
		h[pairs[i]] = pairs[i+1]
	}
	return h
}

// noIdentity fails when the application saw any identity header or a
// forged forwarding address.
func noIdentity(t *testing.T, what string, s seen) {
	t.Helper()
	for _, k := range []string{"HTTP_X_REMOTE_USER", "HTTP_REMOTE_USER", "REMOTE_USER", "HTTP_X_FORWARDED_USER",
		"HTTP_X_REMOTE_GROUPS", "HTTP_X_REMOTE_MAIL", "HTTP_X_WHO_ASSERTION"} {
		if v := s.get(k); v != "" {
			t.Errorf("%s: the application saw %s=%q", what, k, v)
		}
	}
	if xff := s.get("HTTP_X_FORWARDED_FOR"); strings.Contains(xff, "10.9.9.9") {
		t.Errorf("%s: the client's X-Forwarded-For reached the application: %q", what, xff)
	}
}

// proxyCases are the cases every proxy in front of the gateway passes;
// front is the proxy's base URL.
func proxyCases(t *testing.T, front string) {
	t.Run("basic", func(t *testing.T) {
		s := appSaw(t, front+"/private/x?a=1", map[string]string{"Authorization": basicAlice})
		if got := s.get("HTTP_X_REMOTE_USER"); got != "alice" {
			t.Errorf("HTTP_X_REMOTE_USER %q, want alice", got)
		}
		if got := s.get("HTTP_X_REMOTE_GROUPS"); got != "admins,staff" {
			t.Errorf("HTTP_X_REMOTE_GROUPS %q", got)
		}
		if got := s.get("HTTP_X_REMOTE_MAIL"); got != "alice@example.com" {
			t.Errorf("HTTP_X_REMOTE_MAIL %q", got)
		}
		if got := s.get("HTTP_X_WHO_ASSERTION"); strings.Count(got, ".") != 2 {
			t.Errorf("HTTP_X_WHO_ASSERTION %q, want a JWS", got)
		}
		if s.get("PATH_INFO") != "/private/x" || s.get("QUERY_STRING") != "a=1" {
			t.Errorf("the application got %q ? %q", s.get("PATH_INFO"), s.get("QUERY_STRING"))
		}
	})
	t.Run("api client challenged", func(t *testing.T) {
		resp, body := fetch(t, http.MethodGet, front+"/private/x", nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("anonymous API client: %s WWW-Authenticate %q, want 401 Basic: %.200s",
				resp.Status, resp.Header.Get("WWW-Authenticate"), body)
		}
	})
	t.Run("bad password", func(t *testing.T) {
		resp, _ := fetch(t, http.MethodGet, front+"/private/x", map[string]string{"Authorization": "Basic YWxpY2U6bm8="})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad password: %s, want 401", resp.Status)
		}
	})
	t.Run("spoofed headers, logged in", func(t *testing.T) {
		s := appSaw(t, front+"/private/x", with("Authorization", basicBob))
		if got := s.get("HTTP_X_REMOTE_USER"); got != "bob" {
			t.Errorf("HTTP_X_REMOTE_USER %q, want bob", got)
		}
		if got := s.get("HTTP_X_REMOTE_GROUPS"); got != "staff" {
			t.Errorf("HTTP_X_REMOTE_GROUPS %q, want staff", got)
		}
		for _, k := range []string{"HTTP_REMOTE_USER", "REMOTE_USER", "HTTP_X_FORWARDED_USER"} {
			if v := s.get(k); v != "" {
				t.Errorf("the application saw %s=%q", k, v)
			}
		}
		if s.get("HTTP_X_WHO_ASSERTION") == "forged" {
			t.Error("the client's X-Who-Assertion reached the application")
		}
		if xff := s.get("HTTP_X_FORWARDED_FOR"); xff != "127.0.0.1" {
			t.Errorf("HTTP_X_FORWARDED_FOR %q, want the client's address 127.0.0.1", xff)
		}
	})
	t.Run("spoofed headers, anonymous on a public path", func(t *testing.T) {
		noIdentity(t, "public", appSaw(t, front+"/public/page", with()))
	})
	t.Run("spoofed headers alone", func(t *testing.T) {
		resp, body := fetch(t, http.MethodGet, front+"/private/x", with())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("spoofed identity headers without credentials: %s, want 401: %.200s", resp.Status, body)
		}
	})
	t.Run("public", func(t *testing.T) {
		noIdentity(t, "public", appSaw(t, front+"/public/page", nil))
	})
	t.Run("groups", func(t *testing.T) {
		resp, _ := fetch(t, http.MethodGet, front+"/admin/x", map[string]string{"Authorization": basicBob})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("bob (staff) at /admin: %s, want 403", resp.Status)
		}
		resp, _ = fetch(t, http.MethodGet, front+"/public/../admin/x", map[string]string{"Authorization": basicBob})
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("bob at /public/../admin: %s, want 403 (or the proxy's 400)", resp.Status)
		}
		if s := appSaw(t, front+"/admin/x", map[string]string{"Authorization": basicAlice}); s.get("HTTP_X_REMOTE_USER") != "alice" {
			t.Errorf("alice (admins) at /admin: the application saw %q", s.get("HTTP_X_REMOTE_USER"))
		}
	})
	t.Run("browser", func(t *testing.T) { browserLogin(t, front) })
}

// browserLogin: headless Chromium goes to a protected URL through the
// proxy, reaches the login form, logs in and lands on the URL it asked
// for, where the application sees alice.
func browserLogin(t *testing.T, front string) {
	ctx := browsertest.Start(t, 60*time.Second)
	target := front + "/private/page?a=1&b=2"
	if err := chromedp.Do(ctx,
		chromedp.Navigate(target),
		chromedp.WaitVisible(chromedp.ID("password")),
	); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("the login form did not show for %s (at %s): %v", target, loc, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("login"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "wonderland"),
		chromedp.Click(chromedp.ID("submit")),
		browsertest.WaitTrue(`location.pathname === "/private/page" && document.body.innerText.includes("HTTP_X_REMOTE_USER")`,
			"back at the page with the application's answer"),
	); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("login: %v (at %s: %.300s)", err, loc, body)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if loc != target {
		t.Errorf("landed on %s, want %s", loc, target)
	}
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("not the application's JSON: %v: %.300s", err, body)
	}
	if s.get("HTTP_X_REMOTE_USER") != "alice" {
		t.Errorf("after the login the application saw HTTP_X_REMOTE_USER %q", s.get("HTTP_X_REMOTE_USER"))
	}
	if !strings.Contains(s.get("HTTP_COOKIE"), "auth_tkt=") {
		t.Errorf("the browser sent no auth_tkt cookie: %q", s.get("HTTP_COOKIE"))
	}
}

// TestNginx: nginx auth_request (testdata/nginx.conf, as docs/gateway.md
// shows it) in front of the gateway and the WSGI application.
func TestNginx(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	gw := startGateway(t, nil)
	ng := startNginx(t, gw.Addr, app.Addr)
	proxyCases(t, "http://"+ng.Addr)
}

// TestCaddy: Caddy's forward_auth (testdata/Caddyfile, as
// docs/gateway.md shows it) in front of the gateway and the WSGI
// application.
func TestCaddy(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	gw := startGateway(t, nil)
	cd := startCaddy(t, gw.Addr, app.Addr)
	proxyCases(t, "http://"+cd.Addr)
}

// TestReverseProxyMode: the gateway itself in front of the WSGI
// application (upstream = ...): identity headers, a streamed answer, and
// a 502 once the application is down. (gateway/'s own tests pass a
// WebSocket upgrade through this mode.)
func TestReverseProxyMode(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	gw := startGateway(t, func(s string) string {
		// The test's client is not a proxy: trust none.
		s = strings.Replace(s, `trusted_proxies = ["127.0.0.1/32", "::1/128"]`, "", 1)
		return strings.Replace(s, "[gateway]\n", "[gateway]\nupstream = \"http://"+app.Addr+"\"\n", 1)
	})
	front := "http://" + gw.Addr
	t.Run("spoofed headers", func(t *testing.T) {
		s := appSaw(t, front+"/private/x", with("Authorization", basicBob))
		if got := s.get("HTTP_X_REMOTE_USER"); got != "bob" {
			t.Errorf("HTTP_X_REMOTE_USER %q, want bob", got)
		}
		for _, k := range []string{"HTTP_REMOTE_USER", "REMOTE_USER", "HTTP_X_FORWARDED_USER"} {
			if v := s.get(k); v != "" {
				t.Errorf("the application saw %s=%q", k, v)
			}
		}
		if xff := s.get("HTTP_X_FORWARDED_FOR"); xff != "127.0.0.1" {
			t.Errorf("HTTP_X_FORWARDED_FOR %q, want the peer 127.0.0.1 alone", xff)
		}
		noIdentity(t, "public", appSaw(t, front+"/public/x", with()))
	})
	t.Run("streamed", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, front+"/stream", nil)
		req.Header.Set("Authorization", basicAlice)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength != -1 {
			t.Fatalf("status %s, length %d: want 200 of unknown length", resp.Status, resp.ContentLength)
		}
		br := bufio.NewReader(resp.Body)
		for i := range 3 {
			line, err := br.ReadString('\n')
			if want := "chunk " + string(rune('0'+i)) + "\n"; line != want || err != nil {
				t.Fatalf("line %d %q, %v; want %q", i, line, err, want)
			}
		}
	})
	t.Run("upstream down", func(t *testing.T) {
		app.Stop()
		resp, _ := fetch(t, http.MethodGet, front+"/private/x?token=s3cr3t", map[string]string{"Authorization": basicAlice})
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("application down: %s, want 502", resp.Status)
		}
		log := gw.Log.String()
		if !strings.Contains(log, "upstream unreachable") || !strings.Contains(log, app.Addr) {
			t.Errorf("no log line naming the upstream %s:\n%s", app.Addr, log)
		}
		if strings.Contains(log, "s3cr3t") || strings.Contains(log, "YWxpY2U6") {
			t.Errorf("the log holds the query or the credentials:\n%s", log)
		}
	})
}
