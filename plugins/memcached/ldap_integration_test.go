package memcached_test

// The wrapper over the real ldap plugin, a real slapd and a real
// memcached. This external test package imports plugins/ldap; the
// memcached package itself never does (a plugin never imports another).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/plugins/ldap"
	"github.com/gowho/gowho/plugins/memcached"
	"github.com/gowho/gowho/who"
)

var aliceBinds = regexp.MustCompile(`BIND dn="uid=alice,ou=people,dc=example,dc=org" method=128`)

// waitBinds waits until slapd logged at least n binds of alice (its log is
// asynchronous), then a little more for any extra, and returns the count.
func waitBinds(s *testserver.Server, n int) int {
	count := func() int { return len(aliceBinds.FindAllString(s.Output(), -1)) }
	deadline := time.Now().Add(2 * time.Second)
	for count() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	return count()
}

// gate is a wrapped authenticator that holds its first call until open is
// closed, then passes every call to next.
type gate struct {
	next who.Authenticator
	open chan struct{}
}

func (g *gate) Authenticate(r *http.Request, id who.Identity) (string, error) {
	<-g.open
	return g.next.Authenticate(r, id)
}

// TestLDAPBinds: 100 concurrent logins of one user on a cold cache make
// exactly one LDAP bind, counted by slapd itself; with memcached killed,
// logins keep working through LDAP; once it is back the cache is used
// again. The LDAP call is held until the 99 other logins wait for it, and
// the back-off ends by the test clock, so the counts do not depend on
// how fast memcached answered.
func TestLDAPBinds(t *testing.T) {
	t.Parallel()
	slapd := testserver.Slapd(t, testserver.SlapdOptions{Seed: true, LogStats: true, Hash: "crypt"})
	mc := testserver.Memcached(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	lp, err := ldap.New(ldap.Options{URL: slapd.URL, BindDNTemplate: "uid=%s," + testserver.PeopleDN, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	backoff := time.Hour
	c, err := memcached.New(memcached.Options{
		MemcachedURLs: who.Words{mc.Addr}, AuthenticatorName: "ldap", Secret: "s",
		Backoff: who.Duration(backoff), CallTimeout: who.Duration(time.Minute), Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g := &gate{next: lp, open: make(chan struct{})}
	if err := c.Resolve(map[string]any{"ldap": g}); err != nil {
		t.Fatal(err)
	}
	clk := &memcached.Clock{}
	memcached.UseClock(c, clk)
	joined := make(chan struct{}, 100)
	memcached.OnJoin(c, func() { joined <- struct{}{} })
	login := func() string {
		uid, err := c.Authenticate(httptest.NewRequest("GET", "/", nil),
			who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass"})
		if err != nil {
			t.Error(err)
		}
		return uid
	}

	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 100 {
		wg.Go(func() {
			if login() == "alice" {
				ok.Add(1)
			}
		})
	}
	for range 99 {
		<-joined
	}
	close(g.open)
	wg.Wait()
	if ok.Load() != 100 {
		t.Fatalf("%d of 100 logins succeeded", ok.Load())
	}
	if n := waitBinds(slapd, 1); n != 1 {
		t.Fatalf("100 concurrent logins on a cold cache made %d LDAP binds, want 1", n)
	}

	mc.Stop()
	for i := range 10 {
		if login() != "alice" {
			t.Fatalf("login %d with memcached down failed", i)
		}
	}
	if n := waitBinds(slapd, 11); n != 11 {
		t.Fatalf("with memcached down: %d binds, want 11", n)
	}

	mc.Start()
	clk.Advance(backoff)
	for i := range 10 {
		if login() != "alice" {
			t.Fatalf("login %d after memcached came back failed", i)
		}
	}
	if n := waitBinds(slapd, 12); n != 12 {
		t.Fatalf("after memcached came back: %d binds, want 12 (one miss, then hits); %+v", n, c.Stats())
	}
}

// TestLDAPBlackHole: the wrapper over the real ldap plugin, whose
// directory accepts connections and never answers. 1,000 logins abandoned
// by their clients leave no goroutines behind once the calls nobody waits
// for are cancelled. Not parallel: it counts the process's goroutines.
func TestLDAPBlackHole(t *testing.T) {
	mc := testserver.Memcached(t)
	bh := testserver.StartBlackHole(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	lp, err := ldap.New(ldap.Options{URL: "ldap://" + bh.Addr, BindDNTemplate: "uid=%s," + testserver.PeopleDN, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	c, err := memcached.New(memcached.Options{
		MemcachedURLs: who.Words{mc.Addr}, AuthenticatorName: "ldap", Authenticator: lp, Secret: "s", Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	baseline := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			id := who.Identity{who.KeyLogin: fmt.Sprintf("user%d", i%500), who.KeyPassword: "pw"}
			if uid, err := c.Authenticate(httptest.NewRequest("GET", "/", nil).WithContext(ctx), id); uid != "" || err == nil {
				t.Errorf("a login against a black hole: %q, %v", uid, err)
			}
		})
	}
	wg.Wait()
	start := time.Now()
	n := runtime.NumGoroutine()
	for n > baseline+50 && time.Since(start) < 20*time.Second {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	t.Logf("goroutines: baseline %d, %d after 1000 abandoned logins (settled in %v); black hole accepted %d connections; %+v",
		baseline, n, time.Since(start).Round(time.Millisecond), bh.Accepted(), c.Stats())
	if n > baseline+50 {
		t.Fatalf("%d goroutines left after 1000 abandoned logins, baseline %d", n, baseline)
	}
}
