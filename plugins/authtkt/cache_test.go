package authtkt

import (
	"net"
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
// (cached: a cache hit), the plugin's own parse and verify of the ticket
// in the request (verify: lookup of an include_ip ticket, which is never
// cached) and the whole Identify on that uncached path (uncached).
func BenchmarkIdentify(b *testing.B) {
	tk := Ticket{UserID: "alice", Tokens: []string{"admin"}, Time: t1700}
	for _, bc := range []struct {
		name     string
		o        Options
		ip       string
		identify bool
	}{
		{"cached", Options{}, "", true},
		{"verify", Options{IncludeIP: true}, "192.0.2.1", false}, // httptest's RemoteAddr
		{"uncached", Options{IncludeIP: true}, "192.0.2.1", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tk := tk
			tk.IP = net.ParseIP(bc.ip)
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", "other=1; auth_tkt=\""+mustCookie(tk, "md5")+"\"")
			p := mustNew(b, bc.o)
			b.ReportAllocs()
			for b.Loop() {
				ok := false
				if bc.identify {
					id, _ := p.Identify(r)
					ok = id != nil
				} else {
					f, _ := p.lookup(r)
					ok = f.uid != ""
				}
				if !ok {
					b.Fatal("not identified")
				}
			}
		})
	}
}
