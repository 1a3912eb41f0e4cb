package oidc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/gowho/gowho/internal/codec"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// ErrNoTokens is returned (wrapped) by TokenSource when the request's
// session holds no tokens of this provider: no session_name, no session,
// or no login through this plugin in it.
var ErrNoTokens = errors.New("oidc: no tokens in the session")

// maxHintCookie bounds the ID token kept in the hint cookie (without a
// session): a larger one is not kept, and the logout goes to the provider
// without id_token_hint.
const maxHintCookie = 3500

// Session record keys (under sessionKey, a map).
const (
	recIDToken      = "id_token"
	recAccessToken  = "access_token"
	recRefreshToken = "refresh_token"
	recTokenType    = "token_type"
	recExpiry       = "expiry" // Unix seconds; 0: unknown
	recSub          = "sub"
	recSID          = "sid"
	recLogin        = "login"  // Unix nanoseconds
	recUserID       = "userid" // the userid the login gave
	recClaims       = "claims" // the claims of `claims` it copied, a map
)

// sessionKey is the session key of this plugin's record.
func (p *Plugin) sessionKey() string { return "gowho.plugins.oidc." + p.name }

// hintCookie is the name of the cookie keeping the ID token for logout
// when there is no session manager.
func (p *Plugin) hintCookie() string { return p.o.CookiePrefix + "idt" }

// keepTokens keeps what the login gave: in the session (ID, access and
// refresh tokens, sub, sid), indexed for back-channel logout; without one,
// the ID token in a cookie sent only to logout_path.
func (p *Plugin) keepTokens(w http.ResponseWriter, r *http.Request, tok *oauth2.Token, rawID, sub, sid string, id who.Identity) {
	if p.sm == nil {
		if len(rawID) <= maxHintCookie {
			http.SetCookie(w, &http.Cookie{Name: p.hintCookie(), Value: rawID, Path: p.o.LogoutPath, HttpOnly: true, Secure: p.o.Secure.For(r), SameSite: http.SameSiteLaxMode})
		}
		return
	}
	s := p.sm.From(r)
	if s == nil {
		p.log.Error("oidc: the session manager does not wrap the chain: the tokens are not kept", "provider", p.name, "session_name", p.o.SessionName)
		return
	}
	var exp int64
	if !tok.Expiry.IsZero() {
		exp = tok.Expiry.Unix()
	}
	rec := map[string]any{
		recIDToken: rawID, recAccessToken: tok.AccessToken, recRefreshToken: tok.RefreshToken,
		recTokenType: tok.TokenType, recExpiry: exp, recSub: sub, recSID: sid, recLogin: p.now().UnixNano(),
		recUserID: id.Str(KeyUserID),
	}
	claims := map[string]any{}
	for _, name := range p.claims {
		if v, ok := id[name]; ok {
			claims[name] = v
		}
	}
	if len(claims) > 0 {
		rec[recClaims] = claims
	}
	if err := s.Set(p.sessionKey(), rec); err != nil {
		p.log.Error("oidc: keeping the tokens in the session", "provider", p.name, "err", err)
		return
	}
	if p.o.BackchannelLogoutPath != "" {
		if id := s.ID(); id != "" {
			if sid != "" {
				p.sessions.add("sid\x00"+sid, id)
			}
			p.sessions.add("sub\x00"+sub, id)
		}
	}
}

// record returns the plugin's session record, nil when none.
func (p *Plugin) record(r *http.Request) (*session.Session, map[string]any) {
	if p.sm == nil {
		return nil, nil
	}
	s := p.sm.From(r)
	if s == nil {
		return nil, nil
	}
	rec, _ := s.Get(p.sessionKey()).(map[string]any)
	return s, rec
}

// dropTokens removes what keepTokens kept and returns the ID token.
func (p *Plugin) dropTokens(w http.ResponseWriter, r *http.Request) string {
	if p.sm == nil {
		c, err := r.Cookie(p.hintCookie())
		if err != nil {
			return ""
		}
		http.SetCookie(w, &http.Cookie{Name: p.hintCookie(), Path: p.o.LogoutPath, MaxAge: -1, HttpOnly: true, Secure: p.o.Secure.For(r), SameSite: http.SameSiteLaxMode})
		return c.Value
	}
	s, rec := p.record(r)
	if rec == nil {
		return ""
	}
	if err := s.Delete(p.sessionKey()); err != nil {
		p.log.Error("oidc: removing the tokens from the session", "provider", p.name, "err", err)
	}
	hint, _ := rec[recIDToken].(string)
	return hint
}

// AddMetadata (who.MetadataProvider) gives every later request of a
// login through this plugin the claims its callback copied (those of
// `claims`), from the plugin's session record, whichever rememberer keeps
// the login: an auth_tkt ticket keeps only the userid, a sessionid only
// its alsopersist keys. It needs session_name and the plugin listed under
// [mdproviders]; it adds nothing when the record is another user's (a
// later login through another plugin) and keeps the keys id already
// holds.
func (p *Plugin) AddMetadata(r *http.Request, id who.Identity) error {
	if p.sm == nil {
		return nil
	}
	s := p.sm.From(r)
	uid := id.Str(who.KeyUserID)
	if s == nil || uid == "" {
		return nil
	}
	// The two keys alone, not the record's tokens: this runs on every
	// request of a login.
	key := p.sessionKey()
	if v, _ := s.LookupIn(key, recUserID); str(v) != uid {
		return nil
	}
	v, _ := s.LookupIn(key, recClaims)
	claims, _ := v.(map[string]any)
	for k, v := range claims {
		if _, has := id[k]; !has && slices.Contains(p.claims, k) {
			id[k] = codec.Clone(v)
		}
	}
	return nil
}

