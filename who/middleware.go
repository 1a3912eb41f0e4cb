package who

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/gowho/gowho/internal/respwriter"
)

// Unused is the reserved classification of repoze.who's "name;unused":
// the plugin is built and referable by name but never run.
const Unused = "unused"

// An Entry is one plugin in a stage list.
type Entry struct {
	// Name is the plugin's name in the configuration; results and logs
	// carry it.
	Name string
	// Plugin implements the stage's interface.
	Plugin any
	// Classifications restricts the plugin to requests of these kinds
	// (exact match, any of them). Empty: every request.
	Classifications []string
}

// Config describes a chain. Config.New checks it.
type Config struct {
	Identifiers       []Entry
	Authenticators    []Entry
	Challengers       []Entry
	MetadataProviders []Entry

	// Classifier classifies requests; nil: DefaultClassifier.
	Classifier RequestClassifier
	// Decider decides challenges; nil: DefaultDecider.
	Decider ChallengeDecider
	// Logger receives plugin errors (warn), challenges (info) and each
	// plugin's answer (debug); nil: slog.Default().
	Logger *slog.Logger

	// TrustedUserHeader, when set, names a request header that a trusted
	// front server fills with the authenticated user (repoze.who's
	// REMOTE_USER pass-through). A request carrying it non-empty bypasses
	// the chain with that userid. Leave it empty unless every request comes
	// through a proxy that strips the header from clients.
	//
	// Only the configured spelling (case-insensitive, as HTTP) is trusted,
	// and only when it is the one spelling and the one value: a request that
	// also carries the header under another spelling folding to the same
	// name ("X_Remote_User" for "X-Remote-User", as CGI and WSGI read both
	// as HTTP_X_REMOTE_USER), or carries it twice, is treated as carrying
	// none of it. Every spelling is then removed from the request, the
	// chain runs, and a warning is logged.
	TrustedUserHeader string
	// RemoteUserKey, when set, names a request header the middleware sets
	// to the authenticated userid for the downstream handler, for handlers
	// that proxy to CGI or WSGI applications. Every request header whose
	// name equals it after case folding and treating '_' and '-' alike is
	// removed first (DeleteHeaderFolded), so a client's "Remote_User" never
	// reaches the application; an anonymous request carries none. Empty:
	// none.
	RemoteUserKey string

	// FailureLogInterval bounds the log lines of a failing plugin
	// (identifier, authenticator, metadata provider): its first failure is
	// logged at once, the repeats are counted and logged as one
	// "(repeated)" line with the count and the last error at the end of
	// each interval while it keeps failing. 0: DefaultFailureLogInterval;
	// negative: every failure is logged.
	FailureLogInterval time.Duration

	// TrustedProxies lists the proxies in front of gowho whose forwarding
	// headers are believed ([general] trusted_proxies): the middleware
	// resolves every request's Origin with it once, before any plugin
	// runs, and RequestOrigin returns it. The zero value trusts none. A
	// request whose context already carries an origin (WithOrigin) keeps
	// it.
	TrustedProxies TrustedProxies

	// Observers watch every request, plugin call, challenge, login and
	// logout, and receive what plugins Report (metrics, tracing, the
	// audit log: see Observer). nil entries are ignored; none: the chain
	// does no observation work.
	Observers []Observer
}

// Middleware runs the chain. Build it with New; it is safe for concurrent
// use.
type Middleware struct {
	identifiers    []stageEntry[Identifier]
	authenticators []stageEntry[Authenticator]
	challengers    []stageEntry[Challenger]
	mdproviders    []stageEntry[MetadataProvider]
	classify       RequestClassifier
	decide         ChallengeDecider
	log            *slog.Logger
	fails          *failureLog
	trustedHeader  string
	trustedName    string // "header:" + trustedHeader, the Identifier of its results
	remoteUserKey  string
	secretKeys     []string // SecretKeys: masked in debug logs and plugin errors
	proxies        TrustedProxies
	obs            *observers // nil: no observers
}

type stageEntry[T any] struct {
	Entry
	p T
}

