package gateway

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/who"
)

// Options are what New needs besides the Config.
type Options struct {
	// Wrap puts the chain in front of a handler (config.Chain.Handler);
	// required.
	Wrap func(http.Handler) http.Handler
	// TrustedProxies are the peers whose forwarding headers the
	// forward-auth endpoint believes (config.General.TrustedProxies).
	TrustedProxies who.TrustedProxies
	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// Signer signs the assertions when Config.Assertion is set; nil: one
	// made from Config.AssertionKeys (or a generated key).
	Signer *Signer
	// Transport reaches the upstream; nil: a clone of
	// http.DefaultTransport with bounded dial and handshake times.
	Transport http.RoundTripper
}

// Gateway is the handler of `who gateway`: the forward-auth endpoint,
// the prefix's pages (through the chain) and the key set, and, with an
// upstream, the reverse proxy for every other path. It is safe for
// concurrent use.
type Gateway struct {
	cfg      Config
	wrap     func(http.Handler) http.Handler
	proxies  who.TrustedProxies
	log      *slog.Logger
	signer   *Signer
	strip    []string    // the identity header names, stripped from every request
	pass     [][2]string // pass_identity: key, header
	userHdr  string      // user_header, canonical
	jwksPath string

	authHandler   http.Handler // the chain in front of the forward-auth decision
	prefixHandler http.Handler // the chain in front of a 404 (the form's pages)
	proxyHandler  http.Handler // the chain in front of the rules and the proxy; nil without upstream
	proxy         *httputil.ReverseProxy

	untrustedWarned atomic.Bool
}

// FromChain returns the gateway configured by the [gateway] table of
// chain (an empty Config when the file has none), with the chain's
// [general] trusted_proxies.
func FromChain(chain *config.Chain, logger *slog.Logger) (*Gateway, error) {
	cfg := &Config{}
	if v, ok := chain.Section("gateway"); ok {
		cfg = v.(*Config)
	} else if err := cfg.check(); err != nil {
		return nil, err
	}
	return New(*cfg, Options{Wrap: chain.Handler, TrustedProxies: chain.General().TrustedProxies, Logger: logger})
}

// New returns the gateway of cfg.
func New(cfg Config, opts Options) (*Gateway, error) {
	if opts.Wrap == nil {
		return nil, errors.New("gateway: Options.Wrap (the chain) is required")
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g := &Gateway{cfg: cfg, wrap: opts.Wrap, proxies: opts.TrustedProxies, log: opts.Logger, signer: opts.Signer}
	if g.log == nil {
		g.log = slog.Default()
	}
	g.strip = cfg.identityHeaders()
	g.userHdr = http.CanonicalHeaderKey(cfg.UserHeader)
	for _, k := range cfg.PassIdentity {
		g.pass = append(g.pass, [2]string{k, passHeader(k)})
	}
	g.jwksPath = cfg.Prefix + "jwks.json"
	if cfg.Assertion && g.signer == nil {
		var keys []ed25519.PrivateKey
		if cfg.AssertionKeys != "" {
			k, err := LoadKeys(cfg.AssertionKeys)
			if err != nil {
				return nil, &who.OptionError{Key: "assertion_keys", Err: err}
			}
			keys = k
		} else {
			g.log.Warn("gateway: assertion_keys is not set: the assertion key is generated at start, so every restart and every reload (SIGHUP) rotates it and assertions signed before no longer verify; set assertion_keys")
		}
		s, err := NewSigner(keys, cfg.AssertionTTL.D(), nil)
		if err != nil {
			return nil, err
		}
		g.signer = s
	}
	if cfg.Assertion && cfg.AssertionAudience == "" && cfg.upstream == nil {
		g.log.Warn("gateway: assertion = true in forward-auth mode without assertion_audience: the assertion's aud is the Host the proxy forwards, which a client chooses; set assertion_audience to the upstream's name, the audience it checks")
	}
	g.authHandler = g.wrap(http.HandlerFunc(g.decideForward))
	g.prefixHandler = g.wrap(http.NotFoundHandler())
	if cfg.upstream != nil {
		tr := opts.Transport
		if tr == nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
			t.TLSHandshakeTimeout = 10 * time.Second
			t.MaxIdleConnsPerHost = 256
			tr = t
		}
		g.proxy = &httputil.ReverseProxy{
			Rewrite:      g.rewrite,
			Transport:    tr,
			ErrorHandler: g.upstreamError,
			ErrorLog:     slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
		}
		g.proxyHandler = g.wrap(http.HandlerFunc(g.decideProxy))
	}
	return g, nil
}

