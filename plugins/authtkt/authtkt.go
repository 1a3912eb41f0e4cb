package authtkt

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gowho/gowho/who"
)

// Identity keys the identifier sets, besides who.KeyTokens and
// who.KeyUserData.
const (
	// KeyTicketUserID holds the userid read from the ticket; the
	// authenticator returns it.
	KeyTicketUserID = "repoze.who.plugins.auth_tkt.userid"
	// KeyTimestamp holds the ticket's time, in seconds since the epoch
	// (int64).
	KeyTimestamp = "timestamp"
)

// MaxAgeToken is the prefix of the token that carries a persistent
// login's cookie lifetime: a ticket remembered with who.KeyMaxAge = N
// (N > 0 seconds, at most 400 days) holds the token "gowho.max_age=N"
// after the identity's own tokens. Identify takes it out of who.KeyTokens
// and returns N as who.KeyMaxAge, so that the ticket reissued after
// reissue_time is again a cookie of N seconds, not a browser-session
// cookie. Apache shows it in REMOTE_USER_TOKENS and repoze.who in the
// identity's tokens; both keep it when they reissue the ticket.
const MaxAgeToken = "gowho.max_age="

// Secret lengths, in bytes. A secret (or old secret) shorter than
// MinSecretBytes is refused unless Options.AllowWeakSecret is set; one
// shorter than GoodSecretBytes is accepted with a warning in the log.
const (
	MinSecretBytes  = 16
	GoodSecretBytes = 32
)

// Request bounds. Browsers keep cookies of at most 4096 bytes and Apache
// refuses header lines over 8190 bytes, so no real ticket is near these.
const (
	// MaxTicketsPerRequest is how many cookies of the plugin's name one
	// request may have tried; the ones after are ignored. repoze_domains
	// sends three.
	MaxTicketsPerRequest = 8
	// MaxTicketBytes is the longest cookie value read as a ticket; a
	// longer one is ignored (and counts against MaxTicketsPerRequest).
	MaxTicketBytes = 8192
)

// SameSite values beyond the standard ones: SameSiteOff leaves the
// attribute out (repoze.who's behaviour).
const SameSiteOff = "off"

