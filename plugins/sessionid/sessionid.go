package sessionid

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/gowho/gowho/internal/codec"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultKeyName     = "repoze.who.tkt"
	DefaultSessionName = "sessions"
)

// DefaultAlsoPersist is the default of Options.AlsoPersist.
var DefaultAlsoPersist = []string{who.KeyUserData, who.KeyTokens}

// KeySessionUserID is the private identity key under which Identify puts
// the userid the session carries (who.KeyUserID is the chain's, set once a
// user is authenticated). Only identities holding it, produced by this
// plugin, are authenticated by it (as auth_tkt keeps its own key), so an
// identity another identifier found is never accepted on its say-so.
const KeySessionUserID = "gowho.plugins.sessionid.userid"

// ErrNoSession is returned (wrapped) when the plugin has no session
// manager: session_name named none, or Go code gave none.
var ErrNoSession = errors.New("sessionid: no session manager")

// Options configure a Plugin.
type Options struct {
	// KeyName is the session key under which the identity is kept (key
	// key_name, default "repoze.who.tkt").
	KeyName string `toml:"key_name"`
	// SessionName names the declared session manager ([plugin.NAME] with
	// use = "session") (key session_name, default "sessions"). It is
	// resolved when the configuration loads: a missing name is a load
	// error.
	SessionName string `toml:"session_name"`
	// DeleteOnLogout destroys the whole session at Forget: the record is
	// deleted and the cookie expired (key delete_on_logout, default false:
	// only key_name is removed and the rest of the session stays).
	DeleteOnLogout bool `toml:"delete_on_logout"`
	// AlsoPersist lists identity keys stored with the userid and given
	// back by Identify (key alsopersist, default ["userdata", "tokens"];
	// [] for none).
	AlsoPersist *[]string `toml:"alsopersist"`
	// Manager is the session manager, for Go users (a configuration sets
	// session_name instead).
	Manager *session.Manager `toml:"-"`
	// Logger receives session failures at Remember and Forget; nil:
	// slog.Default().
	Logger *slog.Logger `toml:"-"`
}

// Plugin keeps the identity in the session: it is an identifier,
// rememberer and authenticator (for its own identities).
type Plugin struct {
	keyName     string
	sessionName string
	deleteOnOut bool
	alsoPersist []string
	m           *session.Manager
	log         *slog.Logger
}

var (
	_ who.Identifier    = (*Plugin)(nil)
	_ who.Rememberer    = (*Plugin)(nil)
	_ who.Authenticator = (*Plugin)(nil)
	_ who.Resolver      = (*Plugin)(nil)
	_ who.Validator     = (*Plugin)(nil)
	_ who.SecretKeyer   = (*Plugin)(nil)
)

// SecretKeys declares no secret beyond who.KeyPassword (which it never
// puts in an identity): its identity holds the session's userid
// (KeySessionUserID) and the alsopersist keys, never the session id, which
// stays in the session cookie.
func (p *Plugin) SecretKeys() []string { return nil }

// New returns the plugin. Without o.Manager it must be resolved (a
// configuration does that) before use.
func New(o Options) (*Plugin, error) {
	p := &Plugin{
		keyName:     o.KeyName,
		sessionName: o.SessionName,
		deleteOnOut: o.DeleteOnLogout,
		alsoPersist: DefaultAlsoPersist,
		m:           o.Manager,
		log:         o.Logger,
	}
	if p.keyName == "" {
		p.keyName = DefaultKeyName
	}
	if p.sessionName == "" {
		p.sessionName = DefaultSessionName
	}
	if o.AlsoPersist != nil {
		p.alsoPersist = slices.Clone(*o.AlsoPersist)
	}
	for _, k := range p.alsoPersist {
		if k == "" || k == who.KeyPassword || k == who.KeyUserID || k == KeySessionUserID {
			return nil, &who.OptionError{Key: "alsopersist", Err: fmt.Errorf("cannot persist key %q", k)}
		}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	return p, nil
}

// References names the session manager, for the loader to check.
func (p *Plugin) References() []who.Reference {
	if p.m != nil {
		return nil
	}
	return []who.Reference{{Key: "session_name", Name: p.sessionName}}
}

// Resolve finds the session manager among the declared plugins.
func (p *Plugin) Resolve(plugins map[string]any) error {
	if p.m != nil {
		return nil
	}
	prov, err := who.Lookup[session.Provider](plugins, p.References()[0])
	if err != nil {
		return fmt.Errorf("%w: %w (declare one with use = \"session\")", err, ErrNoSession)
	}
	p.m = prov.SessionManager()
	return nil
}

// Manager returns the session manager that keeps the identity (nil
// before Resolve): a plugin that ends sessions (oidc's back-channel
// logout) checks with it that ending one ends the login.
func (p *Plugin) Manager() *session.Manager { return p.m }

// Validate checks that a session manager was found.
func (p *Plugin) Validate() error {
	if p.m == nil {
		return &who.OptionError{Key: "session_name", Err: fmt.Errorf("%w %q", ErrNoSession, p.sessionName)}
	}
	return nil
}

func (p *Plugin) session(r *http.Request) (*session.Session, error) {
	if p.m == nil {
		return nil, ErrNoSession
	}
	s := p.m.From(r)
	if s == nil {
		return nil, fmt.Errorf("sessionid: %w (is the %q manager outside the who chain?)", session.ErrNoMiddleware, p.sessionName)
	}
	return s, nil
}

// stored returns the identity map kept under key_name and its userid.
func (p *Plugin) stored(s *session.Session) (map[string]any, string) {
	v, _ := s.Get(p.keyName).(map[string]any)
	uid, _ := v[who.KeyUserID].(string)
	return v, uid
}

// Identify returns the identity kept in the session, or nil. A session
// store failure is an error (and the manager answers 503).
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	s, err := p.session(r)
	if err != nil {
		return nil, err
	}
	v, uid := p.stored(s)
	if err := s.Err(); err != nil {
		return nil, err
	}
	if uid == "" {
		return nil, nil
	}
	id := make(who.Identity, 1+len(p.alsoPersist))
	id[KeySessionUserID] = uid
	for _, k := range p.alsoPersist {
		if x, ok := v[k]; ok {
			id[k] = x
		}
	}
	return id, nil
}