// Signer returns the assertion signer (nil when Config.Assertion is off),
// for its key set or a Rotate.
func (g *Gateway) Signer() *Signer { return g.signer }

// Config returns the configuration, defaults applied.
func (g *Gateway) Config() Config { return g.cfg }

// ServeHTTP strips the identity headers a client sent, then serves the
// forward-auth endpoint, the key set, the prefix's pages or the upstream.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	stripIdentity(r.Header, g.strip)
	p := r.URL.Path
	switch {
	case p == g.cfg.AuthPath || strings.HasPrefix(p, g.cfg.AuthPath+"/"):
		g.serveForward(w, r)
	case p == g.jwksPath && g.signer != nil:
		g.serveJWKS(w, r)
	case strings.HasPrefix(p, g.cfg.Prefix):
		g.prefixHandler.ServeHTTP(w, r)
	case g.proxyHandler != nil:
		g.proxyHandler.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (g *Gateway) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(g.signer.JWKS())
}

// setIdentity sets the identity headers of res (user_header, the
// pass_identity headers, the assertion for aud) in h. A userid that
// cannot go in a header is an error; a pass_identity value that cannot is
// left out and logged (its key, never its value).
func (g *Gateway) setIdentity(h http.Header, res *who.Result, aud string) error {
	if res == nil {
		return nil
	}
	if badHeaderValue(res.UserID) {
		return errors.New("the userid holds a control character (CR, LF, ...): it cannot be sent in a header")
	}
	// One backing array for every value set here: the userid, the
	// pass_identity headers and the assertion.
	vals := make([]string, 0, len(g.pass)+2)
	set := func(k, v string) {
		vals = append(vals, v)
		n := len(vals)
		h[k] = vals[n-1 : n : n]
	}
	set(g.userHdr, res.UserID)
	var claims map[string]any
	for _, kh := range g.pass {
		k := kh[0]
		v, ok := res.Identity[k]
		if !ok {
			continue
		}
		s, ok := identityValue(v)
		if !ok {
			g.log.Warn("gateway: identity value not passed: it is not a string or list of strings without commas and control characters", "key", k, "userid_len", len(res.UserID))
			continue
		}
		set(kh[1], s)
		if g.signer != nil {
			if claims == nil {
				claims = map[string]any{}
			}
			claims[k] = v
		}
	}
	if g.signer != nil {
		tok, err := g.signer.SignCached(res.UserID, aud, claims)
		if err != nil {
			return err
		}
		set(AssertionHeader, tok)
	}
	return nil
}

// peerAddr is the address of r's peer, the zero Addr when RemoteAddr is
// no IP address.
func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(strings.Trim(r.RemoteAddr, "[]"))
	return a.Unmap()
}

// A style is the kind of proxy that asked, which decides the shape of a
// refusal.
type style int

const (
	styleSelf    style = iota // no forwarding headers: the request as it came
	styleNginx                // X-Original-URI: 401 for a challenge, the login URL in X-Who-Location
	styleForward              // X-Forwarded-Uri (Traefik, Caddy): the chain's challenge itself
	styleEnvoy                // the original path below auth_path: the chain's challenge itself
)

// The headers of the forward-auth conventions.
const (
	hOriginalURI     = "X-Original-Uri"
	hOriginalMethod  = "X-Original-Method"
	hForwardedURI    = "X-Forwarded-Uri"
	hForwardedMethod = "X-Forwarded-Method"
)