// Options configures the plugin. Each field names its who.toml key and
// default.
type Options struct {
	// Secret signs and checks tickets (key "secret"). Exactly one of
	// Secret and SecretFile is required.
	Secret string `toml:"secret"`
	// SecretFile is a file whose content, trimmed, is the secret (key
	// "secretfile"; relative to who.toml, "~" expanded).
	SecretFile string `toml:"secretfile"`
	// OldSecrets are accepted for reading while Secret signs, for secret
	// rotation (key "old_secrets", default none). A ticket signed with one
	// is reissued with Secret on the next response.
	OldSecrets []string `toml:"old_secrets"`
	// AllowWeakSecret accepts a secret or old secret shorter than
	// MinSecretBytes (key "allow_weak_secret", default false), so that
	// tickets signed by an existing deployment's short secret stay valid
	// (`who convert` sets it for such a secret). A short secret can be
	// brute-forced from one ticket: replace it.
	AllowWeakSecret bool `toml:"allow_weak_secret"`
	// CookieName is the cookie's name (key "cookie_name", default
	// "auth_tkt").
	CookieName string `toml:"cookie_name"`
	// Secure decides the Secure attribute (key "secure", default "auto":
	// set whenever the request, as the client saw it, is https, by
	// who.RequestOrigin, so behind a TLS-terminating proxy listed in
	// [general] trusted_proxies too; true or false force it).
	Secure who.Secure `toml:"secure"`
	// HTTPOnly adds the HttpOnly attribute (key "http_only", default
	// true; repoze.who set it only with secure).
	HTTPOnly *bool `toml:"http_only"`
	// SameSite is "Lax", "Strict", "None" or "off" (no attribute) (key
	// "same_site", default "Lax"). "None" requires secure.
	SameSite string `toml:"same_site"`
	// Path is the cookie path (key "path", default "/").
	Path string `toml:"path"`
	// Domains lists the Domain attributes to set, one cookie each; "" is
	// a host-only cookie (key "domains", default: one host-only cookie).
	Domains []string `toml:"domains"`
	// RepozeDomains sends repoze.who's three cookies: host-only,
	// Domain=HOST and Domain=.HOST, HOST from the request (key
	// "repoze_domains", default false). For an IP host only the host-only
	// cookie is sent. Exclusive with Domains.
	RepozeDomains bool `toml:"repoze_domains"`
	// IncludeIP binds tickets to the client address (key "include_ip",
	// default false). IPv4 is digested as mod_auth_tkt and repoze.who do;
	// IPv6 is a gowho extension (see IPv6Prefix).
	IncludeIP bool `toml:"include_ip"`
	// IPv6Prefix is how many leading bits of an IPv6 client address are
	// bound when IncludeIP is set (key "ipv6_prefix", default 64, at most
	// 128), so that privacy addresses within one network keep the ticket.
	IPv6Prefix int `toml:"ipv6_prefix"`
	// Timeout is how long a ticket is valid after it was issued (key
	// "timeout", default 0: forever). Without ReissueTime it is a fixed
	// expiry (repoze.who could not do that).
	Timeout who.Duration `toml:"timeout"`
	// ReissueTime, when set, reissues a ticket older than this on a
	// response, which makes Timeout sliding (key "reissue_time", default
	// 0: never). It must not exceed Timeout.
	ReissueTime who.Duration `toml:"reissue_time"`
	// DigestAlgo is md5, sha1, sha256 or sha512 (key "digest_algo",
	// default "md5", for compatibility; Apache calls these
	// TKTAuthDigestType MD5|SHA256|SHA512).
	DigestAlgo string `toml:"digest_algo"`
	// UserIDEncoding is "repoze" or "mod_auth_tkt" (key "userid_encoding",
	// default "repoze"): see the package documentation.
	UserIDEncoding string `toml:"userid_encoding"`

	// UserIDChecker, when set, must approve a userid for Authenticate to
	// return it (repoze.who's userid_checker; Go only).
	UserIDChecker func(userID string) bool `toml:"-"`
	// Now is the clock (Go only; default time.Now).
	Now func() time.Time `toml:"-"`
	// Logger receives the load-time warning about a secret shorter than
	// GoodSecretBytes, and (once per plugin) why an identity could not be
	// written as a ticket (Go only; nil: slog.Default(); the factory
	// passes the chain's logger). The secret itself is never logged.
	Logger *slog.Logger `toml:"-"`
}

// Plugin is the auth_tkt identifier, rememberer and authenticator.
type Plugin struct {
	secret     string
	oldSecrets []string
	name       string
	secure     who.Secure
	httpOnly   bool
	sameSite   string
	path       string
	domains    []string
	repozeDom  bool
	includeIP  bool
	v6mask     net.IPMask
	timeout    time.Duration
	reissue    time.Duration
	algo       string
	enc        string
	checker    func(string) bool
	now        func() time.Time
	log        *slog.Logger
	cache      ticketCache
	// unencodable is set once Remember has logged an identity it cannot
	// write as a ticket, so the log says it once per plugin.
	unencodable atomic.Bool
}

var (
	_ who.Identifier    = (*Plugin)(nil)
	_ who.Rememberer    = (*Plugin)(nil)
	_ who.Authenticator = (*Plugin)(nil)
	_ who.SecretKeyer   = (*Plugin)(nil)
)

// SecretKeys is nil (who.SecretKeyer): an auth_tkt identity holds the
// userid, timestamp, tokens, user data and cookie lifetime, none of them
// secret; the ticket's digest and the plugin's secret never enter it.
func (p *Plugin) SecretKeys() []string { return nil }

