package bench

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/plugins/basicauth"
	"github.com/gowho/gowho/plugins/ldap"
	"github.com/gowho/gowho/plugins/memcached"
	"github.com/gowho/gowho/who"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// ldapChain is basicauth → (memcached →) ldap, as who.toml's
// cached_ldap / ldap;unused pattern builds it.
type ldapChain struct {
	h     http.Handler
	ldap  *ldap.Plugin
	cache *memcached.Cache // nil: LDAP alone
}

func newLDAPChain(tb testing.TB, slapd *testserver.Server, mc *testserver.Server, mod func(*memcached.Options)) *ldapChain {
	tb.Helper()
	lp, err := ldap.New(ldap.Options{
		URL:            slapd.URL,
		BindDNTemplate: "uid=%s," + testserver.PeopleDN,
		PoolSize:       8,
		MaxConnections: 32,
		Logger:         quietLog(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lp.Close() })
	ch := &ldapChain{ldap: lp}
	var auth who.Authenticator = lp
	name := "ldap"
	if mc != nil {
		o := memcached.Options{
			MemcachedURLs:     who.Words{mc.Addr},
			AuthenticatorName: "ldap",
			Secret:            "bench secret",
			TTL:               who.Duration(5 * time.Minute),
			Logger:            quietLog(),
		}
		if mod != nil {
			mod(&o)
		}
		c, err := memcached.New(o)
		if err != nil {
			tb.Fatal(err)
		}
		if err := c.Resolve(map[string]any{"ldap": lp}); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { c.Close() })
		ch.cache, auth, name = c, c, "cached_ldap"
	}
	ba, err := basicauth.New(basicauth.Options{Realm: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
		Authenticators: []who.Entry{{Name: name, Plugin: auth}, {Name: "ldap", Plugin: lp, Classifications: []string{who.Unused}}},
		Challengers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
		Logger:         quietLog(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	ch.h = m.Wrap(hello)
	return ch
}

func loginRequest(user string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, user+"-pass")
	return r
}

// serve runs one login through the chain and returns the status, or 401
// when the handler saw an anonymous request.
func (c *ldapChain) serve(user string) int {
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, loginRequest(user))
	if w.Code == http.StatusOK && w.Body.String() != "hello, "+user {
		return http.StatusUnauthorized
	}
	return w.Code
}

var aliceBind = regexp.MustCompile(`BIND dn="uid=alice,ou=people,dc=example,dc=org" method=128`)

// binds counts alice's binds in slapd's stats log.
func binds(s *testserver.Server) int { return len(aliceBind.FindAllString(s.Output(), -1)) }

// waitBinds waits until slapd has logged n binds (its log is written
// asynchronously) and returns the count then.
func waitBinds(s *testserver.Server, n int) int {
	deadline := time.Now().Add(2 * time.Second)
	for binds(s) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let any extra bind show up too
	return binds(s)
}

// TestCachedLDAPBinds: 100 concurrent logins of one user on a cold cache
// make exactly one LDAP bind (counted by slapd itself); with memcached
// killed, logins keep working through LDAP; once memcached is back, the
// cache is used again.
func TestCachedLDAPBinds(t *testing.T) {
	slapd := testserver.Slapd(t, testserver.SlapdOptions{Seed: true, LogStats: true, Hash: "crypt"})
	mc := testserver.Memcached(t)
	backoff := 200 * time.Millisecond
	c := newLDAPChain(t, slapd, mc, func(o *memcached.Options) { o.Backoff = who.Duration(backoff) })

	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 100 {
		wg.Go(func() {
			if c.serve("alice") == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 100 {
		t.Fatalf("%d of 100 logins succeeded", ok.Load())
	}
	if n := waitBinds(slapd, 1); n != 1 {
		t.Fatalf("100 concurrent logins on a cold cache made %d LDAP binds, want 1", n)
	}

	mc.Stop()
	for i := range 10 {
		if code := c.serve("alice"); code != http.StatusOK {
			t.Fatalf("login %d with memcached down: status %d", i, code)
		}
	}
	if n := waitBinds(slapd, 11); n != 11 {
		t.Fatalf("with memcached down: %d binds, want 11 (every login through LDAP)", n)
	}

	mc.Start()
	time.Sleep(backoff + 50*time.Millisecond)
	for i := range 10 {
		if code := c.serve("alice"); code != http.StatusOK {
			t.Fatalf("login %d after memcached came back: status %d", i, code)
		}
	}
	if n := waitBinds(slapd, 12); n != 12 {
		t.Fatalf("after memcached came back: %d binds, want 12 (one miss, then hits); cache %+v", n, c.cache.Stats())
	}
	if code := c.serve("mallory"); code != http.StatusUnauthorized {
		t.Fatalf("unknown user: status %d", code)
	}
}

// ldapLoginCases starts slapd (argon2 hashes) and memcached and returns
// the four handlers the LDAP login benchmarks compare.
func ldapLoginCases(b *testing.B) []struct {
	name string
	h    http.Handler
} {
	slapd := testserver.Slapd(b, testserver.SlapdOptions{Seed: true, Hash: "argon2"})
	mc := testserver.Memcached(b)
	return []struct {
		name string
		h    http.Handler
	}{
		{"impl=bare", hello},
		{"impl=ldap-alone", newLDAPChain(b, slapd, nil, nil).h},
		{"impl=memcached", newLDAPChain(b, slapd, mc, nil).h},
		{"impl=near-cache", newLDAPChain(b, slapd, mc, func(o *memcached.Options) {
			o.NearCacheTTL = who.Duration(time.Minute)
		}).h},
	}
}

// BenchmarkLDAPLogin: logins per second against a slapd that stores
// argon2 hashes (≈ 5.8 ms a bind), one request at a time, in process
// (handler.ServeHTTP on a reused writer): LDAP alone, through the memcached
// wrapper (every login a memcached hit), and with the near-cache (every
// login a near-cache hit); bare is the handler without the chain.
func BenchmarkLDAPLogin(b *testing.B) {
	cases := ldapLoginCases(b)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			req := loginRequest("alice")
			w := &discardWriter{h: http.Header{}}
			tc.h.ServeHTTP(w, req) // warm the cache
			if tc.name != "impl=bare" && w.code != 0 && w.code != http.StatusOK {
				b.Fatalf("warm-up login: status %d", w.code)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				tc.h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}

// BenchmarkLDAPLoginHTTP is the same as a client sees it: one request at a
// time over loopback to a real net/http server.
func BenchmarkLDAPLoginHTTP(b *testing.B) {
	cases := ldapLoginCases(b)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			client := srv.Client()
			get := func() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				req.SetBasicAuth("alice", "alice-pass")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			get() // warm the cache
			b.ReportAllocs()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
