package memcached

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

// TestMeasureLoad is a measurement, not a check (set GOWHO_MEASURE_LOAD=1):
// 512 concurrent logins of cached users against a real memcached for 2s
// per setting, printing how often the cache was bypassed (skipped during a
// back-off, or failed) for each timeout and backoff_after.
func TestMeasureLoad(t *testing.T) {
	if os.Getenv("GOWHO_MEASURE_LOAD") == "" {
		t.Skip("a measurement: set GOWHO_MEASURE_LOAD=1")
	}
	mc := testserver.Memcached(t)
	for _, tc := range []struct {
		timeout time.Duration
		after   int
	}{
		{100 * time.Millisecond, 1}, {100 * time.Millisecond, 3},
		{250 * time.Millisecond, 3}, {500 * time.Millisecond, 1}, {500 * time.Millisecond, 3}, {time.Second, 3},
	} {
		b := newBackend()
		for i := range 64 {
			b.setPassword(fmt.Sprintf("u%d", i), "pw")
		}
		c := newCache(t, mc.Addr, b, func(o *Options) {
			o.Secret = fmt.Sprintf("load-%v-%d", tc.timeout, tc.after)
			o.Timeout = who.Duration(tc.timeout)
			o.BackoffAfter = tc.after
		})
		for i := range 64 {
			auth(t, c, fmt.Sprintf("u%d", i), "pw")
		}
		before := c.Stats()
		end := time.Now().Add(2 * time.Second)
		var wg sync.WaitGroup
		for g := range 512 {
			wg.Go(func() {
				for i := 0; time.Now().Before(end); i++ {
					c.Authenticate(req(), creds(fmt.Sprintf("u%d", (g+i)%64), "pw"))
				}
			})
		}
		wg.Wait()
		s := c.Stats()
		hits := s.Hits - before.Hits
		total := hits + (s.Misses - before.Misses)
		t.Logf("timeout %v backoff_after %d: %d logins, %.1f%% bypassed the cache (%d backend calls), %d errors, %d back-offs",
			tc.timeout, tc.after, total, 100*float64(total-hits)/float64(max(total, 1)), s.BackendCalls-before.BackendCalls,
			s.Errors-before.Errors, s.Backoffs-before.Backoffs)
	}
}