// New checks o and returns the plugin. Errors are *who.OptionError naming
// the key.
func New(o Options) (*Plugin, error) {
	optErr := func(key, format string, a ...any) error {
		return &who.OptionError{Key: key, Err: fmt.Errorf("authtkt: "+format, a...)}
	}
	p := &Plugin{
		oldSecrets: o.OldSecrets,
		name:       o.CookieName,
		secure:     o.Secure,
		httpOnly:   o.HTTPOnly == nil || *o.HTTPOnly,
		path:       o.Path,
		domains:    o.Domains,
		repozeDom:  o.RepozeDomains,
		includeIP:  o.IncludeIP,
		timeout:    o.Timeout.D(),
		reissue:    o.ReissueTime.D(),
		algo:       normAlgo(o.DigestAlgo),
		enc:        o.UserIDEncoding,
		checker:    o.UserIDChecker,
		now:        o.Now,
	}
	switch {
	case o.Secret != "" && o.SecretFile != "":
		return nil, optErr("secret", "set either secret or secretfile, not both")
	case o.Secret != "":
		p.secret = o.Secret
	case o.SecretFile != "":
		b, err := os.ReadFile(o.SecretFile)
		if err != nil {
			return nil, optErr("secretfile", "%w", err)
		}
		p.secret = strings.TrimSpace(string(b))
		if p.secret == "" {
			return nil, optErr("secretfile", "%s is empty", o.SecretFile)
		}
	default:
		return nil, optErr("secret", "secret or secretfile is required")
	}
	secretKey := "secret"
	if o.SecretFile != "" {
		secretKey = "secretfile"
	}
	short := 0 // secrets under GoodSecretBytes
	if err := checkSecret(len(p.secret), o.AllowWeakSecret); err != nil {
		return nil, optErr(secretKey, "the secret %w", err)
	}
	if len(p.secret) < GoodSecretBytes {
		short++
	}
	for i, s := range o.OldSecrets {
		if s == "" {
			return nil, optErr("old_secrets", "entry %d is empty", i)
		}
		if err := checkSecret(len(s), o.AllowWeakSecret); err != nil {
			return nil, optErr("old_secrets", "entry %d %w", i, err)
		}
		if len(s) < GoodSecretBytes {
			short++
		}
	}
	p.log = o.Logger
	if p.log == nil {
		p.log = slog.Default()
	}
	if short > 0 {
		p.log.Warn("authtkt: a ticket secret is shorter than 32 bytes; anyone holding one ticket can try to guess it offline: use 32 random bytes or more (openssl rand -hex 32)",
			"option", secretKey, "short_secrets", short, "allow_weak_secret", o.AllowWeakSecret)
	}
	if p.name == "" {
		p.name = "auth_tkt"
	}
	for i := 0; i < len(p.name); i++ {
		if c := p.name[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return nil, optErr("cookie_name", "%q is not a valid cookie name", p.name)
		}
	}
	if p.path == "" {
		p.path = "/"
	}
	if strings.ContainsAny(p.path, ";\r\n") {
		return nil, optErr("path", "%q may not hold ';' or a line break", p.path)
	}
	for _, d := range p.domains {
		if strings.ContainsAny(d, "; \t\r\n,") {
			return nil, optErr("domains", "%q is not a domain", d)
		}
	}
	if p.repozeDom && len(p.domains) > 0 {
		return nil, optErr("repoze_domains", "set either domains or repoze_domains, not both")
	}
	switch strings.ToLower(o.SameSite) {
	case "", "lax":
		p.sameSite = "Lax"
	case "strict":
		p.sameSite = "Strict"
	case "none":
		if p.secure != who.SecureAlways {
			return nil, optErr("same_site", `"None" requires secure = true (browsers drop it otherwise; "auto" would send it without Secure over http)`)
		}
		p.sameSite = "None"
	case SameSiteOff:
		p.sameSite = ""
	default:
		return nil, optErr("same_site", "%q: want Lax, Strict, None or off", o.SameSite)
	}
	if err := CheckDigest(p.algo); err != nil {
		return nil, optErr("digest_algo", "%w", err)
	}
	switch p.enc {
	case "":
		p.enc = EncodingRepoze
	case EncodingRepoze, EncodingModAuthTkt:
	default:
		return nil, optErr("userid_encoding", "%q: want %q or %q", p.enc, EncodingRepoze, EncodingModAuthTkt)
	}
	bits := o.IPv6Prefix
	if bits == 0 {
		bits = 64
	}
	if bits < 0 || bits > 128 {
		return nil, optErr("ipv6_prefix", "%d: want 1 to 128", bits)
	}
	p.v6mask = net.CIDRMask(bits, 128)
	if p.timeout < 0 || p.reissue < 0 {
		return nil, optErr("timeout", "durations may not be negative")
	}
	if p.timeout > 0 && p.reissue > p.timeout {
		return nil, optErr("reissue_time", "must not exceed timeout (%s)", p.timeout)
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// checkSecret refuses a secret of n bytes under MinSecretBytes unless
// weak secrets are allowed. The message never holds the secret.
func checkSecret(n int, allowWeak bool) error {
	if n >= MinSecretBytes || allowWeak {
		return nil
	}
	return fmt.Errorf("is %d bytes, under the minimum of %d: use 32 random bytes or more "+
		"(openssl rand -hex 32), or set allow_weak_secret = true to keep tickets signed with it valid while you rotate",
		n, MinSecretBytes)
}

// CookieName returns the name of the cookie.
func (p *Plugin) CookieName() string { return p.name }

// clientIP returns the address to digest: nil (0.0.0.0) unless
// include_ip; IPv6 masked to the configured prefix. The client is
// who.RequestOrigin's: behind a trusted proxy the address it forwarded,
// else RemoteAddr's. ok is false when include_ip is set and the client
// address is unknown: such a request neither reads nor gets a ticket.
func (p *Plugin) clientIP(r *http.Request) (ip net.IP, ok bool) {
	if !p.includeIP {
		return nil, true
	}
	a := who.RequestOrigin(r).Client
	if !a.IsValid() {
		return nil, false
	}
	ip = net.IP(a.AsSlice())
	if v4 := ip.To4(); v4 != nil {
		return v4, true
	}
	return ip.Mask(p.v6mask), true
}

// cookieValues yields the non-empty values of the plugin's cookie in the
// request, in order, without parsing the other cookies. It stops after
// MaxTicketsPerRequest values, and skips (but counts) a value longer than
// MaxTicketBytes, so that a huge Cookie header costs one scan and at most
// MaxTicketsPerRequest parses of bounded size.
func (p *Plugin) cookieValues(r *http.Request, yield func(v string) bool) {
	n := 0
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, val, ok := strings.Cut(part, "=")
			if !ok || strings.TrimSpace(name) != p.name {
				continue
			}
			val = strings.TrimSpace(val)
			if val == "" || val == `""` || val == "INVALID" || val == `"INVALID"` {
				continue
			}
			n++
			if len(val) <= MaxTicketBytes && !yield(val) {
				return
			}
			if n >= MaxTicketsPerRequest {
				return
			}
		}
	}
}

