package who

import (
	"context"
	"net/http"
	"time"
)

// An Observer watches the chain at work: metrics, tracing and the audit
// log (packages observe/metrics, observe/tracing and observe/audit) are
// observers. Install them with Config.Observers (config.Options.Observers
// from a who.toml); several may watch at once, each called in order. With
// none configured the chain does no observation work at all.
//
// Concurrency: one observer serves every request, so both methods are
// called concurrently and must be safe for concurrent use. They run on the
// request's goroutine, inside the chain: they should be quick and must not
// block on a slow backend.
//
// Secrets: an Event never holds a password or other credential (an
// identity is never passed; errors are masked as in logs), but its Request
// carries the client's headers, cookies included: an observer must not
// record them.
type Observer interface {
	// Start is called once per request, before any plugin runs, with the
	// request's context; the context it returns is the one the plugins,
	// the other observers and the downstream handler see (a tracer puts
	// its span in it). It returns ctx when it has nothing to add.
	Start(ctx context.Context, r *http.Request) context.Context
	// Observe receives one event. ctx is the request's context as Start
	// returned it, or the context a plugin reported with (Report).
	Observe(ctx context.Context, e Event)
}

// An EventKind says what an Event reports. The chain reports the first six;
// plugins report the others with Report.
type EventKind string

// Event kinds.
const (
	// EventRequest: a request through the chain ended (the downstream
	// handler returned). Classification, UserID ("" anonymous), Status,
	// Start, Duration.
	EventRequest EventKind = "request"
	// EventPlugin: one plugin call: Stage, Plugin, Outcome, Start,
	// Duration, Err; for an authenticator also Identifier and, when
	// Outcome is OutcomeUserID, UserID.
	EventPlugin EventKind = "plugin"
	// EventChallenge: a challenge was decided: Plugin is the challenger
	// that answered ("" when none did), Status the downstream status.
	EventChallenge EventKind = "challenge"
	// EventLogin: a login. From API.Login and API.LoginAs (Identifier is
	// the identifier the credentials were logged in as) and from the
	// middleware when an identifier found credentials that no
	// authenticator accepted. Outcome is OutcomeOK (UserID, Plugin the
	// authenticator) or OutcomeFail (Reason; Login the login name tried,
	// when the credentials carry one).
	EventLogin EventKind = "login"
	// EventLogout: API.Logout: UserID (the result being logged out, ""
	// when anonymous), Identifier (the name asked for, "" all).
	EventLogout EventKind = "logout"
	// EventCache: a credential or token cache answered: Plugin, Outcome
	// OutcomeHit, OutcomeMiss or OutcomeError (Err).
	EventCache EventKind = "cache"
	// EventBan: a throttle banned a userid or an address: Plugin, Reason
	// the ban's kind ("user" or "ip"), Login the userid tried.
	EventBan EventKind = "ban"
	// EventStoreError: a plugin's or the session manager's store failed:
	// Plugin (the plugin's name, "session" for the manager), Reason the
	// operation ("load", "save", ...), Err.
	EventStoreError EventKind = "store_error"
	// EventReload: `who serve` reloaded who.toml: Outcome OutcomeOK or
	// OutcomeFail, Reason the file name, Err the mistakes (masked).
	EventReload EventKind = "reload"
)

// Outcomes of an Event. An identifier's call is found, none or error; an
// authenticator's userid, no or error; a metadata provider's ok or error;
// a login ok or fail; a cache hit, miss or error.
const (
	OutcomeFound  = "found"
	OutcomeNone   = "none"
	OutcomeError  = "error"
	OutcomeUserID = "userid"
	OutcomeNo     = "no"
	OutcomeOK     = "ok"
	OutcomeFail   = "fail"
	OutcomeHit    = "hit"
	OutcomeMiss   = "miss"
)

// Reasons of a failed login (EventLogin, OutcomeFail).
const (
	// ReasonRejected: every authenticator that ran answered no.
	ReasonRejected = "rejected"
	// ReasonError: an authenticator failed (a backend down) and none
	// accepted.
	ReasonError = "error"
	// ReasonNoAuthenticator: no authenticator runs for the request's
	// classification.
	ReasonNoAuthenticator = "no_authenticator"
)

// An Event is one observation. Which fields are set depends on Kind (see
// the EventKind constants); the rest are zero. It never holds a credential.
type Event struct {
	Kind EventKind
	// Stage is the plugin's stage (StageIdentifiers, ...) for EventPlugin.
	Stage string
	// Plugin is the plugin's name, as in who.toml.
	Plugin string
	// Identifier is, for an authenticator's call, the identifier whose
	// identity it checked; for a login or logout, the identifier named.
	Identifier string
	// Outcome is one of the Outcome constants.
	Outcome string
	// UserID is the userid answered, logged in or logged out.
	UserID string
	// Login is the login name a failed login or a ban was for, as the
	// client sent it (a value the client chooses: quote it when logging).
	Login string
	// Reason qualifies the outcome (ReasonRejected, a ban's kind, a store
	// operation).
	Reason string
	// Err is the error of an OutcomeError, masked as in logs.
	Err error
	// Status is the downstream status (EventRequest, EventChallenge).
	Status int
	// Classification is the request's classification.
	Classification string
	// Start and Duration time a plugin call or a request (zero otherwise).
	Start    time.Time
	Duration time.Duration
	// Request is the request, when there is one (who.RequestOrigin gives
	// its client address). Read-only; never record its credentials.
	Request *http.Request
}

