package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
	"github.com/gowho/gowho/who"
)

// Identity keys the plugin fills at login.
const (
	// KeyUserID is the private key holding the userid the ID token
	// named; only identities holding it and a valid KeyProof, made by this
	// plugin at its callback, are authenticated by it.
	KeyUserID = "gowho.plugins.oidc.userid"
	// KeyProof is an HMAC binding KeyUserID to this plugin (secret).
	KeyProof = "gowho.plugins.oidc.proof"
	// KeyIssuer holds the issuer that logged the user in.
	KeyIssuer = "oidc.issuer"
)

// ErrUnavailable is returned (wrapped) when the provider's discovery
// failed: it is down, slow or sends a malformed document.
var ErrUnavailable = errors.New("oidc: provider unavailable")

// maxProviderBody bounds what the plugin reads from the provider in one
// response (discovery, keys, token): a provider gone mad cannot fill the
// memory.
const maxProviderBody = 1 << 20

// Plugin logs users in with one OpenID Connect provider: an identifier
// (its callback, login and logout paths), a challenger (a redirect to the
// provider, or a chooser page), an authenticator of the identities it made
// and a rememberer that delegates to rememberer_name.
type Plugin struct {
	o        Options
	name     string
	scopes   []string
	claims   []string
	key      []byte
	client   *http.Client
	rem      who.Rememberer
	sm       *session.Manager
	log      *slog.Logger
	now      func() time.Time
	cop      *http.CrossOriginProtection
	chooseOf []*Plugin // the chooser's providers, p first; nil: none

	mu       sync.Mutex
	disc     *discovered
	lastErr  error
	lastTry  time.Time
	used     *expiringSet // states of flows completed or refused
	jtis     *expiringSet // back-channel logout token ids seen
	revoked  *expiringSet // "sid\x00"+sid, "sub\x00"+sub -> revocation time
	sessions *sessionIndex
}

// discovered is what discovery found.
type discovered struct {
	prov       *gooidc.Provider
	verifier   *gooidc.IDTokenVerifier
	endSession string
}

var (
	_ who.Identifier       = (*Plugin)(nil)
	_ who.Rememberer       = (*Plugin)(nil)
	_ who.Challenger       = (*Plugin)(nil)
	_ who.Authenticator    = (*Plugin)(nil)
	_ who.Resolver         = (*Plugin)(nil)
	_ who.Validator        = (*Plugin)(nil)
	_ who.SecretKeyer      = (*Plugin)(nil)
	_ who.Checker          = (*Plugin)(nil)
	_ who.MetadataProvider = (*Plugin)(nil)
)