// found is a verified ticket in the request.
type found struct {
	p      raw
	uid    string
	secret int // 0: current secret, i>0: OldSecrets[i-1]
}

// find returns the first cookie value that verifies with a known secret
// and has not expired. When Identify found it for the same request (the
// Remember of an identified request), the ticket it kept is reused.
func (p *Plugin) find(r *http.Request) (found, bool) {
	if k, ok := who.RequestValue(r, p).(*identified); ok && k.sameRequest(p, r) {
		if p.timeout <= 0 || !time.Unix(int64(k.f.p.ts), 0).Add(p.timeout).Before(p.now()) {
			return *k.f, true
		}
	}
	f, e := p.lookup(r)
	if e != nil {
		return e.f, true
	}
	return f, f.uid != ""
}

// identified is the ticket Identify verified, kept for the request
// (who.SetRequestValue) with what that answer depends on, so that Remember
// reuses it only while find would give the same. It is the one allocation
// of Identify's own: it also holds the identity's tokens when they are few.
type identified struct {
	// lines are the Cookie lines Identify read (copied, so that a line
	// replaced in place is seen), the first len(lines) of n; more holds
	// them all when there are more.
	lines  [2]string
	n      int
	more   []string
	client netip.Addr // who.RequestOrigin(r).Client, for include_ip
	f      *found     // a cache entry's (never modified), or the request's own
	// tokens backs the identity's tokens slice (capped to its length, so
	// an append copies): the request's own, as the identity.
	tokens [4]string
}

// sameRequest reports whether r still carries the cookies and (with
// include_ip) the client address Identify read. Comparing the unchanged
// strings costs a pointer comparison each.
func (k *identified) sameRequest(p *Plugin, r *http.Request) bool {
	if p.includeIP && who.RequestOrigin(r).Client != k.client {
		return false
	}
	lines := r.Header["Cookie"]
	if len(lines) != k.n {
		return false
	}
	if k.more != nil {
		return slices.Equal(lines, k.more)
	}
	return slices.Equal(lines, k.lines[:k.n])
}

