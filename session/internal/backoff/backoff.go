// Package backoff is the network session stores' circuit breaker: after a
// run of failures a backend is not asked for an interval (requests fail
// fast instead of each waiting out a timeout), then one request probes it;
// a success closes the breaker, a failure opens it for another interval.
package backoff

import (
	"errors"
	"fmt"
	"sync"
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
// usable with the defaults. Safe for concurrent use.
type Breaker struct {
	// Interval is how long the breaker stays open (zero: DefaultInterval;
	// negative: never opens).
	Interval time.Duration
	// Threshold is the run of consecutive failures that opens it (zero:
	// DefaultThreshold).
	Threshold int
	// Now is the clock, for tests; nil: time.Now.
	Now func() time.Time

	mu        sync.Mutex
	failures  int       // consecutive failures
	openUntil time.Time // zero: closed
	probing   bool      // a probe is in flight
	last      error     // the failure that opened it
}

// A Ticket is what Allow hands out; pass the operation's outcome to Done.
type Ticket struct {
	b     *Breaker
	probe bool
}

// Allow reports whether the backend may be asked now. It returns an error
// wrapping ErrOpen while the breaker is open, and while a probe is in
// flight after the interval.
func (b *Breaker) Allow() (Ticket, error) {
	if b.Interval < 0 {
		return Ticket{b: b}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return Ticket{b: b}, nil
	}
	now := b.now()
	if now.Before(b.openUntil) || b.probing {
		wait := max(b.openUntil.Sub(now), 0).Round(time.Millisecond)
		return Ticket{}, fmt.Errorf("%w after %d failures (next try in %v): %w", ErrOpen, b.failures, wait, b.last)
	}
	b.probing = true
	return Ticket{b: b, probe: true}, nil
}

// Done records the outcome of the operation Allow allowed: nil is a
// success, a backend failure counts toward opening the breaker. Pass
// neutral = true for an outcome that says nothing about the backend (the
// caller's context was cancelled).
func (t Ticket) Done(err error, neutral bool) {
	b := t.b
	if b == nil || b.Interval < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.probe {
		b.probing = false
	}
	switch {
	case neutral:
	case err == nil:
		b.failures, b.openUntil, b.last = 0, time.Time{}, nil
	default:
		b.failures++
		threshold := b.Threshold
		if threshold <= 0 {
			threshold = DefaultThreshold
		}
		if t.probe || b.failures >= threshold {
			interval := b.Interval
			if interval == 0 {
				interval = DefaultInterval
			}
			b.openUntil, b.last = b.now().Add(interval), err
		}
	}
}

// Open reports whether the breaker is open (for tests and metrics).
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.openUntil.IsZero()
}

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}
