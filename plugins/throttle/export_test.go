package throttle

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Hooks for the tests of this package and of package throttle_test.

// Clock is a test clock: the real time plus an offset the test moves.
type Clock struct{ offset atomic.Int64 }

// Now returns the clock's time.
func (k *Clock) Now() time.Time { return time.Now().Add(time.Duration(k.offset.Load())) }

// Advance moves the clock forward by d.
func (k *Clock) Advance(d time.Duration) { k.offset.Add(int64(d)) }

// UseClock makes t read the time from k; call it before t is used.
func UseClock(t *Throttle, k *Clock) { t.now = k.Now }

// UseClient makes t take the client address from f; call it before t is
// used.
func UseClient(t *Throttle, f func(*http.Request) string) { t.client = f }

// OptionsOf returns the options t runs with, defaults filled in.
func OptionsOf(t *Throttle) Options { return t.o }
