package jwt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/gowho/gowho/who"
)

// KeyToken is the identity key holding the bearer token the identifier
// found. It is secret (SecretKeys): who explain and logs mask it.
const KeyToken = "jwt.token"

// Defaults of the options.
const (
	// DefaultHeader is the default of header.
	DefaultHeader = "Authorization"
	// DefaultUserIDClaim is the default of userid_claim.
	DefaultUserIDClaim = "sub"
	// DefaultLeeway is the default of leeway.
	DefaultLeeway = 60 * time.Second
	// DefaultMinRefresh is the default of min_refresh.
	DefaultMinRefresh = 30 * time.Second
	// DefaultTimeout is the default of timeout.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxTokenBytes is the default of max_token_bytes.
	DefaultMaxTokenBytes = 16 << 10
	// DefaultCacheSize is the default of cache_size.
	DefaultCacheSize = 10000
	// DefaultCacheTTL is the default of cache_ttl.
	DefaultCacheTTL = 60 * time.Second
	// maxDocumentBytes bounds a discovery document, a JWKS and an
	// introspection response.
	maxDocumentBytes = 1 << 20
)

// Options configures the jwt plugin. Each field names its who.toml key and
// default. At least one key source is required: jwks_url, issuer (its
// discovery document's jwks_uri), public_key_file, hmac_secret or
// introspection_url.
type Options struct {
	// Header is the request header carrying the token (key "header",
	// default "Authorization", where the scheme must be Bearer). In any
	// other header a leading "Bearer " is optional.
	Header string `toml:"header"`
	// Cookie names a cookie carrying the token, read when the header
	// carries none (key "cookie", default none).
	Cookie string `toml:"cookie"`
	// Issuer is the "iss" every token must carry; when it is the only
	// key source (no jwks_url, public_key_file, hmac_secret or
	// introspection_url), the keys come from its discovery document,
	// Issuer+"/.well-known/openid-configuration" (key "issuer").
	Issuer string `toml:"issuer"`
	// JWKSURL is the URL of the JSON Web Key Set (key "jwks_url").
	JWKSURL string `toml:"jwks_url"`
	// Audience lists the accepted "aud" values; a token must carry one of
	// them (key "audience", required unless any_audience is true).
	Audience []string `toml:"audience"`
	// AnyAudience turns the audience check off (key "any_audience",
	// default false): only for tokens no other service accepts.
	AnyAudience bool `toml:"any_audience"`
	// Algorithms is the allow-list of "alg" values (key "algorithms",
	// default: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA
	// with public keys, and the HS ones hmac_secret is long enough for with
	// it). "none" is never accepted; an HS algorithm needs hmac_secret and
	// is never verified with a public key.
	Algorithms []string `toml:"algorithms"`
	// Leeway is the clock skew allowed on "exp", "nbf" and "iat" (key
	// "leeway", default "60s").
	Leeway *who.Duration `toml:"leeway"`
	// MinRefresh is the least time between two fetches of the key set
	// (and of the discovery document), the bound on refreshes a token
	// with an unknown "kid" causes (key "min_refresh", default "30s").
	MinRefresh who.Duration `toml:"min_refresh"`
	// PublicKeyFile is a PEM file of public keys ("PUBLIC KEY",
	// "RSA PUBLIC KEY" or "CERTIFICATE" blocks) tokens may be signed with
	// (key "public_key_file", relative to who.toml).
	PublicKeyFile string `toml:"public_key_file"`
	// HMACSecret is the shared secret of HS256/384/512 tokens, at least
	// 32 bytes (key "hmac_secret").
	HMACSecret string `toml:"hmac_secret"`
	// UserIDClaim names the claim that is the userid, a non-empty string
	// (key "userid_claim", default "sub").
	UserIDClaim string `toml:"userid_claim"`
	// Claims are copied from the token into the identity under their own
	// names (key "claims", default none), e.g. ["email", "groups"].
	Claims []string `toml:"claims"`
	// IntrospectionURL is an RFC 7662 introspection endpoint asked about
	// tokens that are not JWTs (all tokens when no other key source is
	// set) (key "introspection_url").
	IntrospectionURL string `toml:"introspection_url"`
	// ClientID and ClientSecret authenticate the plugin to the
	// introspection endpoint with HTTP Basic (keys "client_id",
	// "client_secret").
	ClientID     string `toml:"client_id"`
	ClientSecret string `toml:"client_secret"`
	// CacheSize bounds the cache of verified tokens and introspection
	// answers, in entries (key "cache_size", default 10000; -1 turns the
	// cache off).
	CacheSize int `toml:"cache_size"`
	// CacheTTL is the longest a verified token or an introspection answer
	// is cached; never past the token's "exp" (key "cache_ttl", default
	// "60s").
	CacheTTL who.Duration `toml:"cache_ttl"`
	// Timeout bounds every request to the provider (key "timeout",
	// default "10s").
	Timeout who.Duration `toml:"timeout"`
	// MaxTokenBytes bounds the token a request may carry; a longer one is
	// no identity (key "max_token_bytes", default 16384).
	MaxTokenBytes int `toml:"max_token_bytes"`
	// InsecureHTTP allows http:// URLs for hosts other than loopback ones
	// (key "insecure_http", default false).
	InsecureHTTP bool `toml:"insecure_http"`

	// HTTPClient makes the requests to the provider (Go only; default a
	// client with Timeout). Its own Timeout is kept when set.
	HTTPClient *http.Client `toml:"-"`
	// Logger receives why tokens are refused, at debug level (Go only;
	// nil: slog.Default(); the loader passes the plugin's own logger).
	Logger *slog.Logger `toml:"-"`
	// Now is the clock (Go only, for tests; nil: time.Now).
	Now func() time.Time `toml:"-"`
}

