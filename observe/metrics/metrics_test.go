package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/observe/metrics"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// protected answers 401 to anonymous requests (the chain challenges) and
// 200 to authenticated ones.
var protected = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if who.UserID(r.Context()) == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
})

// TestScriptedRequests sends a known set of requests through the chain of
// testdata/who.toml (Basic, htpasswd behind a throttle and an in-process
// cache), scrapes the metrics listener over HTTP and checks every count.
func TestScriptedRequests(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	chain, err := config.Load("testdata/who.toml", config.Options{Logger: quiet, Observers: []who.Observer{m}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = chain.Close() })
	app := httptest.NewServer(chain.Handler(protected))
	t.Cleanup(app.Close)
	scrape := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(scrape.Close)

	client := &http.Client{Timeout: 10 * time.Second}
	send := func(user, pass string, want int) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s:%s: status %d, want %d", user, pass, resp.StatusCode, want)
		}
	}
	send("", "", 401)                         // anonymous: identifier none, challenged
	send("", "", 401)                         //
	send("alice", "alicepw", 200)             // cache miss, htpasswd says alice
	send("alice", "alicepw", 200)             // cache hit
	send("alice", "alicepw", 200)             // cache hit
	send("bob", "wrong", 401)                 // miss, no (1st failure)
	send("bob", "wrong", 401)                 // miss, no (2nd)
	send("bob", "wrong", 401)                 // miss, no (3rd: the ban)
	send("bob", "with:colon and spaces", 401) // banned: refused without asking the cache

	want := `
# HELP gowho_cache_requests_total Credential and token cache lookups by plugin and outcome (hit, miss, error).
# TYPE gowho_cache_requests_total counter
gowho_cache_requests_total{outcome="hit",plugin="cached"} 2
gowho_cache_requests_total{outcome="miss",plugin="cached"} 4
# HELP gowho_challenges_total Challenges by the challenger that answered ("" when none did).
# TYPE gowho_challenges_total counter
gowho_challenges_total{challenger="basicauth"} 6
# HELP gowho_logins_total Logins by outcome (ok, fail) and reason of a failure (rejected, error, no_authenticator; "" when ok).
# TYPE gowho_logins_total counter
gowho_logins_total{outcome="fail",reason="rejected"} 4
# HELP gowho_logouts_total Logouts (API.Logout).
# TYPE gowho_logouts_total counter
gowho_logouts_total 0
# HELP gowho_plugin_calls_total Plugin calls by stage, plugin and outcome (identifiers: found, none, error; authenticators: userid, no, error; mdproviders: ok, error).
# TYPE gowho_plugin_calls_total counter
gowho_plugin_calls_total{outcome="found",plugin="basicauth",stage="identifiers"} 7
gowho_plugin_calls_total{outcome="no",plugin="throttle",stage="authenticators"} 4
gowho_plugin_calls_total{outcome="none",plugin="basicauth",stage="identifiers"} 2
gowho_plugin_calls_total{outcome="userid",plugin="throttle",stage="authenticators"} 3
# HELP gowho_requests_total Requests through the chain by classification and whether they were authenticated.
# TYPE gowho_requests_total counter
gowho_requests_total{authenticated="false",classification="browser"} 6
gowho_requests_total{authenticated="true",classification="browser"} 3
# HELP gowho_throttle_bans_total Bans written by a throttle plugin, by plugin and kind (user, ip).
# TYPE gowho_throttle_bans_total counter
gowho_throttle_bans_total{kind="user",plugin="throttle"} 1
`
	if err := testutil.ScrapeAndCompare(scrape.URL, strings.NewReader(want),
		"gowho_cache_requests_total", "gowho_challenges_total", "gowho_logins_total", "gowho_logouts_total",
		"gowho_plugin_calls_total", "gowho_requests_total", "gowho_throttle_bans_total", "gowho_store_errors_total",
	); err != nil {
		t.Error(err)
	}
	// Every plugin call and request was timed.
	if n := testutil.CollectAndCount(reg, "gowho_plugin_duration_seconds"); n != 2 {
		t.Errorf("%d plugin latency series, want 2 (basicauth, throttle)", n)
	}
	if n := testutil.CollectAndCount(reg, "gowho_request_duration_seconds"); n != 1 {
		t.Errorf("%d request latency series, want 1", n)
	}
}