// New checks cfg (every plugin implements its stage's interface) and
// returns the middleware. A plugin listed under a stage it does not
// implement is a *StageError (one per such entry, joined), which unwraps
// to ErrWrongStage.
func New(cfg Config) (*Middleware, error) {
	m := &Middleware{
		classify:      cfg.Classifier,
		decide:        cfg.Decider,
		log:           cfg.Logger,
		trustedHeader: http.CanonicalHeaderKey(cfg.TrustedUserHeader),
		remoteUserKey: http.CanonicalHeaderKey(cfg.RemoteUserKey),
		proxies:       cfg.TrustedProxies,
		obs:           newObservers(cfg.Observers),
	}
	if m.classify == nil {
		m.classify = DefaultClassifier
	}
	if m.decide == nil {
		m.decide = DefaultDecider
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.trustedName = "header:" + m.trustedHeader
	m.fails = newFailureLog(m.log, cfg.FailureLogInterval)
	var errs [4]error
	m.identifiers, errs[0] = buildStage[Identifier](StageIdentifiers, cfg.Identifiers)
	m.authenticators, errs[1] = buildStage[Authenticator](StageAuthenticators, cfg.Authenticators)
	m.challengers, errs[2] = buildStage[Challenger](StageChallengers, cfg.Challengers)
	m.mdproviders, errs[3] = buildStage[MetadataProvider](StageMDProviders, cfg.MetadataProviders)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	m.secretKeys = m.chainSecretKeys()
	return m, nil
}

// Wrap returns next behind the chain.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next)
	})
}

// ctxKey is the context key of the per-request state.
type ctxKey struct{ name string }

func (k *ctxKey) String() string { return "who context key " + k.name }

var stateKey = &ctxKey{"state"}

// state is the per-request state. It is itself the request's context (it
// embeds the parent and answers Value(stateKey)), and it holds the request
// copy the downstream handler sees, the response wrapper and the result
// found on the way in, so the chain costs the request one allocation.
type state struct {
	context.Context
	m              *Middleware // nil: a NewContext state, no middleware
	r              *http.Request
	classification string
	result         *Result // current result; nil: anonymous
	ingress        *Result // the result found on the way in
	replacement    http.Handler
	started        bool              // the downstream handler runs
	setsCookie     bool              // gowho produced a Set-Cookie for this response
	rw             respwriter.Writer // what the downstream handler writes to
	trace          *Trace            // nil unless WithTrace
	kept           []keptValue
	keptBuf        [2]keptValue
	ingressBuf     Result       // where the first authenticate puts its result
	req            http.Request // what r points to: the request with this context
	origin         Origin       // the request's origin (RequestOrigin), when hasOrigin
	hasOrigin      bool
	status         int       // the downstream status the chain decided on (0: not yet)
	authRan        bool      // rank ran an authenticator
	authErr        bool      // and one of them failed
	begun          time.Time // when the request entered the chain, with observers
	calling        string    // the plugin being called, with observers (Report's default Plugin)
}

// keptValue is one SetRequestValue.
type keptValue struct{ key, value any }

// Value answers stateKey with the state itself and delegates the rest.
func (st *state) Value(key any) any {
	if key == stateKey {
		return st
	}
	if key == originKey && st.hasOrigin {
		return &st.origin
	}
	return st.Context.Value(key)
}

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if prev := stateFrom(r.Context()); prev != nil && prev.m != nil && prev.result != nil {
		// An outer chain already authenticated: pass through.
		if m.remoteUserKey != "" {
			r = r.WithContext(r.Context()) // a copy whose headers may change
			m.setIdentityHeaders(r, prev.result)
		}
		next.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	var begun time.Time
	if m.obs != nil {
		begun = time.Now()
		ctx = m.obs.start(ctx, r)
	}
	st := &state{Context: ctx, m: m, begun: begun}
	if o, ok := r.Context().Value(originKey).(*Origin); !ok || o == nil {
		st.origin, st.hasOrigin = m.proxies.Resolve(r), true
	}
	// The copy lives in the state: WithContext's own copy does not escape.
	st.req = *r.WithContext(st)
	r = &st.req
	st.r = r
	st.kept = st.keptBuf[:0]
	if m.trustedHeader != "" {
		if u := m.trustedUser(r); u != "" {
			st.ingressBuf = Result{UserID: u, Identity: Identity{KeyUserID: u}, Identifier: m.trustedName}
			st.result = &st.ingressBuf
			st.ingress = st.result
			m.setIdentityHeaders(r, st.result)
			next.ServeHTTP(w, r)
			if m.obs != nil {
				st.observeEnd()
			}
			return
		}
	}
	st.trace = traceFrom(r.Context())
	st.classification = m.classify(r)
	if st.trace != nil && st.trace.Classified != nil {
		st.trace.Classified(st.classification)
	}
	st.authenticateInto(&st.ingressBuf)
	m.setIdentityHeaders(r, st.result)
	h := next
	if st.replacement != nil {
		h = st.replacement
	}
	st.started = true
	st.rw.Reset(w, (*chainOwner)(st))
	h.ServeHTTP(&st.rw, r)
	st.rw.Finish()
	if m.obs != nil {
		st.observeEnd()
	}
}