// New checks o and returns the plugin. It does not contact the provider:
// discovery happens at the first login (or Check), and is retried after a
// failure, so a provider down at start does not stop the site.
func New(o Options) (*Plugin, error) {
	optErr := func(key string, err error) error { return &who.OptionError{Key: key, Err: err} }
	if o.Issuer == "" {
		return nil, optErr("issuer", errors.New("is required: the provider's issuer URL, such as \"https://accounts.example.com\""))
	}
	if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, optErr("issuer", fmt.Errorf("%q is not an http(s) URL with a host", o.Issuer))
	}
	if o.ClientID == "" {
		return nil, optErr("client_id", errors.New("is required: the client id registered at the provider"))
	}
	if o.RemembererName == "" && o.Rememberer == nil {
		return nil, optErr("rememberer_name", errors.New("is required: name the plugin that remembers the login (an auth_tkt or sessionid one)"))
	}
	if o.RedirectURL != "" {
		u, err := url.Parse(o.RedirectURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, optErr("redirect_url", fmt.Errorf("%q must be an absolute http(s) URL without query or fragment", o.RedirectURL))
		}
		if o.CallbackPath == "" {
			o.CallbackPath = u.EscapedPath()
		} else if u.EscapedPath() != o.CallbackPath {
			return nil, optErr("redirect_url", fmt.Errorf("%q does not end in callback_path %q; give one of them", o.RedirectURL, o.CallbackPath))
		}
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.CallbackPath, DefaultCallbackPath)
	def(&o.LoginPath, DefaultLoginPath)
	def(&o.LogoutPath, DefaultLogoutPath)
	def(&o.PostLoginURL, "/")
	def(&o.PostLogoutURL, "/")
	def(&o.UserIDClaim, DefaultUserIDClaim)
	def(&o.CookiePrefix, DefaultCookiePrefix)
	def(&o.Name, "oidc")
	if o.Label == "" {
		u, _ := url.Parse(o.Issuer)
		o.Label = u.Host
	}
	paths := []struct{ key, v string }{
		{"callback_path", o.CallbackPath}, {"login_path", o.LoginPath}, {"logout_path", o.LogoutPath},
		{"backchannel_logout_path", o.BackchannelLogoutPath},
	}
	seen := map[string]string{}
	for _, kv := range paths {
		if kv.v == "" && kv.key == "backchannel_logout_path" {
			continue
		}
		if !strings.HasPrefix(kv.v, "/") || strings.HasPrefix(kv.v, "//") || !origin.PlainBytes(kv.v) {
			return nil, optErr(kv.key, fmt.Errorf("%q must be a path starting with one /, without spaces, controls or backslashes", kv.v))
		}
		if other, dup := seen[kv.v]; dup {
			return nil, optErr(kv.key, fmt.Errorf("%q is also %s; give each path its own value", kv.v, other))
		}
		seen[kv.v] = kv.key
	}
	if !validCookieName(o.CookiePrefix) {
		return nil, optErr("cookie_prefix", fmt.Errorf("%q is not a cookie name (letters, digits, '_' and '-')", o.CookiePrefix))
	}
	for _, d := range []struct {
		key string
		v   *who.Duration
		def time.Duration
	}{{"flow_timeout", &o.FlowTimeout, DefaultFlowTimeout}, {"http_timeout", &o.HTTPTimeout, DefaultHTTPTimeout}, {"retry_interval", &o.RetryInterval, DefaultRetryInterval}} {
		if *d.v < 0 {
			return nil, optErr(d.key, fmt.Errorf("%s is negative; give a duration such as %q (0: the default)", *d.v, d.def.String()))
		}
		if *d.v == 0 {
			*d.v = who.Duration(d.def)
		}
	}
	if o.BackchannelLogoutPath != "" && o.SessionName == "" && o.SessionManager == nil {
		return nil, optErr("backchannel_logout_path", errors.New("needs session_name: back-channel logout ends the server sessions that logged in"))
	}
	if o.UserIDClaim == "nonce" || o.UserIDClaim == "aud" {
		return nil, optErr("userid_claim", fmt.Errorf("%q names no user; use \"sub\" or a claim such as \"email\"", o.UserIDClaim))
	}
	p := &Plugin{
		o:        o,
		name:     o.Name,
		rem:      o.Rememberer,
		sm:       o.SessionManager,
		log:      o.Logger,
		now:      o.Now,
		cop:      http.NewCrossOriginProtection(),
		used:     newExpiringSet(maxFlows),
		jtis:     newExpiringSet(maxFlows),
		revoked:  newExpiringSet(maxFlows),
		sessions: newSessionIndex(maxFlows),
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.scopes = []string{gooidc.ScopeOpenID}
	scopes := o.Scopes
	if scopes == nil {
		scopes = DefaultScopes
	}
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return nil, optErr("scopes", fmt.Errorf("%q is not a scope", s))
		}
		if !slices.Contains(p.scopes, s) {
			p.scopes = append(p.scopes, s)
		}
	}
	p.claims = DefaultClaims
	if o.Claims != nil {
		p.claims = slices.Clone(*o.Claims)
	}
	for _, c := range p.claims {
		// max_age would let the provider choose the cookie's lifetime;
		// the chain's and the plugins' own keys are not claims.
		if c == "" || c == who.KeyPassword || c == who.KeyMaxAge || c == KeyIssuer || strings.HasPrefix(c, "repoze.who.") || strings.HasPrefix(c, "gowho.") {
			return nil, optErr("claims", fmt.Errorf("cannot copy claim %q into the identity", c))
		}
	}
	if o.CookieSecret != "" {
		if len(o.CookieSecret) < 16 {
			return nil, optErr("cookie_secret", errors.New("is shorter than 16 bytes; use a long random string"))
		}
		p.key = []byte(o.CookieSecret)
	} else {
		p.key = make([]byte, 32)
		rand.Read(p.key)
	}
	p.client = o.HTTPClient
	if p.client == nil {
		p.client = &http.Client{}
	} else {
		c := *p.client
		p.client = &c
	}
	if p.client.Timeout == 0 {
		p.client.Timeout = o.HTTPTimeout.D()
	}
	base := p.client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	p.client.Transport = limitTransport{base}
	if o.Rememberer != nil {
		p.warnBackchannel()
	}
	return p, nil
}