// serveForward is the forward-auth endpoint: it rebuilds the original
// request and runs it through the chain and the rules.
func (g *Gateway) serveForward(w http.ResponseWriter, r *http.Request) {
	h := r.Header
	st := styleSelf
	method, uri := r.Method, r.URL.RequestURI()
	if rest := strings.TrimPrefix(r.URL.EscapedPath(), g.cfg.AuthPath); rest != "" && rest != r.URL.EscapedPath() {
		st, uri = styleEnvoy, rest
		if r.URL.RawQuery != "" {
			uri += "?" + r.URL.RawQuery
		}
	}
	envoy := st == styleEnvoy
	forwarded := ""
	switch {
	case h.Get(hOriginalURI) != "":
		forwarded, st = hOriginalURI, styleNginx
	case h.Get(hForwardedURI) != "" || h.Get(hForwardedMethod) != "":
		forwarded, st = hForwardedURI, styleForward
	}
	if forwarded != "" || envoy {
		// Caddy, Traefik and nginx pass the client's own headers on: the
		// other convention's header, or a second value, may be the
		// client's, naming a public path. Every convention present must
		// name the same request.
		if !g.oneOriginal(r, envoy, uri) {
			http.Error(w, "conflicting forward-auth headers", http.StatusBadRequest)
			return
		}
	}
	if forwarded != "" {
		peer := peerAddr(r)
		if !g.proxies.Trusts(peer) {
			// The request names another one, which only a trusted proxy
			// may do: answering for the auth endpoint itself would let a
			// misconfigured proxy skip every rule. Refuse, loudly.
			if !g.untrustedWarned.Swap(true) {
				g.log.Warn("gateway: forward-auth request from a peer that is not in [general] trusted_proxies: its forwarding headers are ignored and it gets 403 (add the proxy's address to trusted_proxies)",
					"peer", peer.String(), "header", forwarded)
			}
			http.Error(w, "forward-auth headers from an untrusted peer", http.StatusForbidden)
			return
		}
		if st == styleNginx {
			uri, method = h.Get(hOriginalURI), h.Get(hOriginalMethod)
		} else {
			uri, method = h.Get(hForwardedURI), h.Get(hForwardedMethod)
			if uri == "" {
				uri = "/"
			}
		}
		if method == "" {
			method = http.MethodGet
		}
	}
	o := g.proxies.Resolve(r)
	// One allocation holds what the judged request needs besides its
	// copy: the writer, the state, the context value and the URL.
	c := &fwdCall{}
	if !parseOriginalURI(uri, &c.url) || !isToken(method) {
		http.Error(w, "bad original request", http.StatusBadRequest)
		return
	}
	for _, k := range [...]string{hOriginalURI, hOriginalMethod, hForwardedURI, hForwardedMethod} {
		delete(h, k)
	}
	// The request the chain judges: the original, with this request's
	// credentials (cookies, Authorization) and the origin the proxy saw.
	c.ctx = fwdContext{Context: r.Context(), st: &c.st}
	sr := r.WithContext(who.WithOrigin(&c.ctx, o))
	sr.Method = upperMethod(method)
	sr.URL = &c.url
	sr.RequestURI = uri
	sr.Host = o.Host
	sr.Body, sr.ContentLength = http.NoBody, 0
	if o.Scheme == "https" {
		h[hXForwardedProto] = valHTTPS // for code that reads the header rather than the origin
	}
	c.w = fwdWriter{ResponseWriter: w, st: &c.st, nginx: st == styleNginx, req: sr, loginHosts: g.cfg.LoginHosts}
	g.authHandler.ServeHTTP(&c.w, sr)
}

// fwdCall is what one forward-auth request allocates at once.
type fwdCall struct {
	w   fwdWriter
	st  fwdState
	ctx fwdContext
	url url.URL
}

// fwdContext carries the fwdState of a forward-auth request to
// decideForward without a context.WithValue of its own.
type fwdContext struct {
	context.Context
	st *fwdState
}

// Value returns the fwdState for fwdKey{}, else the parent's value.
func (c *fwdContext) Value(key any) any {
	if _, ok := key.(fwdKey); ok {
		return c.st
	}
	return c.Context.Value(key)
}