// Plugin finds a bearer token in a request (identifier) and verifies it
// (authenticator): a JWT against the configured keys and claims, an opaque
// token by introspection.
type Plugin struct {
	o          Options
	algs       []jose.SignatureAlgorithm
	leeway     time.Duration
	expected   josejwt.Expected
	static     []any // public keys of public_key_file
	hmac       []byte
	remote     *remoteKeys // nil without jwks_url or issuer
	intro      *introspector
	cache      *cache
	authHeader bool // header is Authorization: the Bearer scheme is required
	log        *slog.Logger
	now        func() time.Time
}

var (
	_ who.Identifier    = (*Plugin)(nil)
	_ who.Authenticator = (*Plugin)(nil)
	_ who.SecretKeyer   = (*Plugin)(nil)
	_ who.Checker       = (*Plugin)(nil)
)

// The algorithms of each key kind.
var (
	asymmetricAlgs = []jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
	}
	hmacAlgs = []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512}
)

// hmacMin is the shortest secret each HMAC algorithm takes (RFC 7518 3.2).
var hmacMin = map[jose.SignatureAlgorithm]int{jose.HS256: 32, jose.HS384: 48, jose.HS512: 64}

func optErr(key string, format string, args ...any) error {
	return &who.OptionError{Key: key, Err: fmt.Errorf(format, args...)}
}