// sessionRememberer is a rememberer that keeps the login in the sessions
// of a session manager (sessionid.Plugin).
type sessionRememberer interface {
	Manager() *session.Manager
}

// MsgBackchannelRememberer is the start of the warning logged when
// back-channel logout is on but the login is remembered outside the
// plugin's session manager.
const MsgBackchannelRememberer = "oidc: back-channel logout cannot end this login"

// warnBackchannel warns when back-channel logout is on and the rememberer
// keeps the login outside the sessions it ends (an auth_tkt cookie): the
// provider's logout then ends the session and its tokens, not the login.
// A warning, not an error: the tokens still go, and who check -strict
// refuses it.
func (p *Plugin) warnBackchannel() {
	if p.o.BackchannelLogoutPath == "" || p.rem == nil || p.sm == nil {
		return
	}
	if sr, ok := p.rem.(sessionRememberer); ok && sr.Manager() == p.sm {
		return
	}
	rem := p.o.RemembererName
	if rem == "" {
		rem = fmt.Sprintf("%T", p.rem)
	}
	p.log.Warn(MsgBackchannelRememberer+": the rememberer keeps it outside the session that backchannel_logout_path ends (an auth_tkt cookie outlives it), so a logout at the provider removes the tokens but the user stays logged in here; remember with a sessionid plugin over session_name",
		"provider", p.name, "rememberer_name", rem, "session_name", p.o.SessionName)
}

// SecretKeys declares KeyProof secret. The tokens never enter the
// identity: they stay in the server session.
func (p *Plugin) SecretKeys() []string { return []string{KeyProof} }

// References names the rememberer, the session manager and the chooser's
// other providers.
func (p *Plugin) References() []who.Reference {
	var refs []who.Reference
	if p.o.Rememberer == nil && p.o.RemembererName != "" {
		refs = append(refs, who.Reference{Key: "rememberer_name", Name: p.o.RemembererName})
	}
	if p.o.SessionManager == nil && p.o.SessionName != "" {
		refs = append(refs, who.Reference{Key: "session_name", Name: p.o.SessionName})
	}
	for _, n := range p.o.Choose {
		refs = append(refs, who.Reference{Key: "choose", Name: n})
	}
	return refs
}

