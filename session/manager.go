package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultCookieName      = "gowho_session"
	DefaultIdleTimeout     = 2 * time.Hour
	DefaultAbsoluteTimeout = 24 * time.Hour
	DefaultMaxCookieSize   = 4096
)

// ErrNoStore is returned by New when Options.Store is nil.
var ErrNoStore = errors.New("session: no store")

// Options configure a Manager. The zero value of every field but Store
// means its default.
type Options struct {
	// Store keeps the records. Required.
	Store Store
	// CookieName is the session cookie's name (key cookie_name, default
	// "gowho_session").
	CookieName string
	// CookiePath is the cookie's Path (key cookie_path, default "/").
	CookiePath string
	// CookieDomain is the cookie's Domain (key cookie_domain, default none:
	// the host only).
	CookieDomain string
	// Secure sets the cookie's Secure flag (key secure). nil (the default,
	// secure = "auto") sets it whenever the request is https as the client
	// saw it (who.RequestOrigin: over TLS, or by a proxy listed in
	// [general] trusted_proxies).
	Secure *bool
	// HTTPOnly sets the cookie's HttpOnly flag (key http_only). nil (the
	// default) means on.
	HTTPOnly *bool
	// SameSite is the cookie's SameSite (key same_site: "lax", "strict" or
	// "none"; default Lax).
	SameSite http.SameSite
	// IdleTimeout ends a session not used for this long (key idle_timeout,
	// default 2h; negative: never). The deadline lives in the record.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created,
	// however busy (key absolute_timeout, default 24h; negative: never).
	AbsoluteTimeout time.Duration
	// Rolling saves every loaded session on every response, so the idle
	// deadline moves at each request (key rolling, default false: the
	// record is saved when it changed, and touched when a sixteenth of the
	// idle timeout has passed since its last save).
	Rolling bool
	// Persistent gives the cookie an Expires at the session's deadline
	// (key persistent, default false: a browser-session cookie).
	Persistent bool
	// Autoload loads the session before the handler runs (key autoload,
	// default false: on first use).
	Autoload bool
	// MaxCookieSize is the largest Set-Cookie value accepted, in bytes (key
	// max_cookie_size, default 4096). A larger one fails the response with
	// a 500 and a log line naming ErrTooLarge.
	MaxCookieSize int
	// Logger receives store failures; nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock, for tests; nil: time.Now.
	Now func() time.Time
}

// A Manager is net/http middleware that gives each request a session.
// Build it with New; it is safe for concurrent use.
type Manager struct {
	o   Options
	log *slog.Logger
}

type ctxKey struct{ name string }

func (k *ctxKey) String() string { return "session context key " + k.name }

// anyKey holds the innermost manager's session, for From; it links to
// the sessions of enclosing managers.
var anyKey = &ctxKey{"session"}

// New checks o, applies its defaults and returns the manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil {
		return nil, ErrNoStore
	}
	if o.CookieName == "" {
		o.CookieName = DefaultCookieName
	}
	if !validCookieName(o.CookieName) {
		return nil, fmt.Errorf("session: bad cookie name %q: use letters, digits, '-', '_' or '.'", o.CookieName)
	}
	if o.CookiePath == "" {
		o.CookiePath = "/"
	}
	if o.SameSite == 0 || o.SameSite == http.SameSiteDefaultMode {
		o.SameSite = http.SameSiteLaxMode
	}
	if o.SameSite == http.SameSiteNoneMode && o.Secure != nil && !*o.Secure {
		return nil, errors.New("session: same_site \"none\" needs secure cookies: browsers drop it otherwise")
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.AbsoluteTimeout == 0 {
		o.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if o.MaxCookieSize <= 0 {
		o.MaxCookieSize = DefaultMaxCookieSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{o: o, log: o.Logger}
	if m.log == nil {
		m.log = slog.Default()
	}
	return m, nil
}

func validCookieName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}

// Options returns the manager's options, defaults applied.
func (m *Manager) Options() Options { return m.o }

// Store returns the manager's store.
func (m *Manager) Store() Store { return m.o.Store }

// Wrap returns next behind the manager: every request gets a session,
// loaded on first use (or now, with Autoload) and saved once, when the
// response starts.
func (m *Manager) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &Session{m: m}
		s.outer, _ = r.Context().Value(anyKey).(*Session)
		r = r.WithContext(context.WithValue(r.Context(), anyKey, s))
		s.r = r
		if m.o.Autoload {
			if err := s.Load(); err != nil {
				m.fail(w, r, err)
				return
			}
		}
		s.wv.Reset(w, (*saver)(s))
		next.ServeHTTP(&s.wv, r)
		s.wv.Finish()
	})
}

// From returns the request's session of this manager, or nil when the
// request did not go through it. The methods of a nil *Session return
// ErrNoMiddleware.
func (m *Manager) From(r *http.Request) *Session { return m.FromContext(r.Context()) }

// FromContext is From for a context.
func (m *Manager) FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(anyKey).(*Session)
	for s != nil && s.m != m {
		s = s.outer
	}
	return s
}

// From returns the request's session of the innermost manager, or nil
// when the request went through none. The methods of a nil *Session return
// ErrNoMiddleware, so
//
//	if err := session.From(r).Set("cart", id); err != nil { ... }
//
// is safe.
func From(r *http.Request) *Session {
	s, _ := r.Context().Value(anyKey).(*Session)
	return s
}

// FromContext is From for a context.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(anyKey).(*Session)
	return s
}

