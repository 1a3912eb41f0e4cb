package throttle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gowho/gowho/internal/backoff"
	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultMaxFailures = 5
	DefaultWindow      = 15 * time.Minute
	DefaultTimeout     = 300 * time.Millisecond
	DefaultBackoff     = 5 * time.Second
	DefaultMaxEntries  = 100000
	DefaultKeyPrefix   = "gowho:throttle:"
)

// Modes: what failures are counted by.
const (
	ModeUser = "user" // per userid (the login), whatever the address
	ModeIP   = "ip"   // per client address, whatever the login
	ModeBoth = "both" // both: either ban refuses the login
)

// What to do when the shared store fails (on_store_error).
const (
	// StoreErrorLocal counts in this process's memory while the shared
	// store fails: each instance then allows max_failures per window on
	// its own. The default: neither unlimited guessing nor a lockout.
	StoreErrorLocal = "local"
	// StoreErrorOpen lets logins through uncounted while the store fails
	// (availability first: guessing is unthrottled meanwhile).
	StoreErrorOpen = "open"
	// StoreErrorClosed refuses every password login while the store
	// fails (a Redis outage locks everyone out).
	StoreErrorClosed = "closed"
)

// BanMessage is the message of the audit line written for each ban; see
// docs/plugins/throttle.md for its attributes, which are stable.
const BanMessage = "gowho ban"

// Sentinel errors of New and Validate.
var (
	// ErrNothingToWrap: authenticator_name is required.
	ErrNothingToWrap = errors.New("throttle: authenticator_name is required")
	// ErrTwoStores: redis_url and memcached_urls are exclusive.
	ErrTwoStores = errors.New("throttle: set redis_url or memcached_urls, not both")
)

// Options configure the throttle. Each field's doc names its key and
// default.
type Options struct {
	// AuthenticatorName, key authenticator_name (required): the declared
	// authenticator the throttle guards (list it as "name;unused").
	AuthenticatorName string `toml:"authenticator_name"`
	// MaxFailures, key max_failures (default 5): the failed logins
	// allowed per window for one userid (or address) before a ban.
	MaxFailures int `toml:"max_failures"`
	// Window, key window (default 15m): how long failures are counted;
	// the count starts with the first failure and ends window later.
	Window who.Duration `toml:"window"`
	// Ban, key ban (default: window): how long a banned userid (or
	// address) is refused without asking the wrapped authenticator.
	Ban who.Duration `toml:"ban"`
	// Mode, key mode (default "both"): "user" counts per userid, "ip" per
	// client address, "both" per each (either ban refuses).
	Mode string `toml:"mode"`
	// RedisURL, key redis_url: share the counts and bans with other
	// instances through Redis ("redis://host:port/db", "rediss://…").
	RedisURL string `toml:"redis_url"`
	// MemcachedURLs, key memcached_urls: share them through memcached
	// ("host:port" each; a key lives on one server, by hash). With
	// neither, the state is in this process's memory.
	MemcachedURLs who.Words `toml:"memcached_urls"`
	// Timeout, key timeout (default 300ms): the bound of each round trip
	// to the shared store; past it the store counts as failed.
	Timeout who.Duration `toml:"timeout"`
	// OnStoreError, key on_store_error (default "local"): what a failing
	// shared store means: "local" (count in memory meanwhile), "open"
	// (let logins through uncounted) or "closed" (refuse them).
	OnStoreError string `toml:"on_store_error"`
	// Backoff, key backoff (default 5s): after a store failure the store
	// is not asked for this long (on_store_error applies), then one
	// login probes it. One warning is logged per back-off.
	Backoff who.Duration `toml:"backoff"`
	// MaxEntries, key max_entries (default 100000): the most userids and
	// addresses the in-memory state counts, and apart from them the most
	// it holds banned (the least recently tried are dropped first), so a
	// flood of distinct logins can neither grow memory without limit nor
	// evict a ban.
	MaxEntries int `toml:"max_entries"`
	// KeyPrefix, key key_prefix (default "gowho:throttle:"): prepended to
	// every Redis or memcached key.
	KeyPrefix string `toml:"key_prefix"`
	// FoldCase, key fold_case (default true): count "Alice" and
	// "alice " as one userid (case folded, spaces trimmed), as a
	// case-insensitive directory (LDAP) sees them. Folding only widens a
	// ban; set it false for a backend where they are different users.
	FoldCase *bool `toml:"fold_case"`

	// Authenticator is the wrapped authenticator for Go users; from
	// who.toml it is found by name at load.
	Authenticator who.Authenticator `toml:"-"`
	// Logger receives the ban lines (warn) and store failures; nil:
	// slog.Default().
	Logger *slog.Logger `toml:"-"`
}

