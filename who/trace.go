package who

import (
	"context"
	"net/http"
	"sync/atomic"
)

// Trace receives what the chain decides for one request, step by step, as
// httptrace.ClientTrace does for a client. Any field may be nil. Install it
// with WithTrace; `who explain` prints one. Identities passed to a trace
// hold passwords and other secrets: print them with
// id.Masked(m.SecretKeys()), which masks what the chain's plugins declare
// (Identity.Public drops only the password). Errors passed to a trace have
// those values masked in their messages and unwrap to the plugin's error.
type Trace struct {
	// Classified reports the request's classification.
	Classified func(classification string)
	// Identified reports one identifier's answer (nil: nothing found).
	Identified func(identifier string, id Identity, err error)
	// Authenticated reports one authenticator's answer for the identity
	// one identifier found, with its rank (authenticator position,
	// identifier position); userID "" is a no.
	Authenticated func(authenticator, identifier string, rank [2]int, userID string, err error)
	// Won reports the winning result before metadata is added (nil: none).
	Won func(res *Result)
	// Metadata reports one metadata provider's run on the winner.
	Metadata func(provider string, id Identity, err error)
	// Decided reports the challenge decision for the response status.
	Decided func(status int, challenge bool)
	// Challenged reports the challenger that answered (plugin "" when none
	// did) and the forget headers it was given.
	Challenged func(challenger string, status int, forget http.Header)
	// Remembered reports the remember headers added to the response.
	Remembered func(identifier string, h http.Header)
}

var traceKey = &ctxKey{"trace"}

// tracing is set by the first WithTrace: until then no request can carry a
// trace, and the middleware does not walk the context looking for one.
var tracing atomic.Bool

// WithTrace returns a context that makes the middleware report to t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	if !tracing.Load() {
		tracing.Store(true)
	}
	return context.WithValue(ctx, traceKey, t)
}

func traceFrom(ctx context.Context) *Trace {
	if !tracing.Load() {
		return nil
	}
	t, _ := ctx.Value(traceKey).(*Trace)
	return t
}
