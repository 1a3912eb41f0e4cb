// Package backoff is gowho's one circuit breaker for backends: after a run
// of failures a backend is not asked for an interval (calls fail fast
// instead of each waiting out a timeout), then one call probes it; an
// answer closes the breaker, a failure opens it for another interval.
package backoff

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how long a Breaker stays open when Interval is zero.
const DefaultInterval = time.Second

// DefaultThreshold is the run of consecutive failures that opens a Breaker
// when Threshold is zero.
const DefaultThreshold = 3

// ErrOpen is returned (wrapped) by Allow while the breaker is open.
var ErrOpen = errors.New("backing off")

// A Breaker counts consecutive failures of one backend. The zero value is
// usable with the defaults. Safe for concurrent use; while the backend
// answers, Allow and a successful Record cost two atomic loads and no lock
// (they run on every request).
type Breaker struct {
	// Interval is how long the breaker stays open (zero: DefaultInterval;
	// negative: never opens).
	Interval time.Duration
	// Threshold is the run of consecutive failures that opens it (zero:
	// DefaultThreshold).
	Threshold int
	// Now is the clock, for tests; nil: time.Now.
	Now func() time.Time

	open     atomic.Bool  // openUntil is set
	failures atomic.Int64 // consecutive failures

	mu        sync.Mutex
	openUntil time.Time // no call before this, then one probe
	probing   bool      // a probe is in flight
	last      error     // the failure that opened it
}

// A Ticket is what Allow hands out; pass the call's outcome to Done, or
// record each operation's with Breaker.Record and end it with End.
type Ticket struct {
	b     *Breaker
	probe bool
}

// Allow reports whether the backend may be asked now. It returns an error
// wrapping ErrOpen (and the failure that opened it) while the breaker is
// open, and while a probe is in flight after the interval.
func (b *Breaker) Allow() (Ticket, error) {
	if b.Interval < 0 || !b.open.Load() {
		return Ticket{b: b}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open.Load() {
		return Ticket{b: b}, nil
	}
	now := b.now()
	if now.Before(b.openUntil) || b.probing {
		wait := max(b.openUntil.Sub(now), 0).Round(time.Millisecond)
		return Ticket{}, fmt.Errorf("%w after %d failures (next try in %v): %w", ErrOpen, b.failures.Load(), wait, b.last)
	}
	b.probing = true
	return Ticket{b: b, probe: true}, nil
}

// Probe reports whether the ticket is the one call let through after the
// interval.
func (t Ticket) Probe() bool { return t.probe }

// Done records the outcome of the call Allow allowed and ends it (see
// Record, whose answer it returns).
func (t Ticket) Done(err error, neutral bool) (opened bool) {
	if t.b == nil {
		return false
	}
	opened = t.b.Record(err, neutral)
	t.End()
	return opened
}

// End ends the call Allow allowed without recording anything: a probe that
// proved nothing (its caller left) lets the next call probe.
func (t Ticket) End() {
	if !t.probe {
		return
	}
	t.b.mu.Lock()
	t.b.probing = false
	t.b.mu.Unlock()
}

// Record records the outcome of one operation on the backend: nil (an
// answer) closes the breaker and ends the run of failures; a failure
// counts, and Threshold of them in a row open the breaker for Interval
// (again, while it is open). Pass neutral = true for an outcome that says
// nothing about the backend (the caller's context was cancelled).
//
// Record reports whether this failure opened the breaker while it was
// letting calls through (closed, or a probe after the interval): once per
// back-off, the moment to log it or reset a client.
func (b *Breaker) Record(err error, neutral bool) (opened bool) {
	if b.Interval < 0 || neutral {
		return false
	}
	if err == nil {
		if !b.open.Load() && b.failures.Load() == 0 {
			return false
		}
		b.mu.Lock()
		b.failures.Store(0)
		b.open.Store(false)
		b.openUntil, b.last = time.Time{}, nil
		b.mu.Unlock()
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	threshold := int64(b.Threshold)
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if b.failures.Add(1) < threshold {
		return false
	}
	interval := b.Interval
	if interval == 0 {
		interval = DefaultInterval
	}
	now := b.now()
	opened = !b.open.Load() || !now.Before(b.openUntil)
	b.openUntil, b.last = now.Add(interval), err
	b.open.Store(true)
	return opened
}

// Open reports whether the breaker is open (for tests and metrics).
func (b *Breaker) Open() bool { return b.open.Load() }

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}