// Stats counts what the throttle did.
type Stats struct {
	Calls       int64 // logins passed to the wrapped authenticator
	Failures    int64 // of them, answered "no"
	Refused     int64 // logins refused without asking it (banned or over the limit)
	Bans        int64 // bans written
	StoreErrors int64 // shared store failures (and skips during a back-off)
}

// Throttle wraps an authenticator and refuses, without asking it, the
// password logins of a userid or client address that failed max_failures
// times within window, for ban. It is safe for concurrent use.
type Throttle struct {
	o        Options
	fold     bool
	auth     who.Authenticator
	log      *slog.Logger
	now      func() time.Time
	client   func(*http.Request) string
	shared   store // nil: memory only
	local    *memStore
	br       backoff.Breaker
	prefix   string
	calls    atomic.Int64
	failures atomic.Int64
	refused  atomic.Int64
	bans     atomic.Int64
	storeErr atomic.Int64
}

var (
	_ who.Authenticator = (*Throttle)(nil)
	_ who.Resolver      = (*Throttle)(nil)
	_ who.Validator     = (*Throttle)(nil)
	_ who.SecretKeyer   = (*Throttle)(nil)
)

// New returns the throttle. The wrapped authenticator comes from
// Options.Authenticator or, from who.toml, from Resolve.
func New(o Options) (*Throttle, error) {
	if o.AuthenticatorName == "" && o.Authenticator == nil {
		return nil, &who.OptionError{Key: "authenticator_name", Err: ErrNothingToWrap}
	}
	var errs []error
	for _, d := range []struct {
		key string
		v   who.Duration
	}{{"window", o.Window}, {"ban", o.Ban}, {"timeout", o.Timeout}, {"backoff", o.Backoff}} {
		if d.v < 0 {
			errs = append(errs, &who.OptionError{Key: d.key, Err: fmt.Errorf("throttle: must not be negative, got %v", d.v)})
		}
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"max_failures", o.MaxFailures}, {"max_entries", o.MaxEntries}} {
		if n.v < 0 {
			errs = append(errs, &who.OptionError{Key: n.key, Err: fmt.Errorf("throttle: must not be negative, got %d", n.v)})
		}
	}
	switch o.Mode {
	case "":
		o.Mode = ModeBoth
	case ModeUser, ModeIP, ModeBoth:
	default:
		errs = append(errs, &who.OptionError{Key: "mode", Err: fmt.Errorf("throttle: %q is not one of \"user\", \"ip\", \"both\"", o.Mode)})
	}
	switch o.OnStoreError {
	case "":
		o.OnStoreError = StoreErrorLocal
	case StoreErrorLocal, StoreErrorOpen, StoreErrorClosed:
	default:
		errs = append(errs, &who.OptionError{Key: "on_store_error", Err: fmt.Errorf("throttle: %q is not one of \"local\", \"open\", \"closed\"", o.OnStoreError)})
	}
	if o.RedisURL != "" && len(o.MemcachedURLs) > 0 {
		errs = append(errs, &who.OptionError{Key: "memcached_urls", Err: ErrTwoStores})
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if len(o.KeyPrefix) > 100 || strings.ContainsFunc(o.KeyPrefix, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		errs = append(errs, &who.OptionError{Key: "key_prefix", Err: errors.New("throttle: at most 100 printable ASCII characters, no spaces")})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.MaxFailures == 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.Window == 0 {
		o.Window = who.Duration(DefaultWindow)
	}
	if o.Ban == 0 {
		o.Ban = o.Window
	}
	if o.Timeout == 0 {
		o.Timeout = who.Duration(DefaultTimeout)
	}
	if o.Backoff == 0 {
		o.Backoff = who.Duration(DefaultBackoff)
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	t := &Throttle{o: o, fold: o.FoldCase == nil || *o.FoldCase, auth: o.Authenticator, log: o.Logger,
		now: time.Now, client: clientAddr, local: newMemStore(o.MaxEntries), prefix: o.KeyPrefix}
	if t.log == nil {
		t.log = slog.Default()
	}
	t.br = backoff.Breaker{Threshold: 1, Interval: o.Backoff.D(), Now: func() time.Time { return t.now() }}
	switch {
	case o.RedisURL != "":
		s, err := newRedisStore(o.RedisURL, o.Timeout.D())
		if err != nil {
			return nil, &who.OptionError{Key: "redis_url", Err: err}
		}
		t.shared = s
	case len(o.MemcachedURLs) > 0:
		t.shared = newMemcacheStore(o.MemcachedURLs, o.Timeout.D())
	}
	return t, nil
}

// References names the wrapped authenticator, for the loader.
func (t *Throttle) References() []who.Reference {
	if t.o.AuthenticatorName == "" {
		return nil
	}
	return []who.Reference{{Key: "authenticator_name", Name: t.o.AuthenticatorName}}
}

// Resolve finds the wrapped authenticator among the declared plugins.
func (t *Throttle) Resolve(plugins map[string]any) error {
	if t.auth != nil || t.o.AuthenticatorName == "" {
		return nil
	}
	a, err := who.Lookup[who.Authenticator](plugins, who.Reference{Key: "authenticator_name", Name: t.o.AuthenticatorName})
	t.auth = a
	return err
}

// Validate checks that the wrapped authenticator was found and is not the
// throttle itself.
func (t *Throttle) Validate() error {
	if t.auth == nil {
		return &who.OptionError{Key: "authenticator_name", Err: ErrNothingToWrap}
	}
	if a, ok := t.auth.(*Throttle); ok && a == t {
		return &who.OptionError{Key: "authenticator_name", Err: errors.New("throttle: the wrapper cannot wrap itself")}
	}
	return nil
}

// SecretKeys forwards the keys the wrapped authenticator declares secret
// (who.SecretKeysOf), so a chain listing the throttle in its place masks
// what it would.
func (t *Throttle) SecretKeys() []string {
	if t.auth == nil {
		return who.SecretKeysOf()
	}
	return who.SecretKeysOf(t.auth)
}

// Close closes the connections to the shared store.
func (t *Throttle) Close() error {
	if t.shared == nil {
		return nil
	}
	return t.shared.close()
}

// Stats returns the counters so far.
func (t *Throttle) Stats() Stats {
	return Stats{Calls: t.calls.Load(), Failures: t.failures.Load(), Refused: t.refused.Load(),
		Bans: t.bans.Load(), StoreErrors: t.storeErr.Load()}
}

// subject is one thing failures are counted by: a userid or an address.
type subject struct {
	kind  string // "user" or "ip"
	value string // the normalised userid, or the address
	k     keys
	n     int64 // the attempt number reserved for this login
	st    store // where it was reserved
}

// subjects returns what the login is counted by, the address first (a
// banned address then costs no entry per userid it tries), or nil when the
// identity is no password login (a cookie, a token): those pass through
// uncounted, since every authenticator sees every identity.
func (t *Throttle) subjects(r *http.Request, id who.Identity, login string) []subject {
	var out []subject
	if t.o.Mode != ModeUser {
		if c := t.client(r); c != "" {
			out = append(out, subject{kind: "ip", value: c, k: encodeKeys(t.prefix, "ip", c)})
		}
	}
	if t.o.Mode != ModeIP && login != "" {
		out = append(out, subject{kind: "user", value: login, k: encodeKeys(t.prefix, "user", login)})
	}
	return out
}

// login returns the identity's login as the throttle counts it, and
// whether the identity is a password login at all.
func (t *Throttle) login(id who.Identity) (string, bool) {
	switch pw := id[who.KeyPassword].(type) {
	case string:
		if pw == "" {
			return "", false
		}
	case []byte:
		if len(pw) == 0 {
			return "", false
		}
	default:
		return "", false
	}
	var login string
	switch l := id[who.KeyLogin].(type) {
	case string:
		login = l
	case []byte:
		login = string(l)
	}
	if t.fold {
		login = strings.ToLower(strings.TrimSpace(login))
	}
	return login, true
}

// Authenticate refuses ("" and a nil error, without asking the wrapped
// authenticator) a password login whose userid or address is banned or
// has used its max_failures attempts of the window; else it asks the
// wrapped authenticator. Its "no" counts as a failure, and the
// max_failures-th failure bans. Its error counts nothing. A success
// resets the userid's count (whoever knows the password needs no
// guessing) but not the address's, and never lifts a ban. An identity
// without a password passes through uncounted.
func (t *Throttle) Authenticate(r *http.Request, id who.Identity) (string, error) {
	if t.auth == nil || id == nil {
		return "", nil
	}
	login, ok := t.login(id)
	if !ok {
		return t.auth.Authenticate(r, id)
	}
	subs := t.subjects(r, id, login)
	if len(subs) == 0 {
		return t.auth.Authenticate(r, id)
	}
	now := t.now()
	ctx := r.Context()
	if t.shared != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.o.Timeout.D())
		defer cancel()
	}
	st, probe, open := t.store()
	defer probe.End() // a probe that reached no shared store lets the next call probe
	if open {
		return t.auth.Authenticate(r, id) // on_store_error = "open", store failing
	}
	if st == nil {
		t.refused.Add(1)
		return "", nil // on_store_error = "closed", store failing
	}
	for i := range subs {
		s := &subs[i]
		n, until, err := t.attempt(ctx, &st, s, now)
		if err != nil {
			// on_store_error = "open" or "closed" after a failure in
			// this very request.
			t.refundAll(subs[:i])
			if t.o.OnStoreError == StoreErrorOpen {
				return t.auth.Authenticate(r, id)
			}
			t.refused.Add(1)
			return "", nil
		}
		if until.After(now) || n > int64(t.o.MaxFailures) {
			if n > 0 {
				s.n = n
				t.refundAll(subs[:i+1])
			} else {
				t.refundAll(subs[:i])
			}
			t.refused.Add(1)
			return "", nil
		}
		s.n = n
	}
	t.calls.Add(1)
	uid, err := t.auth.Authenticate(r, id)
	switch {
	case err != nil:
		t.refundAll(subs) // a backend failure is no wrong password
		return "", err
	case uid != "":
		for i := range subs {
			s := &subs[i]
			if s.kind == "user" {
				t.do(s.st, func(ctx context.Context) error { return s.st.reset(ctx, s.k) })
			} else {
				t.do(s.st, func(ctx context.Context) error { return s.st.refund(ctx, s.k) })
			}
		}
		return uid, nil
	}
	t.failures.Add(1)
	for i := range subs {
		s := &subs[i]
		if s.n >= int64(t.o.MaxFailures) {
			t.ban(r, s, login, now)
		}
	}
	return "", nil
}