// Authenticate returns the userid of an identity this plugin produced,
// when the request's session still holds it; "" for any other identity.
func (p *Plugin) Authenticate(r *http.Request, id who.Identity) (string, error) {
	uid := id.Str(KeySessionUserID)
	if uid == "" {
		return "", nil
	}
	s, err := p.session(r)
	if err != nil {
		return "", err
	}
	if _, cur := p.stored(s); cur != uid {
		return "", s.Err()
	}
	return uid, nil
}

// Remember stores the userid and the alsopersist keys when they changed.
// A new userid renews the session id first, so an id planted or seen
// before login is worthless after it.
func (p *Plugin) Remember(r *http.Request, id who.Identity) http.Header {
	uid := id.Str(who.KeyUserID)
	if uid == "" {
		return nil
	}
	s, err := p.session(r)
	if err != nil {
		p.logFailure(r, "sessionid: remember", err)
		return nil
	}
	old, oldUID := p.stored(s)
	if oldUID == uid && p.unchanged(old, id) {
		return nil // the common case: nothing to write, nothing allocated
	}
	v := map[string]any{who.KeyUserID: uid}
	for _, k := range p.alsoPersist {
		if x, ok := id[k]; ok && persistable(x) {
			v[k] = x
		}
	}
	if oldUID != uid {
		if err := s.RenewID(); err != nil {
			p.logFailure(r, "sessionid: renew session id", err)
			return nil
		}
	}
	if err := s.Set(p.keyName, v); err != nil {
		p.logFailure(r, "sessionid: remember", err)
	}
	return nil
}

// logFailure logs a session failure at ERROR, except the one a client
// causes by going away: context.Canceled while the request's own context is
// done is not a store outage, and is logged at debug.
func (p *Plugin) logFailure(r *http.Request, msg string, err error) {
	if session.Cancelled(r.Context(), err) {
		p.log.Debug(msg, "err", err, "cause", "request cancelled")
		return
	}
	p.log.Error(msg, "err", err)
}

// unchanged reports whether the alsopersist keys of id equal those kept.
func (p *Plugin) unchanged(kept map[string]any, id who.Identity) bool {
	for _, k := range p.alsoPersist {
		x, ok := id[k]
		ok = ok && persistable(x)
		y, had := kept[k]
		if ok != had || ok && !equal(x, y) {
			return false
		}
	}
	return true
}

// persistable reports whether x is kept: non-nil session data (an
// identity value the codec cannot store is left out, every time).
func persistable(x any) bool {
	switch x.(type) {
	case nil:
		return false
	case string, bool, int, []string:
		return true
	}
	return codec.Check(x, codec.Widen) == nil
}

// equal compares session data; what it cannot compare cheaply it compares
// by encoding.
func equal(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case int:
		y, ok := b.(int)
		return ok && x == y
	case []string:
		y, ok := b.([]string)
		return ok && slices.Equal(x, y)
	}
	ea, err1 := codec.Append(nil, a, codec.Widen)
	eb, err2 := codec.Append(nil, b, codec.Widen)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

// Forget removes key_name from the session and renews its id (the rest of
// the session stays), or with delete_on_logout destroys the session
// (record deleted, cookie expired). The manager
// sends the cookie: Forget returns no headers.
func (p *Plugin) Forget(r *http.Request, _ who.Identity) http.Header {
	s, err := p.session(r)
	if err != nil {
		p.logFailure(r, "sessionid: forget", err)
		return nil
	}
	if p.deleteOnOut {
		err = s.Destroy()
	} else if _, ok := s.Lookup(p.keyName); ok {
		// A new id too: the cookie that carried the login must not
		// carry it again (a client-side session could not be revoked
		// otherwise).
		if err = s.Delete(p.keyName); err == nil {
			err = s.RenewID()
		}
	}
	if err != nil {
		p.logFailure(r, "sessionid: forget", err)
	}
	return nil
}