// observeEnd reports the end of the request (EventRequest).
func (st *state) observeEnd() {
	uid := ""
	if st.result != nil {
		uid = st.result.UserID
	}
	st.m.obs.observe(st, Event{Kind: EventRequest, UserID: uid, Status: st.status,
		Classification: st.classification, Start: st.begun, Duration: time.Since(st.begun), Request: st.r})
}

// setIdentityHeaders sets the identity headers gowho passes to the
// downstream handler (RemoteUserKey) on r, a request copy of the
// middleware's own: every spelling a client may have sent is removed first
// (DeleteHeaderFolded), and an anonymous request (res nil) carries none.
// Every identity header gowho sets goes through here.
func (m *Middleware) setIdentityHeaders(r *http.Request, res *Result) {
	if m.remoteUserKey == "" || res == nil && !hasHeaderFolded(r.Header, m.remoteUserKey) {
		return // nothing to remove or set: the request's headers stay shared
	}
	r.Header = ownHeaders(r.Header)
	DeleteHeaderFolded(r.Header, m.remoteUserKey)
	if res != nil {
		r.Header.Set(m.remoteUserKey, res.UserID)
	}
}

// trustedUser returns the userid of the trusted header, or "" when the
// request carries none. Only the configured spelling with a single value
// is trusted; when any other spelling folding to the same name is present,
// or the header is repeated, nothing is trusted and every spelling is
// removed from r (a copy of the middleware's own), so the downstream
// application cannot read a client's copy either.
func (m *Middleware) trustedUser(r *http.Request) string {
	var vs []string
	n := 0 // values under the configured spelling (any case)
	reason := ""
	for k, kvs := range r.Header {
		if !HeaderNamesMatch(k, m.trustedHeader) {
			continue
		}
		if !strings.EqualFold(k, m.trustedHeader) {
			reason = "the header is also sent under another spelling"
			break
		}
		vs = kvs
		n += len(kvs)
	}
	if reason == "" && n > 1 {
		reason = "the header is repeated"
	}
	if reason == "" {
		if n == 0 {
			return ""
		}
		return vs[0]
	}
	m.fails.failed("who: trusted user header ignored", m.trustedName, errors.New(reason))
	r.Header = ownHeaders(r.Header)
	DeleteHeaderFolded(r.Header, m.trustedHeader)
	return ""
}

// hasHeaderFolded reports whether h holds a header that DeleteHeaderFolded
// would remove.
func hasHeaderFolded(h http.Header, name string) bool {
	for k := range h {
		if HeaderNamesMatch(k, name) {
			return true
		}
	}
	return false
}

// ownHeaders returns a copy of h whose keys the middleware may delete and
// set, so the caller's request stays as it was. The value slices are
// shared: they are only ever replaced, never appended to or changed.
func ownHeaders(h http.Header) http.Header {
	c := make(http.Header, len(h)+1)
	maps.Copy(c, h)
	return c
}

// identified is one identifier's answer.
type identified struct {
	entry    *stageEntry[Identifier]
	rank     int
	identity Identity
}

// authenticate runs identification, authentication and metadata, and sets
// st.result (nil when nobody authenticated).
func (st *state) authenticate() *Result { return st.authenticateInto(nil) }