// keep records for find the ticket Identify found in r: e's when it came
// from the cache, else f.
func (p *Plugin) keep(r *http.Request, e *cacheEntry, f *found) *identified {
	lines := r.Header["Cookie"]
	k := &identified{n: len(lines)}
	if p.includeIP {
		k.client = who.RequestOrigin(r).Client
	}
	if e != nil {
		k.f = &e.f
	} else {
		own := *f // verified without the cache (include_ip): its own allocation
		k.f = &own
	}
	if len(lines) <= len(k.lines) {
		copy(k.lines[:], lines)
	} else {
		k.more = slices.Clone(lines)
	}
	who.SetRequestValue(r, p, k)
	return k
}

// tokensCopy returns a copy of tokens (nil for none) in k.tokens when they
// fit.
func (k *identified) tokensCopy(tokens []string) []string {
	if len(tokens) == 0 || len(tokens) > len(k.tokens) {
		return slices.Clone(tokens)
	}
	n := copy(k.tokens[:], tokens)
	return k.tokens[:n:n]
}

// splitTokens is strings.Split(raw, ",") (nil for ""), in k.tokens when
// they fit.
func (k *identified) splitTokens(raw string) []string {
	if raw == "" {
		return nil
	}
	if strings.Count(raw, ",") >= len(k.tokens) {
		return strings.Split(raw, ",")
	}
	n := 0
	for {
		t, rest, more := strings.Cut(raw, ",")
		k.tokens[n] = t
		n++
		if !more {
			break
		}
		raw = rest
	}
	return k.tokens[:n:n]
}

// lookup is find, returning the cache entry when the ticket was a cache
// hit or has just been cached (nil otherwise).
func (p *Plugin) lookup(r *http.Request) (found, *cacheEntry) {
	var f found
	var entry *cacheEntry
	ip, ipOK := p.clientIP(r)
	if !ipOK {
		return f, nil
	}
	var now time.Time
	if p.timeout > 0 {
		now = p.now()
	}
	var keyBuf [cacheKeyStack]byte
	p.cookieValues(r, func(v string) bool {
		t, err := decode(v, p.algo)
		if err != nil {
			return true
		}
		uid := t.userID(p.enc)
		if !validUserID(uid) {
			return true
		}
		// The cache is keyed by the ticket's fields, not the cookie
		// value: every encoding and padding of one ticket is one entry.
		var key []byte
		if !p.includeIP {
			key = cacheKey(keyBuf[:0], &t, uid)
			if e := p.cache.get(key); e != nil {
				if p.timeout > 0 && time.Unix(int64(e.f.p.ts), 0).Add(p.timeout).Before(now) {
					return true
				}
				entry = e
				return false
			}
		}
		for i := 0; i <= len(p.oldSecrets); i++ {
			secret := p.secret
			if i > 0 {
				secret = p.oldSecrets[i-1]
			}
			if !t.verify(secret, p.algo, ip, uid) {
				continue
			}
			if p.timeout > 0 && time.Unix(int64(t.ts), 0).Add(p.timeout).Before(now) {
				return true // expired; try the next cookie
			}
			f = found{p: t, uid: uid, secret: i}
			if key != nil && i == 0 && uid != "" {
				entry = p.cache.put(key, f)
			}
			return false
		}
		return true
	})
	return f, entry
}

