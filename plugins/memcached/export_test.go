package memcached

import (
	"sync/atomic"
	"time"
)

// Hooks for the tests of this package and of package memcached_test.

// Clock is a test clock: the real time plus an offset the test moves.
type Clock struct{ offset atomic.Int64 }

// Now returns the clock's time.
func (k *Clock) Now() time.Time { return time.Now().Add(time.Duration(k.offset.Load())) }

// Advance moves the clock forward by d.
func (k *Clock) Advance(d time.Duration) { k.offset.Add(int64(d)) }

// UseClock makes c read the time from k; call it before c is used.
func UseClock(c *Cache, k *Clock) { c.now = k.Now }

// OnJoin makes c call f each time a request joins another request's
// backend call; call it before c is used.
func OnJoin(c *Cache, f func()) { c.onJoin = f }

// Resets returns how many times c replaced its memcached clients.
func Resets(c *Cache) int64 {
	var n int64
	for _, s := range c.servers {
		n += s.resets.Load()
	}
	return n
}

// OptionsOf returns the options c runs with, defaults filled in.
func OptionsOf(c *Cache) Options { return c.o }
