package authtkt

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// TestCacheExpiry: a cached ticket still expires, and a forged one is
// never cached.
func TestCacheExpiry(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(1700000000)
	p := mustNew(t, Options{Timeout: who.Duration(time.Hour), Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	c := "auth_tkt=" + mustCookie(Ticket{UserID: "alice", Tokens: []string{"a"}, Time: t1700}, "md5")
	for range 2 {
		id, _ := p.Identify(req("h", "", c))
		if id.Str(KeyTicketUserID) != "alice" || id[KeyTimestamp] != int64(1700000000) {
			t.Fatalf("identity %v", map[string]any(id))
		}
	}
	if p.cache.get(keyOf(t, p, c[len("auth_tkt="):])) == nil {
		t.Fatal("verified ticket not cached")
	}
	now.Store(1700000000 + 3601)
	if id, _ := p.Identify(req("h", "", c)); id != nil {
		t.Fatal("cached ticket did not expire")
	}
	forged := "auth_tkt=" + mustCookie(Ticket{UserID: "alice", Time: t1700}, "md5")[:31] + "0" + "6553f100alice!"
	p.Identify(req("h", "", forged))
	if p.cache.get(keyOf(t, p, forged[len("auth_tkt="):])) != nil {
		t.Fatal("forged ticket cached")
	}
}

// keyOf is the cache key of a cookie value.
func keyOf(t testing.TB, p *Plugin, v string) []byte {
	t.Helper()
	r, err := decode(v, p.algo)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return cacheKey(nil, &r, r.userID(p.enc))
}

// stats returns the number of entries and their accounted bytes.
func (c *ticketCache) stats() (entries, bytes int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m), c.bytes
}

// BenchmarkIdentify measures the identifier alone on a returning browser
// (cache hit) and on a first visit (parse and verify).
func BenchmarkIdentify(b *testing.B) {
	v := mustCookie(Ticket{UserID: "alice", Tokens: []string{"admin"}, Time: t1700}, "md5")
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "other=1; auth_tkt=\""+v+"\"")
	b.Run("cached", func(b *testing.B) {
		p := mustNew(b, Options{})
		b.ReportAllocs()
		for b.Loop() {
			if id, _ := p.Identify(r); id == nil {
				b.Fatal("not identified")
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		p := mustNew(b, Options{IncludeIP: false})
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := p.lookup2(r); !ok {
				b.Fatal("not verified")
			}
		}
	})
}

// lookup2 parses and verifies without the cache.
func (p *Plugin) lookup2(r *http.Request) (found, bool) {
	var f found
	ok := false
	p.cookieValues(r, func(v string) bool {
		t, err := decode(v, p.algo)
		if err == nil && t.verify(p.secret, p.algo, nil, t.userID(p.enc)) {
			f, ok = found{p: t}, true
			return false
		}
		return true
	})
	return f, ok
}