// Identify reads the ticket. A missing, malformed, forged or expired
// ticket is not an error: the result is nil. The identity holds
// KeyTicketUserID, KeyTimestamp, who.KeyTokens ([]string, nil when none)
// and who.KeyUserData (the user data string; repoze.who 2.2's
// "userid_type:T" is read as 3.x's "userid_type=T"); and who.KeyMaxAge
// (int64 seconds) when the ticket is a persistent login's (MaxAgeToken),
// whose token is then not among who.KeyTokens.
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	f, e := p.lookup(r)
	if e != nil {
		k := p.keep(r, e, nil)
		// The entry is shared by every request that sends the ticket:
		// each identity gets its own tokens slice.
		id := who.Identity{
			KeyTicketUserID: e.uid,
			KeyTimestamp:    e.ts,
			who.KeyTokens:   k.tokensCopy(e.tokens),
			who.KeyUserData: e.ud,
		}
		if e.maxAge != nil {
			id[who.KeyMaxAge] = e.maxAge
		}
		return id, nil
	}
	if f.uid == "" {
		return nil, nil
	}
	k := p.keep(r, nil, &f)
	tokens, maxAge := splitMaxAge(f.p.tokens)
	id := who.Identity{
		KeyTicketUserID: f.uid,
		KeyTimestamp:    int64(f.p.ts),
		who.KeyTokens:   k.splitTokens(tokens),
		who.KeyUserData: normUserData(f.p.userdata),
	}
	if maxAge > 0 {
		id[who.KeyMaxAge] = maxAge
	}
	return id, nil
}

// splitMaxAge returns a ticket's tokens field without its MaxAgeToken
// tokens and the lifetime they carry (0: none; the last one counts). It
// allocates nothing for a ticket without one.
func splitMaxAge(tokens string) (rest string, maxAge int64) {
	if !strings.Contains(tokens, MaxAgeToken) {
		return tokens, 0
	}
	parts := strings.Split(tokens, ",")
	kept := parts[:0]
	for _, t := range parts {
		if n := maxAgeToken(t); n > 0 {
			maxAge = n
			continue
		}
		kept = append(kept, t)
	}
	if maxAge == 0 {
		return tokens, 0
	}
	return strings.Join(kept, ","), maxAge
}

// maxAgeToken returns the lifetime a MaxAgeToken token carries: a
// positive decimal number of seconds, at most maxCookieAge, without sign
// or leading zero. Any other token (0 for it) is an ordinary token.
func maxAgeToken(t string) int64 {
	v, ok := strings.CutPrefix(t, MaxAgeToken)
	if !ok || v == "" || v[0] < '1' || v[0] > '9' {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > maxCookieAge {
		return 0
	}
	return n
}

// withoutMaxAge returns tokens without MaxAgeToken tokens: the lifetime
// Remember writes is who.KeyMaxAge's, whatever the tokens say.
func withoutMaxAge(tokens []string) []string {
	isMarker := func(t string) bool { return maxAgeToken(t) > 0 }
	if !slices.ContainsFunc(tokens, isMarker) {
		return tokens
	}
	return slices.DeleteFunc(slices.Clone(tokens), isMarker)
}

// fromTicket reports whether id is the identity Identify returned for the
// ticket f (its userid and timestamp), not a login's credentials: only
// such an identity may leave an unchanged ticket as it is.
func fromTicket(id who.Identity, f found) bool {
	if id.Str(KeyTicketUserID) != f.uid {
		return false
	}
	switch ts := id[KeyTimestamp].(type) {
	case int64:
		return ts == int64(f.p.ts)
	case int:
		return int64(ts) == int64(f.p.ts)
	case float64: // an identity that went through JSON
		return ts == float64(f.p.ts)
	}
	return false
}

// normUserData turns repoze.who 2.2's "userid_type:T" into 3.x's
// "userid_type=T"; any other string is kept as it is.
func normUserData(ud string) string {
	if rest, ok := strings.CutPrefix(ud, "userid_type:"); ok && rest != "" &&
		strings.IndexFunc(rest, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')
		}) < 0 {
		return "userid_type=" + rest
	}
	return ud
}

// UserIDType returns the userid_type in user data of either encoding
// ("int", "unicode", …), or "" when there is none. gowho userids are
// strings whatever the type says.
func UserIDType(userData string) string {
	ud := normUserData(userData)
	for ud != "" {
		var kv string
		kv, ud, _ = strings.Cut(ud, "&")
		if v, ok := strings.CutPrefix(kv, "userid_type="); ok {
			if s, err := url.QueryUnescape(v); err == nil {
				return s
			}
			return v
		}
	}
	return ""
}

// Authenticate returns the ticket's userid, when the identity came from
// this plugin and UserIDChecker (if any) approves it.
func (p *Plugin) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	uid := id.Str(KeyTicketUserID)
	if uid == "" {
		return "", nil
	}
	if p.checker != nil && !p.checker(uid) {
		return "", nil
	}
	return uid, nil
}