// Resolve finds the rememberer, the session manager and the chooser's
// providers, and refuses two oidc plugins sharing a path.
func (p *Plugin) Resolve(plugins map[string]any) error {
	var choose []*Plugin
	for _, ref := range p.References() {
		switch ref.Key {
		case "rememberer_name":
			rem, err := who.Lookup[who.Rememberer](plugins, ref)
			if err != nil {
				return err
			}
			p.rem = rem
		case "session_name":
			prov, err := who.Lookup[session.Provider](plugins, ref)
			if err != nil {
				return fmt.Errorf("%w (declare one with use = \"session\")", err)
			}
			p.sm = prov.SessionManager()
		case "choose":
			other, err := who.Lookup[*Plugin](plugins, ref)
			if err != nil {
				return err
			}
			if other != p && !slices.Contains(choose, other) {
				choose = append(choose, other)
			}
		}
	}
	if len(choose) > 0 {
		p.chooseOf = append([]*Plugin{p}, choose...)
	}
	for name, x := range plugins {
		other, ok := x.(*Plugin)
		if !ok || other == p {
			continue
		}
		for key, v := range p.paths() {
			for _, ov := range other.paths() {
				if v == ov {
					return &who.OptionError{Key: key, Err: fmt.Errorf("%q is also a path of oidc plugin %q; give each provider its own paths", v, name)}
				}
			}
		}
	}
	return nil
}

// paths returns the plugin's paths by option key.
func (p *Plugin) paths() map[string]string {
	m := map[string]string{"callback_path": p.o.CallbackPath, "login_path": p.o.LoginPath, "logout_path": p.o.LogoutPath}
	if p.o.BackchannelLogoutPath != "" {
		m["backchannel_logout_path"] = p.o.BackchannelLogoutPath
	}
	return m
}

// Validate checks the references were resolved. It does not contact the
// provider (see Check).
func (p *Plugin) Validate() error {
	if p.rem == nil {
		return &who.OptionError{Key: "rememberer_name", Err: fmt.Errorf("rememberer %q was not resolved", p.o.RemembererName)}
	}
	if p.o.SessionName != "" && p.sm == nil {
		return &who.OptionError{Key: "session_name", Err: fmt.Errorf("session manager %q was not resolved", p.o.SessionName)}
	}
	if p.o.Rememberer == nil {
		p.warnBackchannel()
	}
	if p.sm != nil {
		if _, client := p.sm.Store().(*cookiestore.Store); client {
			// Not an error: it works while the tokens are small.
			p.log.Warn("oidc: session_name names a cookie-store session: the ID, access and refresh tokens then travel in the session cookie, which a large ID token can push past max_cookie_size (the login then fails with a 500); use a server store (store = \"memory\", \"redis\", \"memcached\" or \"file\")", "provider", p.name, "session_name", p.o.SessionName)
		}
	}
	return nil
}

// Check runs discovery now, whatever the retry interval, and reports
// whether the provider answers with a valid discovery document: for `who
// check` and health checks (who.Checker). A success is kept for the
// logins to come. It does not log the failure it returns, and it stops
// when ctx is done.
func (p *Plugin) Check(ctx context.Context) error {
	_, err := p.discover(ctx, true)
	return err
}

// provider returns the discovered provider, discovering it when not done
// yet and the last failure is older than retry_interval.
func (p *Plugin) provider(ctx context.Context) (*discovered, error) {
	return p.discover(ctx, false)
}

// discover is provider; for check, it tries whatever the retry interval,
// within ctx, and leaves the logging to the caller.
func (p *Plugin) discover(ctx context.Context, check bool) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, nil
	}
	now := p.now()
	if !check && !p.lastTry.IsZero() && now.Sub(p.lastTry) < p.o.RetryInterval.D() {
		return nil, p.lastErr
	}
	p.lastTry = now
	if !check {
		// One client's disconnect must not count as the provider's failure.
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, p.o.HTTPTimeout.D())
	defer cancel()
	prov, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.o.Issuer)
	if err != nil {
		p.lastErr = fmt.Errorf("%w: discovery at %s/.well-known/openid-configuration: %w (next try in %s at the earliest)", ErrUnavailable, strings.TrimSuffix(p.o.Issuer, "/"), err, p.o.RetryInterval)
		if !check {
			p.log.Warn("oidc: discovery failed", "issuer", p.o.Issuer, "err", err)
		}
		return nil, p.lastErr
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = prov.Claims(&extra)
	if extra.EndSession != "" {
		if u, err := url.Parse(extra.EndSession); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			extra.EndSession = ""
		}
	}
	if ep := prov.Endpoint(); ep.AuthURL == "" || ep.TokenURL == "" {
		p.lastErr = fmt.Errorf("%w: the discovery document of %s has no authorization_endpoint or token_endpoint", ErrUnavailable, p.o.Issuer)
		return nil, p.lastErr
	}
	p.disc = &discovered{
		prov:       prov,
		verifier:   prov.Verifier(&gooidc.Config{ClientID: p.o.ClientID, Now: p.now}),
		endSession: extra.EndSession,
	}
	p.lastErr = nil
	return p.disc, nil
}

