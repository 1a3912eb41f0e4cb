// Package provider runs a real OpenID provider for gowho's tests:
// zitadel/oidc's op package over the in-memory storage of its example server
// (github.com/zitadel/oidc/v3/example/server/storage), on an httptest server
// bound to loopback. The storage is used as it is; this package only wraps
// it to add what the tests need and the example leaves fixed: clients
// registered at run time (the redirect URI of a gowho chain is known only
// once its server listens), users with passwords of our choosing, service
// accounts for the client credentials grant that get JWT access tokens for a
// chosen audience, a post-logout redirect URI, a chosen ID token lifetime, a
// record of ended sessions, and signing keys that can be rotated.
package provider

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account that can log in on the provider's login page.
type User struct {
	ID       string // the subject (sub claim)
	Username string
	Password string
	First    string
	Last     string
	Email    string
}

// Client is a relying party registered with the provider (a gowho chain).
type Client struct {
	ID     string
	Secret string
	// RedirectURIs are the allowed callback URIs (exact match).
	RedirectURIs []string
	// PostLogoutRedirectURIs are the allowed post_logout_redirect_uri values.
	PostLogoutRedirectURIs []string
	// IDTokenLifetime is the ID token's validity; 0 means one hour. A
	// negative value issues ID tokens that are already expired.
	IDTokenLifetime time.Duration
	// UserinfoOnly keeps the profile and email claims out of the ID token
	// when an access token is issued too (zitadel's default, the letter of
	// OIDC Core 5.4): they are then only at the userinfo endpoint. False
	// puts them in the ID token, as most providers do.
	UserinfoOnly bool
}

// Service is an account for the client credentials grant; its access tokens
// are JWTs signed with the provider's current key, with aud = Audience.
type Service struct {
	ID       string
	Secret   string
	Audience string
}

// DefaultUsers are the users a Provider starts with.
var DefaultUsers = []User{
	{ID: "u-alice", Username: "alice", Password: "alice-pw", First: "Alice", Last: "Liddell", Email: "alice@example.org"},
	{ID: "u-bob", Username: "bob", Password: "bob-pw", First: "Bob", Last: "Builder", Email: "bob@example.org"},
}

// Provider is a running OpenID provider on loopback.
type Provider struct {
	// Issuer is the issuer URL (http://127.0.0.1:PORT), also the base of
	// every endpoint; discovery is Issuer + "/.well-known/openid-configuration".
	Issuer string
	// Server is the loopback httptest server.
	Server *httptest.Server
	// OP is zitadel/oidc's provider.
	OP *op.Provider

	st *store
}

// Start starts a provider with DefaultUsers on loopback; t.Cleanup stops it.
func Start(t testing.TB) *Provider {
	t.Helper()
	p, err := New(DefaultUsers)
	if err != nil {
		t.Fatalf("start the OpenID provider: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// New starts a provider with users on loopback; Close stops it. The op
// package logs refused requests at WARN through slog's default logger (it
// has no other), so they show on stderr.
func New(users []User) (*Provider, error) {
	srv := httptest.NewUnstartedServer(nil) // listens on 127.0.0.1
	issuer := "http://" + srv.Listener.Addr().String()
	st, err := newStore(users)
	if err != nil {
		srv.Close()
		return nil, err
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		srv.Close()
		return nil, err
	}
	cfg := &op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
	}
	o, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("op.NewProvider: %w", err)
	}
	mux := http.NewServeMux()
	interceptor := op.NewIssuerInterceptor(o.IssuerFromRequest)
	callback := op.AuthCallbackURL(o)
	mux.HandleFunc("GET /login/username", func(w http.ResponseWriter, r *http.Request) {
		renderLogin(w, r.FormValue("authRequestID"), "")
	})
	mux.HandleFunc("POST /login/username", interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		if err := st.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
			renderLogin(w, id, "wrong username or password")
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.HandleFunc("GET /logged-out", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "signed out of the provider")
	})
	mux.Handle("/", o)
	srv.Config.Handler = mux
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Start()
	return &Provider{Issuer: issuer, Server: srv, OP: o, st: st}, nil
}

