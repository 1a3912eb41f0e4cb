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

// NewContext returns a copy of ctx that carries res as the authenticated
// result, as the middleware would, so a handler can be tested without a
// chain:
//
//	r = r.WithContext(who.NewContext(r.Context(), &who.Result{UserID: "alice"}))
//
// Under it ResultFrom returns res, UserID res.UserID (both as for an
// anonymous request when res is nil), and Require and User see res. What
// needs a chain behaves as when the middleware is absent: APIFrom returns
// nil, Classification "", ReplaceHandler and SetRequestValue report false
// and RequestValue returns nil. A who middleware that serves a request
// with such a context ignores res and runs its own chain.
func NewContext(ctx context.Context, res *Result) context.Context {
	return &state{Context: ctx, result: res, ingress: res, started: true}
}

// SetRequestValue keeps value under key for the rest of the request, for a
// plugin that works out something in one stage that a later stage of the
// same request needs again: an identifier keeps the ticket it verified, so
// its Remember need not parse the cookie a second time. key is compared
// with ==: use a value of the plugin's own, such as its pointer; the last
// call for a key wins. What is kept ends with the request; like the rest of
// the per-request state it is not for concurrent use. It reports false
// when the middleware is absent.
func SetRequestValue(r *http.Request, key, value any) bool {
	st := stateFrom(r.Context())
	if st == nil || st.m == nil {
		return false
	}
	for i := range st.kept {
		if st.kept[i].key == key {
			st.kept[i].value = value
			return true
		}
	}
	st.kept = append(st.kept, keptValue{key: key, value: value})
	return true
}

// RequestValue returns what SetRequestValue kept under key for the
// request, or nil.
func RequestValue(r *http.Request, key any) any {
	st := stateFrom(r.Context())
	if st == nil {
		return nil
	}
	for i := range st.kept {
		if st.kept[i].key == key {
			return st.kept[i].value
		}
	}
	return nil
}