// New checks o and returns the plugin. It reads public_key_file but
// contacts no provider: discovery and the key set are fetched when the
// first token needs them, so a provider that is down at start does not
// stop the application.
func New(o Options) (*Plugin, error) {
	if o.Header == "" {
		o.Header = DefaultHeader
	}
	if o.UserIDClaim == "" {
		o.UserIDClaim = DefaultUserIDClaim
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &Plugin{o: o, log: o.Logger, now: o.Now, leeway: DefaultLeeway}
	p.authHeader = http.CanonicalHeaderKey(o.Header) == "Authorization"
	if o.Leeway != nil {
		if *o.Leeway < 0 {
			return nil, optErr("leeway", "%s is negative; give a duration such as \"60s\"", *o.Leeway)
		}
		p.leeway = o.Leeway.D()
	}
	for key, d := range map[string]who.Duration{"min_refresh": o.MinRefresh, "cache_ttl": o.CacheTTL, "timeout": o.Timeout} {
		if d < 0 {
			return nil, optErr(key, "%s is negative; give a duration such as \"30s\" (0: the default)", d)
		}
	}
	minRefresh := durOr(o.MinRefresh, DefaultMinRefresh)
	timeout := durOr(o.Timeout, DefaultTimeout)
	if o.MaxTokenBytes < 0 {
		return nil, optErr("max_token_bytes", "%d is negative; give a length in bytes (0: the default, %d)", o.MaxTokenBytes, DefaultMaxTokenBytes)
	}
	if o.MaxTokenBytes == 0 {
		p.o.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if o.CacheSize < -1 {
		return nil, optErr("cache_size", "%d: give a number of entries, 0 for the default (%d) or -1 for no cache", o.CacheSize, DefaultCacheSize)
	}
	if len(o.Audience) == 0 && !o.AnyAudience {
		return nil, optErr("audience", "is required: list the \"aud\" values this service accepts (or set any_audience = true)")
	}
	if slices.Contains(o.Audience, "") {
		return nil, optErr("audience", "holds an empty value")
	}
	for _, c := range o.Claims {
		switch c {
		case "", who.KeyUserID, who.KeyPassword, KeyToken:
			return nil, optErr("claims", "%q cannot be copied into the identity: it is empty or a key gowho sets itself", c)
		}
	}
	if !validHeaderName(o.Header) {
		return nil, optErr("header", "%q is not a header name", o.Header)
	}
	if o.Cookie != "" && !validHeaderName(o.Cookie) {
		return nil, optErr("cookie", "%q is not a cookie name", o.Cookie)
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: timeout}
	} else if client.Timeout == 0 {
		c := *client
		c.Timeout = timeout
		client = &c
	}
	for key, u := range map[string]string{"issuer": o.Issuer, "jwks_url": o.JWKSURL, "introspection_url": o.IntrospectionURL} {
		if u == "" {
			continue
		}
		if err := checkURL(u, o.InsecureHTTP); err != nil {
			return nil, &who.OptionError{Key: key, Err: err}
		}
	}
	p.expected = josejwt.Expected{Issuer: o.Issuer}
	if !o.AnyAudience {
		p.expected.AnyAudience = josejwt.Audience(o.Audience)
	}

	// Key sources.
	if o.PublicKeyFile != "" {
		b, err := os.ReadFile(o.PublicKeyFile)
		if err != nil {
			return nil, &who.OptionError{Key: "public_key_file", Err: err}
		}
		keys, err := parsePEMKeys(b)
		if err != nil {
			return nil, &who.OptionError{Key: "public_key_file", Err: fmt.Errorf("%s: %w", o.PublicKeyFile, err)}
		}
		p.static = keys
	}
	if o.HMACSecret != "" {
		if len(o.HMACSecret) < 32 {
			return nil, optErr("hmac_secret", "is %d bytes: give at least 32 (64 for HS512)", len(o.HMACSecret))
		}
		p.hmac = []byte(o.HMACSecret)
	}
	if o.JWKSURL != "" || (o.Issuer != "" && o.IntrospectionURL == "" && o.PublicKeyFile == "" && o.HMACSecret == "") {
		p.remote = &remoteKeys{issuer: o.Issuer, jwksURL: o.JWKSURL, client: client, minRefresh: minRefresh, insecure: o.InsecureHTTP, now: o.Now}
	}
	if o.IntrospectionURL != "" {
		p.intro = &introspector{url: o.IntrospectionURL, clientID: o.ClientID, clientSecret: o.ClientSecret, client: client}
	} else if o.ClientID != "" || o.ClientSecret != "" {
		return nil, optErr("client_id", "is set without introspection_url: they authenticate to the introspection endpoint")
	}
	hasPublic := p.remote != nil || len(p.static) > 0
	if !hasPublic && p.hmac == nil && p.intro == nil {
		return nil, optErr("jwks_url", "no key source: set jwks_url, issuer, public_key_file, hmac_secret or introspection_url")
	}

	// The algorithm allow-list.
	if len(o.Algorithms) == 0 {
		if hasPublic {
			p.algs = append(p.algs, asymmetricAlgs...)
		}
		for _, a := range hmacAlgs {
			if p.hmac != nil && len(p.hmac) >= hmacMin[a] {
				p.algs = append(p.algs, a)
			}
		}
	}
	for _, name := range o.Algorithms {
		a := jose.SignatureAlgorithm(name)
		switch {
		case strings.EqualFold(name, "none"):
			return nil, optErr("algorithms", "%q is never accepted: an unsigned token proves nothing", name)
		case slices.Contains(hmacAlgs, a):
			if p.hmac == nil {
				return nil, optErr("algorithms", "%s needs hmac_secret: an HMAC algorithm is never verified with a public key", name)
			}
			if len(p.hmac) < hmacMin[a] {
				return nil, optErr("algorithms", "%s needs an hmac_secret of at least %d bytes", name, hmacMin[a])
			}
		case slices.Contains(asymmetricAlgs, a):
			if !hasPublic {
				return nil, optErr("algorithms", "%s needs public keys: set jwks_url, issuer or public_key_file", name)
			}
		default:
			return nil, optErr("algorithms", "unknown algorithm %q; use one of %v", name, append(slices.Clone(asymmetricAlgs), hmacAlgs...))
		}
		if !slices.Contains(p.algs, a) {
			p.algs = append(p.algs, a)
		}
	}
	if len(p.algs) == 0 && p.intro == nil {
		return nil, optErr("algorithms", "no algorithm fits the keys")
	}
	if o.CacheSize != -1 {
		size := o.CacheSize
		if size == 0 {
			size = DefaultCacheSize
		}
		p.cache = newCache(size)
	}
	return p, nil
}

func durOr(d who.Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d.D()
}

// checkURL accepts https URLs, and http ones on a loopback host (or any
// host with insecure).
func checkURL(s string, insecure bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%q is plain http to a host that is not loopback: use https (or set insecure_http = true)", s)
	}
	return nil
}