// authenticateInto is authenticate, storing a result in dst (nil: a new
// Result), so the one authentication of every request allocates no Result
// of its own. A Result handed out is never overwritten: API.Authenticate
// passes nil.
func (st *state) authenticateInto(dst *Result) *Result {
	m := st.m
	debug := m.log.Enabled(st.r.Context(), slog.LevelDebug)
	var found []identified
	for i := range m.identifiers {
		e := &m.identifiers[i]
		if !e.RunsFor(st.classification) {
			continue
		}
		var t0 time.Time
		if m.obs != nil {
			t0, st.calling = time.Now(), e.Name
		}
		id, err := e.p.Identify(st.r)
		if m.obs != nil {
			st.observePlugin(StageIdentifiers, e.Name, "", identifierOutcome(id, err), "", err, t0)
		}
		if st.trace != nil && st.trace.Identified != nil {
			st.trace.Identified(e.Name, id, err)
		}
		if err != nil {
			m.fails.failed("who: identifier failed", e.Name, err)
			continue
		}
		if debug {
			if id == nil {
				m.log.Debug("who: identifier answered", "plugin", e.Name, "found", false)
			} else {
				m.log.Debug("who: identifier answered", "plugin", e.Name, "found", true,
					"identity", maskedLog{id, m.secretKeys})
			}
		}
		if id != nil {
			found = append(found, identified{entry: e, rank: i, identity: id})
		}
	}
	st.result = st.rank(found, debug, false, dst)
	st.ingress = st.result
	if m.obs != nil && st.result == nil && len(found) > 0 {
		st.observeLogin(found[0].entry.Name, found[0].identity, nil)
	}
	return st.result
}

// rank tries every matching authenticator on every identity, as
// repoze.who does (no short-circuit: an authenticator may depend on seeing
// every identity), and returns the best result with its metadata, or nil.
// Results rank by (authenticator position, identifier position); since
// authenticators are walked in configured order and identities in
// identifier order, the first success is the best. Each success keeps its
// own userid in its own copy of the identity. The result is stored in dst
// (nil: a new Result).
func (st *state) rank(found []identified, debug, copyIdentity bool, dst *Result) *Result {
	m := st.m
	var best *Result
	var bestID identified
	st.authRan, st.authErr = false, false
	for ai := range m.authenticators {
		a := &m.authenticators[ai]
		if !a.RunsFor(st.classification) {
			continue
		}
		for _, f := range found {
			var t0 time.Time
			if m.obs != nil {
				t0, st.calling = time.Now(), a.Name
			}
			uid, err := a.p.Authenticate(st.r, f.identity)
			err = maskError(err, f.identity, m.secretKeys) // a plugin's message may quote the credential
			st.authRan = true
			if err != nil {
				st.authErr = true
			}
			if m.obs != nil {
				st.observePlugin(StageAuthenticators, a.Name, f.entry.Name, authenticatorOutcome(uid, err), uid, err, t0)
			}
			if st.trace != nil && st.trace.Authenticated != nil {
				st.trace.Authenticated(a.Name, f.entry.Name, [2]int{ai, f.rank}, uid, err)
			}
			if err != nil {
				m.fails.failed("who: authenticator failed", a.Name, err, slog.String("identifier", f.entry.Name))
				continue
			}
			if debug {
				m.log.Debug("who: authenticator answered", "plugin", a.Name, "identifier", f.entry.Name,
					"rank", fmt.Sprintf("(%d,%d)", ai, f.rank), "userid", uid)
			}
			if uid == "" || best != nil {
				continue
			}
			if dst == nil {
				dst = new(Result)
			}
			*dst = Result{UserID: uid, Identifier: f.entry.Name, Authenticator: a.Name, identifier: f.entry.p}
			best = dst
			bestID = f
		}
	}
	if best != nil {
		// The identity an identifier returned belongs to the chain (the
		// Identifier contract), so it becomes the result as it is; a
		// caller's credentials (Login) are copied.
		best.Identity = bestID.identity
		if copyIdentity {
			best.Identity = best.Identity.Clone()
		}
		best.Identity[KeyUserID] = best.UserID
	}
	if st.trace != nil && st.trace.Won != nil {
		st.trace.Won(best)
	}
	if best == nil {
		return nil
	}
	st.addMetadata(best)
	return best
}