// IDToken returns the raw ID token of the request's login through this
// plugin, kept in the session (or, without session_name, "": the hint
// cookie goes only to logout_path).
func (p *Plugin) IDToken(r *http.Request) string {
	_, rec := p.record(r)
	s, _ := rec[recIDToken].(string)
	return s
}

// TokenSource returns the tokens of the request's login through this
// plugin, for calling APIs on the user's behalf: the access token while it
// is valid, then a new one from the refresh token (ask for the
// "offline_access" scope). A refreshed token is saved back into the
// session when the response has not started yet. It needs session_name.
// The source uses r's context: use it during the request.
func (p *Plugin) TokenSource(r *http.Request) (oauth2.TokenSource, error) {
	s, rec := p.record(r)
	if rec == nil {
		if p.sm == nil {
			return nil, errors.Join(ErrNoTokens, errors.New("oidc: session_name is not set"))
		}
		return nil, ErrNoTokens
	}
	d, err := p.provider(r.Context())
	if err != nil {
		return nil, err
	}
	tok := &oauth2.Token{
		AccessToken:  str(rec[recAccessToken]),
		RefreshToken: str(rec[recRefreshToken]),
		TokenType:    str(rec[recTokenType]),
	}
	if exp := toInt64(rec[recExpiry]); exp != 0 {
		tok.Expiry = time.Unix(exp, 0)
	}
	base := p.oauth2Config(d, "").TokenSource(p.clientContext(r.Context()), tok)
	return &savingSource{p: p, s: s, base: base, last: tok.AccessToken}, nil
}

// savingSource saves refreshed tokens back into the session.
type savingSource struct {
	p    *Plugin
	s    *session.Session
	base oauth2.TokenSource
	mu   sync.Mutex
	last string
}

func (ss *savingSource) Token() (*oauth2.Token, error) {
	t, err := ss.base.Token()
	if err != nil {
		return nil, err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if t.AccessToken == ss.last {
		return t, nil
	}
	ss.last = t.AccessToken
	old, _ := ss.s.Get(ss.p.sessionKey()).(map[string]any)
	rec := make(map[string]any, len(old)+4)
	for k, v := range old {
		rec[k] = v
	}
	rec[recAccessToken] = t.AccessToken
	if t.RefreshToken != "" {
		rec[recRefreshToken] = t.RefreshToken
	}
	rec[recTokenType] = t.TokenType
	var exp int64
	if !t.Expiry.IsZero() {
		exp = t.Expiry.Unix()
	}
	rec[recExpiry] = exp
	if err := ss.s.Set(ss.p.sessionKey(), rec); err != nil && !errors.Is(err, session.ErrCommitted) {
		ss.p.log.Error("oidc: saving the refreshed token", "provider", ss.p.name, "err", err)
	}
	return t, nil
}

// revokeFor is how long a back-channel revocation is remembered for
// sessions this process did not index: the session manager's longest
// lifetime, 30 days when it has none.
func (p *Plugin) revokeFor() time.Duration {
	d := 30 * 24 * time.Hour
	if p.sm != nil {
		o := p.sm.Options()
		if m := max(o.IdleTimeout, o.AbsoluteTimeout); m > 0 {
			d = m + time.Minute
		}
	}
	return d
}

// revoke ends the sessions of sid (or, without one, of every session of
// sub): it deletes those indexed and remembers the revocation for the
// others, destroyed at their next request (dropRevoked).
func (p *Plugin) revoke(ctx context.Context, sid, sub string) {
	key := "sid\x00" + sid
	if sid == "" {
		key = "sub\x00" + sub
	}
	now := p.now()
	p.revoked.add(key, now, now.Add(p.revokeFor()), now)
	if p.sm == nil {
		return
	}
	for _, id := range p.sessions.take(key) {
		if err := p.sm.Store().Delete(ctx, id); err != nil {
			p.log.Error("oidc: back-channel logout: deleting a session", "provider", p.name, "err", err)
		}
	}
}

// dropRevoked destroys the request's session when the provider logged out
// its sid or sub after this login.
func (p *Plugin) dropRevoked(r *http.Request) {
	if p.revoked.len() == 0 {
		return
	}
	s, rec := p.record(r)
	if rec == nil {
		return
	}
	login := time.Unix(0, toInt64(rec[recLogin]))
	now := p.now()
	for _, key := range []string{"sid\x00" + str(rec[recSID]), "sub\x00" + str(rec[recSub])} {
		if key == "sid\x00" {
			continue
		}
		if at, ok := p.revoked.get(key, now); ok && !at.Before(login) {
			if err := s.Destroy(); err != nil {
				p.log.Error("oidc: back-channel logout: destroying a session", "provider", p.name, "err", err)
			}
			return
		}
	}
}

// sessionIndex maps "sid\x00"+sid and "sub\x00"+sub to the session ids
// that logged in with them. Bounded: full, it starts again (the
// revocations still reach the forgotten sessions at their next request).
type sessionIndex struct {
	mu  sync.Mutex
	max int
	n   int
	m   map[string][]string
}

func newSessionIndex(max int) *sessionIndex {
	return &sessionIndex{max: max, m: map[string][]string{}}
}

func (x *sessionIndex) add(key, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.n >= x.max {
		x.m, x.n = map[string][]string{}, 0
	}
	x.m[key] = append(x.m[key], id)
	x.n++
}

func (x *sessionIndex) take(key string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	ids := x.m[key]
	delete(x.m, key)
	x.n -= len(ids)
	return ids
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// toInt64 reads an integer the session codec gave back.
func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}