// Remember returns the Set-Cookie headers that store the identity's
// who.KeyUserID, who.KeyTokens ([]string) and who.KeyUserData (a string,
// or a map / url.Values written as a query string, repoze.who 3.x style),
// with a cookie lifetime of who.KeyMaxAge seconds when present. A
// positive lifetime also goes into the ticket (MaxAgeToken), so that every
// reissue sends a cookie of the same full lifetime again.
//
// It returns nil when id is the identity Identify returned for the
// ticket the request carries, the ticket is unchanged and it needs no
// reissue (reissue_time, or a ticket signed with an old secret). Any
// other identity (a login) always gets a new ticket, so a login while
// holding a fixed-expiry ticket starts a new lifetime.
//
// The value is written in double quotes, so tokens and user data may
// hold spaces and user data "!" (see Ticket.Cookie for the rest). An
// identity it cannot write (ErrUnencodable) gives nil, and the first such
// identity is logged, once per plugin: a ticket that came in with it is
// then not reissued, and its timeout stops sliding.
func (p *Plugin) Remember(r *http.Request, id who.Identity) http.Header {
	uid := id.Str(who.KeyUserID)
	if uid == "" {
		return nil
	}
	tokens := withoutMaxAge(tokenList(id[who.KeyTokens]))
	ud := userData(id[who.KeyUserData])
	maxAge, hasMaxAge := maxAgeOf(id[who.KeyMaxAge])
	var keep int64 // the lifetime the ticket carries
	if hasMaxAge && maxAge > 0 {
		keep = min(maxAge, maxCookieAge)
	}
	if f, ok := p.find(r); ok && f.secret == 0 && f.uid == uid && normUserData(f.p.userdata) == ud && fromTicket(id, f) {
		if rest, had := splitMaxAge(f.p.tokens); had == keep && sameTokens(rest, tokens) &&
			(p.reissue <= 0 || !time.Unix(int64(f.p.ts), 0).Add(p.reissue).Before(p.now())) {
			return nil
		}
	}
	now := p.now()
	ip, ok := p.clientIP(r)
	if !ok {
		return nil
	}
	if keep > 0 {
		tokens = append(tokens[:len(tokens):len(tokens)], MaxAgeToken+strconv.FormatInt(keep, 10))
	}
	t := Ticket{UserID: uid, Tokens: tokens, UserData: ud, Time: now, IP: ip, Encoding: p.enc}
	v, err := t.quotedCookie(p.secret, p.algo)
	if err != nil {
		if p.unencodable.CompareAndSwap(false, true) {
			p.log.Warn("authtkt: an identity cannot be written as a ticket, so no cookie is sent for it; "+
				"a ticket that carried it is not reissued and its timeout stops sliding (logged once per plugin)",
				"cookie_name", p.name, "error", err)
		}
		return nil
	}
	return p.headers(r, v, maxAge, hasMaxAge, now)
}

// Forget returns one "INVALID" Set-Cookie with Max-Age=0 for each cookie
// Remember sets.
func (p *Plugin) Forget(r *http.Request, _ who.Identity) http.Header {
	return p.headers(r, "INVALID", 0, true, p.now())
}