func (st *state) addMetadata(res *Result) {
	for i := range st.m.mdproviders {
		p := &st.m.mdproviders[i]
		if !p.RunsFor(st.classification) {
			continue
		}
		var t0 time.Time
		if st.m.obs != nil {
			t0, st.calling = time.Now(), p.Name
		}
		err := maskError(p.p.AddMetadata(st.r, res.Identity), res.Identity, st.m.secretKeys)
		if st.m.obs != nil {
			outcome := OutcomeOK
			if err != nil {
				outcome = OutcomeError
			}
			st.observePlugin(StageMDProviders, p.Name, "", outcome, "", err, t0)
		}
		if st.trace != nil && st.trace.Metadata != nil {
			st.trace.Metadata(p.Name, res.Identity, err)
		}
		if err != nil {
			st.m.fails.failed("who: metadata provider failed", p.Name, err, slog.String("userid", res.UserID))
		}
	}
}

// decide runs at the first WriteHeader, Write or Flush. It returns the
// challenge handler, or nil after adding the remember headers to h.
func (st *state) decide(status int, h http.Header) (challenge http.Handler, challenged bool) {
	m := st.m
	st.status = status
	isChallenge := m.decide(st.r, status, h)
	if st.trace != nil && st.trace.Decided != nil {
		st.trace.Decided(status, isChallenge)
	}
	if isChallenge {
		appHeaders := h.Clone()
		ch := st.challenge(status, appHeaders)
		if ch == nil {
			m.log.Error("who: no challenger answered", "method", st.r.Method, "path", st.r.URL.EscapedPath(),
				"classification", st.classification, "status", status)
			ch = http.HandlerFunc(noChallenger)
		}
		return ch, true
	}
	if st.result != nil && st.result == st.ingress {
		rh := st.remember(st.result)
		if st.trace != nil && st.trace.Remembered != nil {
			st.trace.Remembered(st.result.Identifier, rh)
		}
		addHeaders(h, rh)
	}
	if st.setsCookie && len(h["Set-Cookie"]) > 0 {
		PreventSharedCaching(h)
	}
	return nil, false
}

// noteCookies records that gowho handed out h (remember or forget headers,
// Login's or Logout's): when it holds a Set-Cookie, the response that
// carries it is kept out of shared caches.
func (st *state) noteCookies(h http.Header) {
	if len(h["Set-Cookie"]) > 0 {
		st.setsCookie = true
	}
}

func noChallenger(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "authentication required, but no challenger is configured for this request", http.StatusInternalServerError)
}

func addHeaders(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

func (st *state) remember(res *Result) http.Header {
	if res == nil {
		return nil
	}
	rem, ok := res.identifier.(Rememberer)
	if !ok {
		return nil
	}
	h := rem.Remember(st.r, res.Identity)
	st.noteCookies(h)
	return h
}

func (st *state) forget(res *Result) http.Header {
	if res == nil {
		return nil
	}
	rem, ok := res.identifier.(Rememberer)
	if !ok {
		return nil
	}
	h := rem.Forget(st.r, res.Identity)
	st.noteCookies(h)
	return h
}

// challenge gathers the forget headers of the current result's identifier
// and returns the first matching challenger's handler, or nil.
func (st *state) challenge(status int, appHeaders http.Header) http.Handler {
	forget := st.forget(st.result)
	if forget == nil {
		forget = http.Header{}
	}
	if appHeaders == nil {
		appHeaders = http.Header{}
	}
	for i := range st.m.challengers {
		c := &st.m.challengers[i]
		if !c.RunsFor(st.classification) {
			continue
		}
		if h := c.p.Challenge(st.r, status, appHeaders, forget); h != nil {
			// The escaped path (as sent: "%0D%0A" stays escaped, whatever
			// the log handler quotes) without the query, which may hold a
			// token.
			st.m.log.Info("who: challenge", "method", st.r.Method, "path", st.r.URL.EscapedPath(),
				"plugin", c.Name, "classification", st.classification, "status", status)
			if st.trace != nil && st.trace.Challenged != nil {
				st.trace.Challenged(c.Name, status, forget)
			}
			if st.m.obs != nil {
				st.observeChallenge(c.Name, status)
			}
			return h
		}
	}
	if st.m.obs != nil {
		st.observeChallenge("", status)
	}
	if st.trace != nil && st.trace.Challenged != nil {
		st.trace.Challenged("", status, forget)
	}
	return nil
}

// observeChallenge reports a challenge (EventChallenge) answered by
// challenger ("" none).
func (st *state) observeChallenge(challenger string, status int) {
	st.m.obs.observe(st, Event{Kind: EventChallenge, Plugin: challenger, Status: status,
		Classification: st.classification, Request: st.r})
}