// SecretKeys names KeyToken: a bearer token is a credential.
func (p *Plugin) SecretKeys() []string { return []string{KeyToken} }

// Identify returns {KeyToken: token} for a request carrying a token in the
// configured header (Authorization: Bearer by default) or cookie, nil for
// one carrying none, a malformed one or one over max_token_bytes.
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	tok := p.token(r)
	if tok == "" {
		return nil, nil
	}
	return who.Identity{KeyToken: tok}, nil
}

func (p *Plugin) token(r *http.Request) string {
	if v := r.Header.Get(p.o.Header); v != "" {
		if tok, ok := bearer(v, p.authHeader); ok {
			return p.bounded(tok)
		}
		if p.authHeader {
			return "" // Basic or another scheme: not ours
		}
	}
	if p.o.Cookie != "" {
		if c, err := r.Cookie(p.o.Cookie); err == nil && validToken(c.Value) {
			return p.bounded(c.Value)
		}
	}
	return ""
}

func (p *Plugin) bounded(tok string) string {
	if len(tok) > p.o.MaxTokenBytes {
		p.log.Debug("jwt: token refused", "reason", "longer than max_token_bytes", "bytes", len(tok))
		return ""
	}
	return tok
}

// bearer returns the token of an Authorization value "Bearer TOKEN" (the
// scheme matched case-insensitively); with required false, a value without
// the scheme is the token itself.
func bearer(v string, required bool) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimLeft(v[7:], " ")
	} else if required {
		return "", false
	}
	if !validToken(v) {
		return "", false
	}
	return v, true
}

// validToken says whether s is a non-empty b64token (RFC 6750 2.1).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	eq := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			eq = true
		case eq:
			return false // '=' only at the end
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return s[0] != '='
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// Authenticate verifies the token of an identity this plugin's Identify
// produced and returns the userid_claim, copying the configured claims into
// id. A token that is malformed, badly signed, expired, not yet valid, for
// another issuer or audience, or inactive is "" with a nil error (logged at
// debug level with the reason); an error means the provider could not be
// asked (the key set or the introspection endpoint failed).
func (p *Plugin) Authenticate(r *http.Request, id who.Identity) (string, error) {
	tok, ok := id[KeyToken].(string)
	if !ok || tok == "" {
		return "", nil
	}
	res, err := p.Verify(r.Context(), tok)
	if err != nil {
		var ref *Refusal
		if errors.As(err, &ref) {
			p.log.Debug("jwt: token refused", "reason", ref.Reason)
			return "", nil
		}
		return "", err
	}
	for k, v := range res.Claims {
		id[k] = v
	}
	return res.UserID, nil
}

// Result is what a verified token yields.
type Result struct {
	// UserID is the value of userid_claim.
	UserID string
	// Claims holds the configured claims the token carries, as decoded
	// from JSON (string, float64, bool, []any, map[string]any); it is the
	// caller's.
	Claims map[string]any
}

// Refusal is the error Verify returns for a token it does not accept; any
// other error means the provider could not be asked.
type Refusal struct {
	Reason string
}

func (e *Refusal) Error() string { return "jwt: token refused: " + e.Reason }