// observers is a chain's Config.Observers; nil when there are none, so
// that the hot path tests one pointer.
type observers struct{ list []Observer }

func newObservers(list []Observer) *observers {
	var keep []Observer
	for _, o := range list {
		if o != nil {
			keep = append(keep, o)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return &observers{list: keep}
}

func (o *observers) start(ctx context.Context, r *http.Request) context.Context {
	for _, ob := range o.list {
		if c := ob.Start(ctx, r); c != nil {
			ctx = c
		}
	}
	return ctx
}

func (o *observers) observe(ctx context.Context, e Event) {
	for _, ob := range o.list {
		ob.Observe(ctx, e)
	}
}

var observersKey = &ctxKey{"observers"}

// observersFrom returns the observers of the chain ctx belongs to: the
// middleware's (the request is inside it) or the ones Observed put in the
// context (an outer middleware); nil when none.
func observersFrom(ctx context.Context) *observers {
	if ctx == nil {
		return nil
	}
	if st := stateFrom(ctx); st != nil && st.m != nil {
		return st.m.obs
	}
	o, _ := ctx.Value(observersKey).(*observers)
	return o
}

// Report hands e, an event a plugin observed itself (EventCache, EventBan,
// EventStoreError, or a kind of its own), to the observers of the chain
// whose request ctx belongs to: a plugin passes r.Context(). A request
// outside any chain, or a chain without observers, makes it a no-op, so a
// plugin may call it unconditionally; it costs a context lookup. Report
// fills in e.Classification from the request, and e.Plugin, when unset,
// with the name of the plugin the chain is calling (for a wrapper, the
// name the chain lists: the outermost wrapper's).
//
// An outer middleware (a session manager) runs outside the chain's
// context: its reports reach the observers when Middleware.Observed wraps
// it, as config.Chain.Handler does.
func Report(ctx context.Context, e Event) {
	if ctx == nil {
		return
	}
	if st := stateFrom(ctx); st != nil && st.m != nil {
		if st.m.obs == nil {
			return
		}
		if e.Classification == "" {
			e.Classification = st.classification
		}
		if e.Plugin == "" {
			e.Plugin = st.calling
		}
		if e.Request == nil {
			e.Request = st.r
		}
		st.m.obs.observe(ctx, e)
		return
	}
	if o, _ := ctx.Value(observersKey).(*observers); o != nil {
		o.observe(ctx, e)
	}
}

// Observing reports whether Report would reach an observer from ctx, for a
// plugin whose event is costly to build.
func Observing(ctx context.Context) bool { return observersFrom(ctx) != nil }

// Observed returns next with the middleware's observers in each request's
// context, so that Report reaches them from an outer middleware wrapped
// around the chain (a session manager): wrap the outermost handler with
// it. Without observers it returns next itself.
func (m *Middleware) Observed(next http.Handler) http.Handler {
	if m.obs == nil {
		return next
	}
	o := m.obs
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), observersKey, o)))
	})
}

// Observe hands e to the middleware's observers (for a caller outside
// any request, such as `who serve` reporting a reload); a no-op without
// observers. ctx may be context.Background().
func (m *Middleware) Observe(ctx context.Context, e Event) {
	if m == nil || m.obs == nil {
		return
	}
	m.obs.observe(ctx, e)
}

// identifierOutcome is the Outcome of an identifier's answer.
func identifierOutcome(id Identity, err error) string {
	switch {
	case err != nil:
		return OutcomeError
	case id == nil:
		return OutcomeNone
	}
	return OutcomeFound
}

// authenticatorOutcome is the Outcome of an authenticator's answer.
func authenticatorOutcome(uid string, err error) string {
	switch {
	case err != nil:
		return OutcomeError
	case uid == "":
		return OutcomeNo
	}
	return OutcomeUserID
}

// observePlugin reports one plugin call that started at t0.
func (st *state) observePlugin(stage, plugin, identifier, outcome, uid string, err error, t0 time.Time) {
	st.m.obs.observe(st, Event{Kind: EventPlugin, Stage: stage, Plugin: plugin, Identifier: identifier,
		Outcome: outcome, UserID: uid, Err: err, Classification: st.classification,
		Start: t0, Duration: time.Since(t0), Request: st.r})
}

// loginName returns the login name credentials carry (KeyLogin), "" when
// none.
func loginName(id Identity) string {
	switch v := id[KeyLogin].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}