// TestEvents covers the events a scripted chain does not produce: logout,
// store errors, reloads, a challenge nobody answered, cache errors.
func TestEvents(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range []who.Event{
		{Kind: who.EventLogout, UserID: "alice"},
		{Kind: who.EventStoreError, Plugin: "session", Reason: "load", Err: errors.New("down")},
		{Kind: who.EventReload, Outcome: who.OutcomeOK},
		{Kind: who.EventReload, Outcome: who.OutcomeFail},
		{Kind: who.EventChallenge, Status: 401},
		{Kind: who.EventCache, Plugin: "cached", Outcome: who.OutcomeError},
		{Kind: who.EventLogin, Outcome: who.OutcomeOK, Reason: "ignored"},
		{Kind: "custom"}, // a plugin's own kind: ignored
	} {
		m.Observe(ctx, e)
	}
	want := `
# HELP gowho_logouts_total Logouts (API.Logout).
# TYPE gowho_logouts_total counter
gowho_logouts_total 1
# HELP gowho_store_errors_total Store failures by plugin ("session" for the session manager) and operation.
# TYPE gowho_store_errors_total counter
gowho_store_errors_total{op="load",plugin="session"} 1
# HELP gowho_reloads_total Configuration reloads by outcome (ok, fail).
# TYPE gowho_reloads_total counter
gowho_reloads_total{outcome="fail"} 1
gowho_reloads_total{outcome="ok"} 1
# HELP gowho_challenges_total Challenges by the challenger that answered ("" when none did).
# TYPE gowho_challenges_total counter
gowho_challenges_total{challenger=""} 1
# HELP gowho_cache_requests_total Credential and token cache lookups by plugin and outcome (hit, miss, error).
# TYPE gowho_cache_requests_total counter
gowho_cache_requests_total{outcome="error",plugin="cached"} 1
# HELP gowho_logins_total Logins by outcome (ok, fail) and reason of a failure (rejected, error, no_authenticator; "" when ok).
# TYPE gowho_logins_total counter
gowho_logins_total{outcome="ok",reason=""} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gowho_logouts_total", "gowho_store_errors_total",
		"gowho_reloads_total", "gowho_challenges_total", "gowho_cache_requests_total", "gowho_logins_total"); err != nil {
		t.Error(err)
	}
}

// TestRegisterTwice: a second Metrics on one registry is an error, and
// the first one's metrics stay registered.
func TestRegisterTwice(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg); err == nil {
		t.Fatal("registered twice")
	}
	m.Observe(context.Background(), who.Event{Kind: who.EventLogout})
	if n := testutil.CollectAndCount(reg, "gowho_logouts_total"); n != 1 {
		t.Errorf("after a failed second New: %d logout series, want 1", n)
	}
}

// TestCacheErrors: a memcached wrapper whose server is down reports each
// failed lookup as an error (then a miss), and the logins still work
// through the wrapped htpasswd.
func TestCacheErrors(t *testing.T) {
	t.Parallel()
	port := testserver.FreePort(t) // nothing listens there: connection refused
	dir := t.TempDir()
	passwd, err := os.ReadFile("testdata/passwd")
	if err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf(`
[plugin.htpasswd]
use = "htpasswd"
filename = %q

[plugin.cached]
use = "memcached"
authenticator_name = "htpasswd"
memcached_urls = ["127.0.0.1:%d"]
secret = "0123456789abcdef0123456789abcdef"
backoff = "0s"

[plugin.basicauth]
use = "basicauth"

[identifiers]
plugins = ["basicauth"]

[authenticators]
plugins = ["cached", "htpasswd;unused"]
`, filepath.Join(dir, "passwd"), port)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), passwd, 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := config.Parse(filepath.Join(dir, "who.toml"), []byte(toml), config.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observers: []who.Observer{m}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = chain.Close() })
	h := chain.Handler(protected)
	for range 2 {
		req := httptest.NewRequest("GET", "/", nil)
		req.SetBasicAuth("alice", "alicepw")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("status %d with memcached down", rec.Code)
		}
	}
	want := `
# HELP gowho_cache_requests_total Credential and token cache lookups by plugin and outcome (hit, miss, error).
# TYPE gowho_cache_requests_total counter
gowho_cache_requests_total{outcome="error",plugin="cached"} 2
gowho_cache_requests_total{outcome="miss",plugin="cached"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gowho_cache_requests_total"); err != nil {
		t.Error(err)
	}
}

// TestSessionStoreErrors: the session manager, an outer middleware of a
// chain loaded from a who.toml, reaches the metrics (config.Chain.Handler
// wraps it with Middleware.Observed): a session store that is down is
// counted on every request that loads a session.
func TestSessionStoreErrors(t *testing.T) {
	t.Parallel()
	port := testserver.FreePort(t) // nothing listens there
	toml := fmt.Sprintf(`
[plugin.sessions]
use = "session"
store = "memcached"
memcached_urls = ["127.0.0.1:%d"]

[plugin.sessionid]
use = "sessionid"
session_name = "sessions"

[identifiers]
plugins = ["sessionid"]

[authenticators]
plugins = ["sessionid"]
`, port)
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := config.Parse("who.toml", []byte(toml), config.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observers: []who.Observer{m}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = chain.Close() })
	h := chain.Handler(protected)
	for range 3 {
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "gowho_session", Value: session.NewID()})
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := testutil.ToFloat64(mustCounter(t, reg, "gowho_store_errors_total", "session", "load")); n != 3 {
		t.Errorf("%v session load errors counted, want 3", n)
	}
}

// mustCounter returns the value of the counter name{plugin, op} as a
// collector testutil can read.
func mustCounter(t *testing.T, reg *prometheus.Registry, name, plugin, op string) prometheus.Collector {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["plugin"] == plugin && labels["op"] == op {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "copy"})
				c.Add(s.GetCounter().GetValue())
				return c
			}
		}
	}
	t.Fatalf("no %s{plugin=%q, op=%q}", name, plugin, op)
	return nil
}