// store returns the store to use now: the shared one, or, while it is
// failing, the local one ("local"), nil ("closed") or open = true
// ("open"). The caller ends the ticket when it is done with the store:
// after the back-off it is the one probe of the shared store.
func (t *Throttle) store() (st store, tk backoff.Ticket, open bool) {
	if t.shared == nil {
		return t.local, tk, false
	}
	tk, err := t.br.Allow()
	if err == nil {
		return t.shared, tk, false
	}
	t.storeErr.Add(1)
	switch t.o.OnStoreError {
	case StoreErrorOpen:
		return nil, tk, true
	case StoreErrorClosed:
		return nil, tk, false
	}
	return t.local, tk, false
}

// attempt reserves one attempt of s in *st; when the shared store fails
// it records the failure and, with "local", moves *st to the local store
// and tries there.
func (t *Throttle) attempt(ctx context.Context, st *store, s *subject, now time.Time) (int64, time.Time, error) {
	n, until, err := (*st).attempt(ctx, s.k, t.o.Window.D(), now)
	if err == nil || *st == store(t.local) {
		s.st = *st
		if err == nil && *st != store(t.local) {
			t.br.Record(nil, false) // an answer ends a run of failures and the back-off
		}
		return n, until, err
	}
	t.storeFailed(ctx, err)
	if t.o.OnStoreError != StoreErrorLocal {
		return 0, time.Time{}, err
	}
	*st = t.local
	s.st = t.local
	return t.local.attempt(ctx, s.k, t.o.Window.D(), now)
}