func refuse(format string, args ...any) error {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

// Check reaches the plugin's remote sources now, for `who check` and
// health checks: the key set (after the issuer's discovery, when the keys
// come from there), fetched and kept for the requests to come, and the
// introspection endpoint, asked about a made-up token, which it must
// answer as RFC 7662 says (inactive). Static keys need nothing. The error
// names the URL and what failed, never a secret.
func (p *Plugin) Check(ctx context.Context) error {
	var errs []error
	if p.remote != nil {
		errs = append(errs, p.remote.check(ctx))
	}
	if p.intro != nil {
		_, _, err := p.introspect(ctx, "gowho-check-"+rand.Text(), p.now())
		if _, refused := errors.AsType[*Refusal](err); !refused && err == nil {
			err = fmt.Errorf("jwt: introspection %s: a made-up token was answered active", p.intro.url)
		} else if refused {
			err = nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Verify checks token as Authenticate does: a *Refusal for a token it
// does not accept, another error when the key set or the introspection
// endpoint could not be fetched.
func (p *Plugin) Verify(ctx context.Context, token string) (*Result, error) {
	if len(token) > p.o.MaxTokenBytes {
		return nil, refuse("longer than max_token_bytes")
	}
	now := p.now()
	var sum [32]byte
	if p.cache != nil {
		sum = cacheKey(token)
		if res, ok := p.cache.get(sum, now); ok {
			return res, nil
		}
	}
	var (
		res *Result
		exp time.Time
		err error
	)
	if strings.Count(token, ".") == 2 && len(p.algs) > 0 {
		res, exp, err = p.verifyJWT(ctx, token, now)
	} else if p.intro != nil {
		res, exp, err = p.introspect(ctx, token, now)
	} else {
		return nil, refuse("not a JWT (three dot-separated parts)")
	}
	if err != nil {
		return nil, err
	}
	if p.cache != nil {
		until := now.Add(durOr(p.o.CacheTTL, DefaultCacheTTL))
		if !exp.IsZero() && exp.Before(until) {
			until = exp
		}
		p.cache.put(sum, res, now, until)
	}
	return res, nil
}

func (p *Plugin) verifyJWT(ctx context.Context, token string, now time.Time) (*Result, time.Time, error) {
	t, err := josejwt.ParseSigned(token, p.algs)
	if err != nil {
		return nil, time.Time{}, refuse("malformed or algorithm not allowed: %v", err)
	}
	if len(t.Headers) != 1 {
		return nil, time.Time{}, refuse("not one signature")
	}
	h := t.Headers[0]
	alg := jose.SignatureAlgorithm(h.Algorithm)
	var payload json.RawMessage
	verified := false
	try := func(key any) bool {
		if t.Claims(key, &payload) == nil {
			verified = true
		}
		return verified
	}
	if slices.Contains(hmacAlgs, alg) {
		try(p.hmac) // never a public key: the HS256-with-a-public-key forgery
	} else {
		for _, k := range p.static {
			if keyFits(k, alg) && try(k) {
				break
			}
		}
		if !verified && p.remote != nil {
			keys, err := p.remote.keys(ctx, h.KeyID, alg)
			if err != nil {
				return nil, time.Time{}, err
			}
			for _, k := range keys {
				if try(k) {
					break
				}
			}
		}
	}
	if !verified {
		return nil, time.Time{}, refuse("signature not verified by any key for %s (kid %q)", alg, h.KeyID)
	}
	var std josejwt.Claims
	var all map[string]any
	if json.Unmarshal(payload, &std) != nil || json.Unmarshal(payload, &all) != nil {
		return nil, time.Time{}, refuse("claims are not a JSON object of the registered claim types")
	}
	if std.Expiry == nil {
		return nil, time.Time{}, refuse("no exp claim")
	}
	if err := std.ValidateWithLeeway(p.expected.WithTime(now), p.leeway); err != nil {
		return nil, time.Time{}, refuse("%v", err)
	}
	res, err := p.result(all)
	if err != nil {
		return nil, time.Time{}, err
	}
	return res, std.Expiry.Time().Add(p.leeway), nil
}

// result takes the userid and the configured claims from a token's claims.
func (p *Plugin) result(all map[string]any) (*Result, error) {
	uid, _ := all[p.o.UserIDClaim].(string)
	if uid == "" {
		return nil, refuse("no string claim %q (userid_claim)", p.o.UserIDClaim)
	}
	res := &Result{UserID: uid}
	for _, c := range p.o.Claims {
		if v, ok := all[c]; ok {
			if res.Claims == nil {
				res.Claims = make(map[string]any, len(p.o.Claims))
			}
			res.Claims[c] = v
		}
	}
	return res, nil
}
