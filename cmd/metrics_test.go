package whocmd

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a command's stderr for a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeMetrics runs `who serve -metrics 127.0.0.1:0 -audit` on
// examples/basic-cache.toml, sends a scripted set of requests, scrapes
// the metrics listener and checks the counts, and the audit lines.
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	stop := make(chan os.Signal, 2)
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- serveMain([]string{"-config", "../examples/basic-cache.toml", "-addr", "127.0.0.1:0",
			"-metrics", "127.0.0.1:0", "-audit"}, stop, pw, &stderr)
		pw.Close()
	}()
	out := bufio.NewReader(pr)
	var metricsURL, appURL string
	for metricsURL == "" || appURL == "" {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("stdout: %v (stderr: %s)", err, stderr.String())
		}
		switch {
		case strings.HasPrefix(line, "metrics on "):
			metricsURL = strings.TrimSpace(strings.TrimPrefix(line, "metrics on "))
		case strings.HasPrefix(line, "listening on "):
			appURL = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	client := &http.Client{Timeout: 30 * time.Second}
	get := func(url, user, pass string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		user, pass string
		want       int
	}{
		{"", "", 401},
		{"alice", "wonderland", 200}, // a miss: one bcrypt
		{"alice", "wonderland", 200}, // a hit
		{"bob", "nope", 401},         // a miss, a failed login
	} {
		if got := get(appURL+"/protected", c.user, c.pass); got != c.want {
			t.Fatalf("%s: status %d, want %d", c.user, got, c.want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, metricsURL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	scrape := string(body)
	for _, want := range []string{
		`gowho_plugin_calls_total{outcome="found",plugin="basicauth",stage="identifiers"} 3`,
		`gowho_plugin_calls_total{outcome="none",plugin="basicauth",stage="identifiers"} 1`,
		`gowho_plugin_calls_total{outcome="userid",plugin="cached_htpasswd",stage="authenticators"} 2`,
		`gowho_plugin_calls_total{outcome="no",plugin="cached_htpasswd",stage="authenticators"} 1`,
		`gowho_cache_requests_total{outcome="hit",plugin="cached_htpasswd"} 1`,
		`gowho_cache_requests_total{outcome="miss",plugin="cached_htpasswd"} 2`,
		`gowho_challenges_total{challenger="basicauth"} 2`,
		`gowho_logins_total{outcome="fail",reason="rejected"} 1`,
		`gowho_requests_total{authenticated="true",classification="browser"} 2`,
		`gowho_requests_total{authenticated="false",classification="browser"} 2`,
		"go_goroutines ",
	} {
		if !strings.Contains(scrape, want+"\n") && !strings.Contains(scrape, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", scrape)
	}
	stop <- syscall.SIGTERM
	if code := <-done; code != 0 {
		t.Errorf("exit %d after shutdown; stderr:\n%s", code, stderr.String())
	}
	log := stderr.String()
	for _, want := range []string{
		`msg="gowho login" event=login client=127.0.0.1 classification=browser outcome=fail identifier=basicauth plugin="" reason=rejected userid="" login=bob`,
		`msg="gowho challenge" event=challenge client=127.0.0.1 classification=browser plugin=basicauth status=401 method=GET path=/protected`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "wonderland") || strings.Contains(log, "nope") {
		t.Errorf("a password in the log:\n%s", log)
	}
	// The metrics listener is closed with the server.
	if _, err := client.Get(metricsURL); err == nil {
		t.Error("the metrics listener still answers after shutdown")
	}
}