// do runs a follow-up operation on st with its own timeout (the request's
// may be spent by the wrapped authenticator), recording a shared store's
// failure.
func (t *Throttle) do(st store, op func(ctx context.Context) error) {
	if st == store(t.local) {
		_ = op(context.Background()) // memory: no timeout, no error
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.o.Timeout.D())
	defer cancel()
	if err := op(ctx); err != nil {
		t.storeFailed(ctx, err)
	} else {
		t.br.Record(nil, false)
	}
}

func (t *Throttle) refundAll(subs []subject) {
	for i := range subs {
		s := &subs[i]
		if s.st == nil || s.n == 0 {
			continue
		}
		t.do(s.st, func(ctx context.Context) error { return s.st.refund(ctx, s.k) })
	}
}

// storeFailed counts a shared store failure and logs it once per
// back-off (never a key's value: keys are hashes, and no password is
// anywhere near).
func (t *Throttle) storeFailed(ctx context.Context, err error) {
	t.storeErr.Add(1)
	// Observers (metrics) count it when ctx is a request's (who.Report).
	who.Report(ctx, who.Event{Kind: who.EventStoreError, Reason: "shared_store", Err: err})
	if t.br.Record(err, false) {
		if r, ok := t.shared.(interface{ renew() }); ok {
			r.renew() // go-redis's pool may have stopped dialling
		}
		t.log.Warn("throttle: shared store failed", "on_store_error", t.o.OnStoreError,
			"backoff", t.o.Backoff.String(), "err", err)
	}
}