// Header names and values set on the forward-auth path, canonical, so
// that setting them neither canonicalises nor allocates. The value
// slices are shared: nothing modifies a header value in place.
const (
	hXForwardedProto = "X-Forwarded-Proto"
	hCacheControl    = "Cache-Control"
)

var (
	valHTTPS   = []string{"https"}
	valNoStore = []string{"no-store"}
)

// upperMethod is strings.ToUpper for a method token, without allocating
// for the usual upper-case one.
func upperMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return m
	}
	return strings.ToUpper(m)
}

// parseOriginalURI parses the original request URI into u: an origin-form
// request target (a path starting with "/", an optional query) without a
// control character. A URI of plain path bytes (no %-escape, nothing
// url.URL would escape again) and a printable query is split by hand,
// which gives what url.ParseRequestURI gives; anything else goes through
// it (TestParseOriginalURI holds the two to the same result).
func parseOriginalURI(uri string, u *url.URL) bool {
	if !strings.HasPrefix(uri, "/") || badHeaderValue(uri) {
		return false
	}
	path, query, hasQuery := strings.Cut(uri, "?")
	fast := !hasQuery || query != ""
	for i := 0; fast && i < len(path); i++ {
		fast = plainPathByte(path[i])
	}
	for i := 0; fast && i < len(query); i++ {
		fast = query[i] > ' ' && query[i] < 0x7f
	}
	if fast {
		*u = url.URL{Path: path, RawQuery: query}
		return true
	}
	p, err := url.ParseRequestURI(uri)
	if err != nil {
		return false
	}
	*u = *p
	return true
}

// plainPathByte reports whether c stands for itself in a path: a byte
// url.URL's EscapedPath leaves as it is, and no '%'.
func plainPathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~$&+,/:;=@", c) >= 0
}

// oneOriginal reports whether every forward-auth convention r carries
// (X-Original-URI/-Method, X-Forwarded-Uri/-Method, and, when envoy, the
// path below auth_path, envoyURI) names the same original request, each
// header at most once.
func (g *Gateway) oneOriginal(r *http.Request, envoy bool, envoyURI string) bool {
	h := r.Header
	for _, k := range []string{hOriginalURI, hOriginalMethod, hForwardedURI, hForwardedMethod} {
		if len(h[k]) > 1 {
			return false
		}
	}
	uri, method := "", ""
	same := func(u, m string) bool {
		if m == "" {
			m = http.MethodGet
		}
		if uri == "" {
			uri, method = u, m
			return true
		}
		return u == uri && strings.EqualFold(m, method)
	}
	ok := true
	if envoy {
		ok = same(envoyURI, r.Method)
	}
	if nu := h.Get(hOriginalURI); nu != "" {
		ok = ok && same(nu, h.Get(hOriginalMethod))
	}
	if fu, fm := h.Get(hForwardedURI), h.Get(hForwardedMethod); fu != "" || fm != "" {
		if fu == "" {
			fu = "/"
		}
		ok = ok && same(fu, fm)
	}
	if nm := h.Get(hOriginalMethod); nm != "" && method != "" && !strings.EqualFold(nm, method) {
		ok = false // a lone X-Original-Method beside another convention
	}
	return ok
}

