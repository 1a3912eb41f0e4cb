package ldap

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gowho/gowho/internal/backoff"
)

// ErrTooBusy is wrapped (with ErrBackend) by the error of a call refused
// because max_in_flight calls are already running: the directory is slow
// or hung, and queueing more work behind it would only pile up.
var ErrTooBusy = errors.New("ldap: max_in_flight calls already running (the directory is slow or hung); refusing more until some finish")

// ErrBackingOff is wrapped (with ErrBackend) by the error of a call refused
// without contacting the directory because its last backoff_after calls
// failed; one call is let through every backoff to see whether it is back.
var ErrBackingOff = errors.New("ldap: the directory failed backoff_after times in a row; not asking it again before backoff ends")

// refusal is a call refused before it reaches the directory: a backend
// error, so the chain tries the next authenticator.
type refusal struct{ err error }

func (r refusal) Error() string   { return r.err.Error() }
func (r refusal) Unwrap() []error { return []error{ErrBackend, r.err} }

// timeoutError is the cause of a call's context when the plugin's own
// timeout ends it. It is a context.DeadlineExceeded.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string {
	return fmt.Sprintf("no answer within timeout (%s): the directory is slow or hung", e.d)
}

func (e timeoutError) Unwrap() error { return context.DeadlineExceeded }

// guard bounds the calls in flight and backs off a failing directory
// through the project's one breaker (internal/backoff): after threshold
// consecutive failures it refuses calls for backoff, then lets one probe
// through; the probe's success closes it, its failure starts a new
// back-off. A failure is an operation that got no answer (network error,
// timeout); an LDAP result code (wrong password, no such entry) is an
// answer, and a caller that cancels proves nothing either way.
type guard struct {
	maxInFlight int64
	inFlight    atomic.Int64
	br          backoff.Breaker
}

func newGuard(maxInFlight, threshold int, interval time.Duration) *guard {
	return &guard{maxInFlight: int64(maxInFlight), br: backoff.Breaker{Threshold: threshold, Interval: interval}}
}

// enter admits a call or refuses it (an error wrapping ErrBackend). An
// admitted call must call leave with the ticket returned.
func (g *guard) enter() (backoff.Ticket, error) {
	if g.inFlight.Add(1) > g.maxInFlight {
		g.inFlight.Add(-1)
		return backoff.Ticket{}, refusal{ErrTooBusy}
	}
	t, err := g.br.Allow()
	if err != nil {
		g.inFlight.Add(-1)
		return backoff.Ticket{}, refusal{ErrBackingOff}
	}
	return t, nil
}

// leave ends an admitted call.
func (g *guard) leave(t backoff.Ticket) {
	g.inFlight.Add(-1)
	t.End()
}

// observe records the outcome of one directory operation.
func (g *guard) observe(err error) {
	switch {
	case err == nil, !isNetwork(err) && resultCode(err) != 0:
		g.br.Record(nil, false)
	default:
		g.br.Record(err, errors.Is(err, context.Canceled))
	}
}