// ban bans s until now + ban and writes the audit line.
func (t *Throttle) ban(r *http.Request, s *subject, login string, now time.Time) {
	until := now.Add(t.o.Ban.D())
	ctx, cancel := context.WithTimeout(context.Background(), t.o.Timeout.D())
	err := s.st.ban(ctx, s.k, until, t.o.Ban.D())
	cancel()
	if err != nil && s.st != store(t.local) {
		t.storeFailed(ctx, err)
		if t.o.OnStoreError == StoreErrorLocal {
			_ = t.local.ban(ctx, s.k, until, t.o.Ban.D()) // at least this instance keeps it
		}
	}
	t.bans.Add(1)
	who.Report(r.Context(), who.Event{Kind: who.EventBan, Reason: s.kind, Login: login})
	// The attribute order is part of the format: kind and client come
	// before userid, the one value a client chooses, so a filter matching
	// client= cannot be fooled by a login that spells "client=...".
	t.log.LogAttrs(r.Context(), slog.LevelWarn, BanMessage,
		slog.String("kind", s.kind),
		slog.String("client", t.client(r)),
		slog.Int64("failures", s.n),
		slog.String("window", t.o.Window.String()),
		slog.String("ban", t.o.Ban.String()),
		slog.String("until", until.UTC().Format(time.RFC3339)),
		slog.String("mode", t.o.Mode),
		slog.String("userid", login),
	)
}