// fail answers the request with 503 (a store failure) or 500 (anything
// else, such as ErrTooLarge), after a log line.
func (m *Manager) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusServiceUnavailable, "session store unavailable"
	var se *StoreError
	if !errors.As(err, &se) {
		status, msg = http.StatusInternalServerError, "session could not be saved"
	}
	if Cancelled(r.Context(), err) {
		// The client went away (or the server gave up on the request):
		// the store did not fail, and nobody reads this answer.
		m.log.Debug("session: request cancelled", "method", r.Method, "path", r.URL.EscapedPath(), "err", err)
	} else {
		m.log.Error("session: request failed", "status", status, "method", r.Method, "path", r.URL.EscapedPath(), "err", err)
	}
	// w's headers are the ones set before the manager ran (the writer
	// restored them): an outer middleware's HSTS or request id stays.
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "5")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// save saves rec through the store, telling a SaveInfoStore whether the
// session is authenticated, and whether it was loaded (existing: write
// only over a record still there, else ErrGone).
func (m *Manager) save(ctx context.Context, id string, b []byte, expiry time.Time, rc *record, existing bool) (string, error) {
	if is, ok := m.o.Store.(SaveInfoStore); ok {
		return is.SaveInfo(ctx, id, b, expiry, SaveInfo{Authenticated: rc.authenticated(), UserID: userIDOf(rc), Existing: existing})
	}
	return m.o.Store.Save(ctx, id, b, expiry)
}

// userIDOf returns the userid a record holds (see SaveInfo.Authenticated):
// the one at the top level, else the one in the top-level map whose key
// sorts first, so that a record has one userid whatever the map order.
func userIDOf(rc *record) string {
	data := rc.dataMap()
	if s, _ := data[keyUserID].(string); s != "" {
		return s
	}
	uid, at := "", ""
	for k, v := range data {
		var s string
		switch m := v.(type) {
		case map[string]any:
			s, _ = m[keyUserID].(string)
		case map[string]string:
			s = m[keyUserID]
		}
		if s != "" && (uid == "" || k < at) {
			uid, at = s, k
		}
	}
	return uid
}

// DestroyUser deletes every session of userid, in every browser and on
// every app server sharing the store ("log out everywhere", what scs's
// Iterate is used for), and returns how many live sessions it deleted. The
// userid is the one the session plugin (plugins/sessionid) remembers, or a
// value under who.KeyUserID that Go code set. A session that changed user
// belongs to its last one.
//
// The store must be a UserIndexStore (memstore, filestore, redisstore);
// for any other the error wraps ErrNotSupported. A store failure is a
// *StoreError; DestroyUser still tries the other sessions, and the count
// is of those it deleted.
//
// A request in flight that loaded one of the sessions before DestroyUser
// and saves it after does not write it back: the manager saves a loaded
// session only over a record still there (SaveInfo.Existing), drops the
// save and expires that browser's cookie. The request itself still runs
// to its end as the user it was. A login that completes after DestroyUser
// is a new session: to keep the user out, refuse them in the
// authenticator too (disable the account, change the password).
func (m *Manager) DestroyUser(ctx context.Context, userid string) (int, error) {
	if userid == "" {
		return 0, errors.New("session: DestroyUser: empty userid")
	}
	ix, ok := m.o.Store.(UserIndexStore)
	if !ok {
		return 0, fmt.Errorf("session: DestroyUser: %w: %T keeps no per-user index", ErrNotSupported, m.o.Store)
	}
	ids, err := ix.UserSessions(ctx, userid)
	if err != nil {
		return 0, &StoreError{Op: "list", Err: err}
	}
	n := 0
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		sid, b, found, err := m.o.Store.Load(ctx, id)
		if err != nil {
			errs = append(errs, &StoreError{Op: "load", Err: err})
			continue
		}
		if !found {
			continue
		}
		rc, err := decodeRecord(b)
		if err != nil || userIDOf(rc) != userid {
			continue // unreadable (never loaded either), or another user's now
		}
		if err := m.o.Store.Delete(ctx, sid); err != nil {
			errs = append(errs, &StoreError{Op: "delete", Err: err})
			continue
		}
		if !rc.expired(m.o.Now()) {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// StoreError is a backend failure (Store returned an error). The manager
// answers 503 for it.
type StoreError struct {
	Op  string // "load", "save", "delete" or "list" (DestroyUser)
	Err error
}

func (e *StoreError) Error() string { return "session: store " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the store's error.
func (e *StoreError) Unwrap() error { return e.Err }

// cookie builds the session cookie with value v; maxAge < 0 expires it.
func (m *Manager) cookie(r *http.Request, v string, expires time.Time, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name:     m.o.CookieName,
		Value:    v,
		Path:     m.o.CookiePath,
		Domain:   m.o.CookieDomain,
		Secure:   who.RequestOrigin(r).Scheme == "https",
		HttpOnly: true,
		SameSite: m.o.SameSite,
		MaxAge:   maxAge,
	}
	if m.o.Secure != nil {
		c.Secure = *m.o.Secure
	}
	if m.o.HTTPOnly != nil {
		c.HttpOnly = *m.o.HTTPOnly
	}
	if m.o.SameSite == http.SameSiteNoneMode {
		c.Secure = true
	}
	if maxAge >= 0 && m.o.Persistent && !expires.IsZero() {
		c.Expires = expires
	}
	return c
}

// A Provider is a value that holds a Manager, such as the plugin a
// who.toml [plugin.NAME] with use = "session" builds; plugins that name a
// session manager (session_name) accept any Provider.
type Provider interface {
	SessionManager() *Manager
}

// SessionManager returns m: a Manager is a Provider.
func (m *Manager) SessionManager() *Manager { return m }