// decideForward answers the forward-auth request (inside the chain): 200
// with the identity headers, 401 (the chain challenges) or 403.
func (g *Gateway) decideForward(w http.ResponseWriter, r *http.Request) {
	if fs, ok := r.Context().Value(fwdKey{}).(*fwdState); ok && fs != nil {
		fs.decided = true
	}
	res := who.ResultFrom(r.Context())
	m := g.cfg.MatchRequest(r)
	switch m.Verdict(res, g.cfg.GroupsKey) {
	case NeedLogin:
		w.WriteHeader(http.StatusUnauthorized)
		return
	case Forbidden:
		w.WriteHeader(http.StatusForbidden)
		return
	}
	aud := g.cfg.AssertionAudience
	if aud == "" {
		aud = who.RequestOrigin(r).Host
	}
	if err := g.setIdentity(w.Header(), res, aud); err != nil {
		g.log.Error("gateway: "+err.Error(), "path", r.URL.EscapedPath())
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header()[hCacheControl] = valNoStore
	w.WriteHeader(http.StatusOK)
}

// fwdState is one forward-auth request's: whether decideForward answered.
type fwdState struct{ decided bool }

type fwdKey struct{}

// fwdWriter shapes the chain's answer to a forward-auth request. A 2xx
// that decideForward did not write (a plugin serving a page of its own
// with who.ReplaceHandler: the form, a callback) is a 403: it would let
// the proxy send the request upstream unjudged; such paths belong below
// the prefix, which the proxy routes to the gateway. For nginx's
// auth_request, which passes only 2xx, 401 and 403 on, a redirect (the
// form's challenge) becomes a 401 with its Location in X-Who-Location,
// for the documented `error_page 401 = @login`.
type fwdWriter struct {
	http.ResponseWriter
	st         *fwdState
	nginx      bool
	req        *http.Request // the judged request, for the redirect check
	loginHosts []string      // login_hosts
	wrote      bool
	discard    bool
}

func (w *fwdWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.Header()
	switch {
	case code >= 200 && code < 300 && !w.st.decided:
		for k := range h {
			if k != "Set-Cookie" {
				delete(h, k)
			}
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		code, w.discard = http.StatusForbidden, true
	case w.nginx && code >= 300 && code < 400:
		// nginx sends the browser where X-Who-Location says: it passes
		// the one check of a redirect target (origin.SafeRedirect) or is
		// left out, and the browser gets the 401.
		if loc := h.Get("Location"); loc != "" {
			if safe := origin.SafeRedirect(w.req, loc, w.loginHosts, ""); safe != "" {
				h[LocationHeader] = []string{safe}
			}
		}
		delete(h, "Location")
		code = http.StatusUnauthorized
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *fwdWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *fwdWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// decideProxy applies the rules to a request in reverse-proxy mode
// (inside the chain) and proxies what they allow.
func (g *Gateway) decideProxy(w http.ResponseWriter, r *http.Request) {
	m := g.cfg.MatchRequest(r)
	switch m.Verdict(who.ResultFrom(r.Context()), g.cfg.GroupsKey) {
	case NeedLogin:
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	case Forbidden:
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return
	}
	g.proxy.ServeHTTP(w, r)
}

// rewrite builds the upstream request: the upstream URL, the forwarding
// headers (a client's X-Forwarded-For and Forwarded only from a trusted
// proxy), and the identity headers.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	in := pr.In
	trusted := g.proxies.Trusts(peerAddr(in))
	if trusted {
		if xff := in.Header["X-Forwarded-For"]; len(xff) > 0 {
			pr.Out.Header["X-Forwarded-For"] = xff
		}
	} else {
		delete(pr.Out.Header, "Forwarded")
		delete(pr.Out.Header, "X-Real-Ip")
	}
	pr.SetURL(g.cfg.upstream)
	pr.SetXForwarded()
	stripForwardingSpellings(pr.Out.Header)
	o := who.RequestOrigin(in)
	if trusted && o.Proxied {
		pr.Out.Header.Set("X-Forwarded-Proto", o.Scheme)
		if o.Host != "" {
			pr.Out.Header.Set("X-Forwarded-Host", o.Host)
		}
	}
	aud := g.cfg.AssertionAudience
	if aud == "" {
		aud = g.cfg.upstream.Host
	}
	if err := g.setIdentity(pr.Out.Header, who.ResultFrom(in.Context()), aud); err != nil {
		// The request goes on anonymous: no identity header is set.
		stripIdentity(pr.Out.Header, g.strip)
		g.log.Error("gateway: "+err.Error(), "path", in.URL.EscapedPath())
	}
}

// upstreamError answers 502 when the upstream cannot be reached, with one
// log line naming it (never the query, a cookie or a credential).
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	g.log.Warn("gateway: upstream unreachable", "upstream", g.cfg.upstream.Host,
		"method", r.Method, "path", r.URL.EscapedPath(), "err", err.Error())
	http.Error(w, http.StatusText(http.StatusBadGateway), http.StatusBadGateway)
}