// oauth2Config is the client configuration for one flow.
func (p *Plugin) oauth2Config(d *discovered, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.o.ClientID,
		ClientSecret: p.o.ClientSecret,
		Endpoint:     d.prov.Endpoint(),
		RedirectURL:  redirectURL,
		Scopes:       p.scopes,
	}
}

// clientContext is ctx carrying the plugin's HTTP client for oauth2.
func (p *Plugin) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, p.client)
}

// proof is the HMAC that KeyProof carries for userid.
func (p *Plugin) proof(userid string) string {
	m := hmac.New(sha256.New, p.key)
	io.WriteString(m, "oidc-proof\x00"+p.o.Issuer+"\x00"+p.o.ClientID+"\x00"+userid)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Authenticate returns the userid of an identity this plugin made at its
// callback (KeyUserID with a valid KeyProof); "" for any other.
func (p *Plugin) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	uid := id.Str(KeyUserID)
	if uid == "" {
		return "", nil
	}
	if !hmac.Equal([]byte(id.Str(KeyProof)), []byte(p.proof(uid))) {
		return "", nil
	}
	return uid, nil
}

// Remember delegates to the rememberer.
func (p *Plugin) Remember(r *http.Request, id who.Identity) http.Header {
	if p.rem == nil {
		return nil
	}
	return p.rem.Remember(r, id)
}

// Forget delegates to the rememberer.
func (p *Plugin) Forget(r *http.Request, id who.Identity) http.Header {
	if p.rem == nil {
		return nil
	}
	return p.rem.Forget(r, id)
}

// Identify answers the plugin's paths itself (who.ReplaceHandler): the
// login path starts a flow, the callback path ends it and logs the user in
// through the rememberer, the logout path logs out here and at the
// provider, the back-channel logout path ends the sessions the provider
// names. On other requests it returns no identity; with back-channel
// logout on, it first destroys a session the provider logged out.
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	switch r.URL.Path {
	case p.o.LoginPath:
		who.ReplaceHandler(r, http.HandlerFunc(p.serveLogin))
	case p.o.CallbackPath:
		who.ReplaceHandler(r, http.HandlerFunc(p.serveCallback))
	case p.o.LogoutPath:
		who.ReplaceHandler(r, http.HandlerFunc(p.serveLogout))
	case p.o.BackchannelLogoutPath:
		if p.o.BackchannelLogoutPath != "" {
			who.ReplaceHandler(r, http.HandlerFunc(p.serveBackchannel))
		}
	default:
		if p.o.BackchannelLogoutPath != "" {
			p.dropRevoked(r)
		}
	}
	return nil, nil
}

// limitTransport caps every response body from the provider.
type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, n: maxProviderBody}
	return resp, nil
}

// limitedBody is a body that fails after n bytes.
type limitedBody struct {
	rc io.ReadCloser
	n  int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, fmt.Errorf("oidc: the provider's response is over %d bytes", maxProviderBody)
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.rc.Read(p)
	b.n -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// validCookieName reports whether s is a safe cookie name prefix.
func validCookieName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