// headers builds the Set-Cookie headers, byte for byte as repoze.who:
//
//	NAME="VALUE"; Path=/[; Domain=D][; Max-Age=N; Expires=DATE][; secure][; HttpOnly][; SameSite=S]
func (p *Plugin) headers(r *http.Request, value string, maxAge int64, hasMaxAge bool, now time.Time) http.Header {
	var tail string
	{
		var b strings.Builder
		if hasMaxAge {
			maxAge = max(min(maxAge, maxCookieAge), -maxCookieAge)
			b.WriteString("; Max-Age=")
			b.WriteString(strconv.FormatInt(maxAge, 10))
			b.WriteString("; Expires=")
			b.WriteString(now.Add(time.Duration(maxAge) * time.Second).UTC().Format(http.TimeFormat))
		}
		if p.secure.For(r) {
			b.WriteString("; secure")
		}
		if p.httpOnly {
			b.WriteString("; HttpOnly")
		}
		if p.sameSite != "" {
			b.WriteString("; SameSite=")
			b.WriteString(p.sameSite)
		}
		tail = b.String()
	}
	head := p.name + `="` + value + `"; Path=` + p.path
	var out []string
	switch {
	case p.repozeDom:
		out = append(out, head+tail)
		// repoze.who cut HTTP_HOST at the first ':', which gave Domain=[
		// for an IPv6 literal; gowho sends only the host-only cookie then.
		if host := requestHost(r); host != "" && !strings.Contains(host, ":") && validDomain(host) {
			out = append(out, head+"; Domain="+host+tail, head+"; Domain=."+host+tail)
		}
	case len(p.domains) == 0:
		out = append(out, head+tail)
	default:
		for _, d := range p.domains {
			if d == "" {
				out = append(out, head+tail)
			} else {
				out = append(out, head+"; Domain="+d+tail)
			}
		}
	}
	return http.Header{"Set-Cookie": out}
}

// requestHost is the request's host (who.RequestOrigin's: behind a
// trusted proxy the forwarded one) without the port (and without the
// brackets of an IPv6 literal).
func requestHost(r *http.Request) string {
	h := who.RequestOrigin(r).Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.Trim(h, "[]")
}

// tokenList reads the identity's tokens: []string, []any of strings, or a
// comma-separated string.
func tokenList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		if x == "" {
			return nil
		}
		return strings.Split(x, ",")
	}
	return nil
}

func sameTokens(raw string, tokens []string) bool {
	for i, t := range tokens {
		if i > 0 {
			if raw == "" || raw[0] != ',' {
				return false
			}
			raw = raw[1:]
		}
		if !strings.HasPrefix(raw, t) {
			return false
		}
		raw = raw[len(t):]
	}
	return raw == ""
}

// userData reads the identity's user data: a string as it is, a map or
// url.Values as a query string (sorted keys), with 2.2's form normalised.
func userData(v any) string {
	switch x := v.(type) {
	case string:
		return normUserData(x)
	case url.Values:
		return x.Encode()
	case map[string]string:
		q := url.Values{}
		for k, v := range x {
			q.Set(k, v)
		}
		return q.Encode()
	case map[string]any:
		q := url.Values{}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			q.Set(k, fmt.Sprint(x[k]))
		}
		return q.Encode()
	}
	return ""
}

// maxCookieAge caps a remembered cookie's Max-Age at the 400 days browsers
// keep a cookie at most (RFC 6265bis), and a negative one at 400 days
// ago, whatever an identifier asked for, so Expires never overflows into
// a nonsense date.
const maxCookieAge = 400 * 24 * 60 * 60

// maxAgeOf reads who.KeyMaxAge: an integer, a float, a decimal string or a
// time.Duration / who.Duration.
func maxAgeOf(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case float64:
		if x != x {
			return 0, true // NaN: expire now
		}
		// Clamped before the conversion, which is undefined out of range.
		return int64(max(min(x, maxCookieAge), -maxCookieAge)), true
	case time.Duration:
		return int64(x / time.Second), true
	case who.Duration:
		return int64(x.D() / time.Second), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err == nil {
			return n, true
		}
	}
	return 0, false
}

// Ticket verifies a cookie value as the plugin would (every encoding, the
// current and old secrets, the timeout) for the given client address
// (nil: 0.0.0.0). It returns ErrMalformed, ErrBadDigest or ErrExpired.
func (p *Plugin) Ticket(value string, ip net.IP) (Ticket, error) {
	var last error
	for i := 0; i <= len(p.oldSecrets); i++ {
		secret := p.secret
		if i > 0 {
			secret = p.oldSecrets[i-1]
		}
		t, err := ParseEncoding(secret, value, ip, p.algo, p.enc)
		if err == nil {
			if t.Expired(p.timeout, p.now()) {
				return t, ErrExpired
			}
			return t, nil
		}
		if !errors.Is(err, ErrBadDigest) {
			return t, err
		}
		last = err
	}
	return Ticket{}, last
}

// validDomain reports whether a request host may go into a Domain
// attribute (no separators a client could inject).
func validDomain(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
