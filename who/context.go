package who

import (
	"context"
	"net/http"
)

// Result is the authenticated user of a request: what the middleware puts
// in the request context.
type Result struct {
	// UserID is the winning authenticator's userid.
	UserID string
	// Identity is the winning identity, a copy holding KeyUserID and what
	// the metadata providers added. A handler may change it: the
	// identifier remembers the identity as it is when the response starts.
	Identity Identity
	// Identifier and Authenticator are the plugin names, as in who.toml.
	Identifier    string
	Authenticator string

	identifier Identifier // the plugin that found the identity
}

func stateFrom(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey).(*state)
	return st
}

// ResultFrom returns the authenticated result of the request, or nil when
// it is anonymous or the middleware is absent.
func ResultFrom(ctx context.Context) *Result {
	if st := stateFrom(ctx); st != nil {
		return st.result
	}
	return nil
}

// UserID returns the authenticated userid, or "" when the request is
// anonymous or the middleware is absent.
func UserID(ctx context.Context) string {
	if res := ResultFrom(ctx); res != nil {
		return res.UserID
	}
	return ""
}

// Classification returns the request's classification, or "" when the
// middleware is absent.
func Classification(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.classification
	}
	return ""
}

// ReplaceHandler makes h answer the request instead of the downstream
// handler. An identifier calls it from Identify (the form plugin answering
// its own login POST); the last call wins. The response still goes
// through the challenge decider and gets the remember headers. It reports
// false when the middleware is absent or the downstream handler has
// already started.
func ReplaceHandler(r *http.Request, h http.Handler) bool {
	st := stateFrom(r.Context())
	if st == nil || st.started {
		return false
	}
	st.replacement = h
	return true
}