// Close stops the server.
func (p *Provider) Close() { p.Server.CloseClientConnections(); p.Server.Close() }

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>Provider login</title></head><body>
<form id="provider-login" method="POST" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<label>Username <input id="username" name="username"></label>
<label>Password <input id="password" name="password" type="password"></label>
<p id="error">{{.Error}}</p>
<button id="submit" type="submit">Log in</button>
</form></body></html>`))

func renderLogin(w http.ResponseWriter, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if msg != "" {
		w.WriteHeader(http.StatusUnauthorized)
	}
	_ = loginPage.Execute(w, struct{ ID, Error string }{id, msg})
}

// AddClient registers (or replaces) a web client: confidential, client
// secret by HTTP Basic, authorization code and refresh token grants.
func (p *Provider) AddClient(c Client) {
	base := storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.clients[c.ID] = &client{Client: base, secret: c.Secret, opts: c}
}

// AddService registers (or replaces) a client credentials account.
func (p *Provider) AddService(s Service) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.services[s.ID] = s
}

// SetIDTokenLifetime changes the ID token lifetime of a registered client
// (negative: tokens issued already expired).
func (p *Provider) SetIDTokenLifetime(clientID string, d time.Duration) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	if c, ok := p.st.clients[clientID]; ok {
		c.opts.IDTokenLifetime = d
	}
}

// RotateKey makes a new RS256 key the signing key and returns its kid. With
// keepOld the previous keys stay in the JWKS (a graceful rotation);
// without, the JWKS holds the new key only (tokens signed before no longer
// verify).
func (p *Provider) RotateKey(keepOld bool) (string, error) {
	k, err := newKey()
	if err != nil {
		return "", err
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	if keepOld {
		p.st.keys = append(p.st.keys, k)
	} else {
		p.st.keys = []*key{k}
	}
	return k.id, nil
}

// KeyID is the kid of the current signing key.
func (p *Provider) KeyID() string {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.current().id
}

// SetNonce makes the provider put nonce, instead of the relying party's,
// into the ID tokens of the logins started from now on ("": stop); a
// relying party must refuse them.
func (p *Provider) SetNonce(nonce string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.nonce = nonce
}

// SetAccessTokenLifetime makes the expires_in of the access tokens issued
// with a refresh token d from now on (0: the example's five minutes), so
// that a relying party refreshes them soon.
func (p *Provider) SetAccessTokenLifetime(d time.Duration) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.atLife = d
}

// Refreshes is how many refresh token grants the provider answered.
func (p *Provider) Refreshes() int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.refreshes
}

// Userinfo asks the userinfo endpoint about accessToken and returns its
// claims; an error when the provider refuses the token.
func (p *Provider) Userinfo(ctx context.Context, accessToken string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Issuer+"/userinfo", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("userinfo: %s: %s", resp.Status, body)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	return claims, nil
}

// AuthRequests is how many authorization requests the provider accepted.
func (p *Provider) AuthRequests() int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.authReqs
}

// EndedSessions returns the (userID, clientID) pairs whose sessions the
// provider ended (RP-initiated logout), in order.
func (p *Provider) EndedSessions() [][2]string {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return append([][2]string(nil), p.st.ended...)
}

// SessionEnded returns a channel that receives the userID of every session
// the provider ends from now on (buffered; a full buffer drops).
func (p *Provider) SessionEnded() <-chan string {
	ch := make(chan string, 16)
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.watchers = append(p.st.watchers, ch)
	return ch
}

// LogoutToken returns a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0) for the client, about sub and/or sid, signed
// with the provider's current key: what a provider that ends a session
// posts to each relying party's backchannel_logout_uri. zitadel's op
// advertises back-channel logout but leaves sending it to the
// application; this is that part.
func (p *Provider) LogoutToken(clientID, sub, sid string) (string, error) {
	p.st.mu.Lock()
	k := p.st.current()
	p.st.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.Issuer, "aud": clientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti":    fmt.Sprintf("%x", jti),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	if sub != "" {
		claims["sub"] = sub
	}
	if sid != "" {
		claims["sid"] = sid
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// BackchannelLogout posts logoutToken to a relying party's back-channel
// logout URL and returns the HTTP status it answered.
func (p *Provider) BackchannelLogout(ctx context.Context, rpURL, logoutToken string) (int, error) {
	form := url.Values{"logout_token": {logoutToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rpURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("back-channel logout: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// httpClient is the harness's own client: loopback only, bounded.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// ClientCredentials asks the token endpoint for an access token with the
// client credentials grant and returns it.
func (p *Provider) ClientCredentials(ctx context.Context, id, secret string, scopes ...string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("token endpoint: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %s: %s", resp.Status, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: no access_token in %s", body)
	}
	return tr.AccessToken, nil
}

// store wraps the example server's storage (embedded: every op.Storage
// method not overridden below is the example's).
type store struct {
	*storage.Storage
	users storage.UserStore

	mu        sync.Mutex
	clients   map[string]*client
	services  map[string]Service
	keys      []*key // the last one signs
	nonce     string // non-empty: replaces the nonce of new auth requests
	atLife    time.Duration
	refreshes int
	authReqs  int
	ended     [][2]string
	watchers  []chan string
}

func newStore(users []User) (*store, error) {
	us := userStore{}
	for _, u := range users {
		us[u.ID] = &storage.User{
			ID: u.ID, Username: u.Username, Password: u.Password,
			FirstName: u.First, LastName: u.Last, Email: u.Email, EmailVerified: u.Email != "",
			PreferredLanguage: language.English,
		}
	}
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	return &store{
		Storage:  storage.NewStorageWithClients(us, map[string]*storage.Client{}),
		users:    us,
		clients:  map[string]*client{},
		services: map[string]Service{},
		keys:     []*key{k},
	}, nil
}

var (
	_ op.Storage                  = (*store)(nil)
	_ op.ClientCredentialsStorage = (*store)(nil)
)

func (s *store) current() *key { return s.keys[len(s.keys)-1] }

// GetClientByClientID serves the clients registered with AddClient.
func (s *store) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return nil, errors.New("client not found")
	}
	cc := *c // a snapshot: the op reads it without our lock
	return &cc, nil
}

// AuthorizeClientIDSecret checks a registered client's secret.
func (s *store) AuthorizeClientIDSecret(_ context.Context, clientID, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok || c.secret != secret {
		return errors.New("wrong client id or secret")
	}
	return nil
}

// SigningKey is the current (last rotated) key.
func (s *store) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current(), nil
}

// SignatureAlgorithms is RS256.
func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet is every key kept by RotateKey.
func (s *store) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]op.Key, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, publicKey{k})
	}
	return out, nil
}

// CreateAuthRequest counts the request and applies SetNonce, then lets
// the example storage keep it.
func (s *store) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	s.mu.Lock()
	s.authReqs++
	if s.nonce != "" {
		r := *req
		r.Nonce = s.nonce
		req = &r
	}
	s.mu.Unlock()
	return s.Storage.CreateAuthRequest(ctx, req, userID)
}

// CreateAccessAndRefreshTokens counts refreshes and applies
// SetAccessTokenLifetime to what the example storage issues.
func (s *store) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	id, refresh, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, req, currentRefreshToken)
	s.mu.Lock()
	defer s.mu.Unlock()
	if currentRefreshToken != "" {
		s.refreshes++
	}
	if err == nil && s.atLife != 0 {
		exp = time.Now().Add(s.atLife)
	}
	return id, refresh, exp, err
}

// TerminateSession records the ended session, then lets the example
// storage delete that user's tokens for the client.
func (s *store) TerminateSession(ctx context.Context, userID, clientID string) error {
	s.mu.Lock()
	s.ended = append(s.ended, [2]string{userID, clientID})
	for _, ch := range s.watchers {
		select {
		case ch <- userID:
		default:
		}
	}
	s.mu.Unlock()
	return s.Storage.TerminateSession(ctx, userID, clientID)
}

// ClientCredentials checks a service account added with AddService.
func (s *store) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.services[id]
	if !ok || sv.Secret != secret {
		return nil, errors.New("wrong service account or secret")
	}
	return serviceClient{storage.WebClient(id, secret, "http://127.0.0.1/unused")}, nil
}

// ClientCredentialsTokenRequest gives the service's access token its audience.
func (s *store) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.services[id]
	if !ok {
		return nil, errors.New("wrong service account")
	}
	return &oidc.JWTTokenRequest{Subject: sv.ID, Audience: []string{sv.Audience}, Scopes: scopes}, nil
}

// client is a web client from the example's WebClient with what it fixes
// made settable.
type client struct {
	*storage.Client
	secret string
	opts   Client
}

func (c *client) PostLogoutRedirectURIs() []string { return c.opts.PostLogoutRedirectURIs }

func (c *client) IDTokenUserinfoClaimsAssertion() bool { return !c.opts.UserinfoOnly }

func (c *client) IDTokenLifetime() time.Duration {
	if c.opts.IDTokenLifetime == 0 {
		return time.Hour
	}
	return c.opts.IDTokenLifetime
}

// serviceClient allows the client credentials grant and issues JWTs.
type serviceClient struct{ *storage.Client }

func (serviceClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}

func (serviceClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

type key struct {
	id   string
	priv *rsa.PrivateKey
}

func newKey() (*key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &key{id: fmt.Sprintf("k-%x", b), priv: priv}, nil
}

func (k *key) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *key) Key() any                                    { return k.priv }
func (k *key) ID() string                                  { return k.id }

type publicKey struct{ k *key }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.priv.PublicKey }

// userStore is the example storage's UserStore over our users.
type userStore map[string]*storage.User

func (u userStore) GetUserByID(id string) *storage.User { return u[id] }

func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (userStore) ExampleClientID() string { return storage.ServiceUserID }
