package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/who"
)

// Defaults of the [gateway] keys.
const (
	DefaultAuthPath     = "/_who/auth"
	DefaultPrefix       = "/_who/"
	DefaultUserHeader   = "X-Remote-User"
	DefaultGroupsKey    = "groups"
	DefaultAssertionTTL = 60 * time.Second
	// AssertionHeader carries the signed identity assertion.
	AssertionHeader = "X-Who-Assertion"
	// LocationHeader carries, on a 401 to nginx, where a browser is sent
	// to log in (the form's redirect), for `error_page 401 = @login`.
	LocationHeader = "X-Who-Location"
)

// Access values of a Rule.
const (
	AccessPublic        = "public"
	AccessAuthenticated = "authenticated"
)

// Config is the [gateway] table. The zero value is valid: forward-auth at
// DefaultAuthPath, every path needs a login.
type Config struct {
	// AuthPath, key auth_path (default "/_who/auth"): the forward-auth
	// endpoint; Envoy's ext_authz adds the original path below it.
	AuthPath string `toml:"auth_path"`
	// Prefix, key prefix (default "/_who/"): the paths the gateway
	// serves itself through the chain and never sends upstream: the
	// form's login_form_url, login_handler_path and logout_handler_path
	// belong below it, and the key set is at Prefix + "jwks.json".
	Prefix string `toml:"prefix"`
	// Upstream, key upstream: an http(s) URL; set, the gateway is a
	// reverse proxy to it. Empty: forward-auth only (other paths: 404).
	Upstream string `toml:"upstream"`
	// UserHeader, key user_header (default "X-Remote-User"): the header
	// carrying the userid to the upstream (or in the 200 to the proxy).
	UserHeader string `toml:"user_header"`
	// PassIdentity, key pass_identity: identity keys sent as
	// X-Remote-<Key> ("mail": X-Remote-Mail); a list value is joined by ",".
	PassIdentity []string `toml:"pass_identity"`
	// GroupsKey, key groups_key (default "groups"): the identity key the
	// rules' groups are read from.
	GroupsKey string `toml:"groups_key"`
	// Rules, [[gateway.rule]]: the first that matches decides; none
	// matching: a login is needed.
	Rules []Rule `toml:"rule"`
	// Assertion, key assertion: send a signed identity assertion (a JWT,
	// EdDSA) in X-Who-Assertion.
	Assertion bool `toml:"assertion"`
	// AssertionTTL, key assertion_ttl (default "60s"): its lifetime.
	AssertionTTL who.Duration `toml:"assertion_ttl"`
	// AssertionKeys, key assertion_keys: a PEM file of Ed25519 private
	// keys (PKCS #8), or a directory of *.pem files; the last key (in the
	// file, or of the files sorted by name) signs, and every key is
	// published, so a rotation appends a key and removes the old one
	// after assertion_ttl. Empty: a key generated at start (a warning:
	// every restart or reload rotates it).
	AssertionKeys string `toml:"assertion_keys"`
	// AssertionAudience, key assertion_audience: the aud claim. Empty:
	// the upstream's host, or in forward-auth mode the original host.
	AssertionAudience string `toml:"assertion_audience"`
	// LoginHosts, key login_hosts: hosts, besides the original request's
	// own, that the login URL nginx is given (X-Who-Location) may name:
	// a login page or an OpenID provider on another host. A challenge's
	// redirect elsewhere gives nginx a 401 without it (origin.SafeRedirect).
	LoginHosts []string `toml:"login_hosts"`

	upstream *url.URL
	// plainRules: every rule path is its own decoded and folded form, so
	// a plain request path (plainPath) needs one view (set by check).
	plainRules bool
}

// A Rule is one [[gateway.rule]].
type Rule struct {
	// Path, key path: a path prefix, matched segment by segment ("/admin"
	// matches "/admin" and "/admin/x", not "/administrator"; "/app/"
	// matches what starts with it).
	Path string `toml:"path"`
	// Methods, key methods: the methods it applies to; empty: all.
	Methods []string `toml:"methods"`
	// Access, key access: "public" (no login needed) or "authenticated"
	// (the default).
	Access string `toml:"access"`
	// Groups, key groups: a logged-in user must be in one of them (403
	// otherwise).
	Groups []string `toml:"groups"`
}

func init() {
	config.RegisterSection("gateway", decodeSection)
}

// decodeSection is the SectionFunc of [gateway].
func decodeSection(s *config.Section) (any, error) {
	var c Config
	if err := s.Decode(&c); err != nil {
		return nil, err
	}
	if c.AssertionKeys != "" && !filepath.IsAbs(c.AssertionKeys) {
		c.AssertionKeys = filepath.Join(s.Dir, c.AssertionKeys)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// check applies the defaults and reports every wrong value as a
// *who.OptionError, joined.
func (c *Config) check() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &who.OptionError{Key: key, Err: fmt.Errorf(format, args...)})
	}
	if c.AuthPath == "" {
		c.AuthPath = DefaultAuthPath
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.UserHeader == "" {
		c.UserHeader = DefaultUserHeader
	}
	if c.GroupsKey == "" {
		c.GroupsKey = DefaultGroupsKey
	}
	if c.AssertionTTL == 0 {
		c.AssertionTTL = who.Duration(DefaultAssertionTTL)
	}
	if why := checkPath(c.AuthPath); why != "" {
		bad("auth_path", "%q %s", c.AuthPath, why)
	}
	if why := checkPath(c.Prefix); why != "" {
		bad("prefix", "%q %s", c.Prefix, why)
	} else if !strings.HasSuffix(c.Prefix, "/") {
		bad("prefix", "%q must end with /", c.Prefix)
	}
	if c.AssertionTTL.D() < 0 {
		bad("assertion_ttl", "must be positive")
	}
	if !validHeaderName(c.UserHeader) {
		bad("user_header", "%q is not a header name", c.UserHeader)
	}
	for i, k := range c.PassIdentity {
		if h := passHeader(k); !validHeaderName(h) || h == "X-Remote-" {
			bad(fmt.Sprintf("pass_identity[%d]", i), "%q cannot be a header name (X-Remote-%s)", k, k)
		}
		if k == who.KeyPassword {
			bad(fmt.Sprintf("pass_identity[%d]", i), "the password is never passed on")
		}
	}
	if c.Upstream != "" {
		u, err := url.Parse(c.Upstream)
		switch {
		case err != nil:
			bad("upstream", "is not a URL: %v", err)
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			bad("upstream", "%q: want an http:// or https:// URL with a host", c.Upstream)
		case u.User != nil:
			bad("upstream", "may not hold user info (user@)")
		case u.RawQuery != "" || u.Fragment != "":
			bad("upstream", "%q: may not have a query or a fragment", c.Upstream)
		default:
			c.upstream = u
		}
	}
	c.plainRules = true
	for i := range c.Rules {
		errs = append(errs, c.Rules[i].check(fmt.Sprintf("rule[%d]", i))...)
		c.plainRules = c.plainRules && plainRule(c.Rules[i].Path)
	}
	return errors.Join(errs...)
}

func (r *Rule) check(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, &who.OptionError{Key: key + "." + k, Err: fmt.Errorf(format, args...)})
	}
	if r.Path == "" {
		bad("path", "is required (a path prefix such as \"/public\")")
	} else if why := checkPath(r.Path); why != "" {
		bad("path", "%q %s", r.Path, why)
	}
	for i, m := range r.Methods {
		u := strings.ToUpper(m)
		if !isToken(u) {
			bad(fmt.Sprintf("methods[%d]", i), "%q is not an HTTP method", m)
		}
		r.Methods[i] = u
	}
	switch r.Access {
	case "":
		r.Access = AccessAuthenticated
	case AccessAuthenticated:
	case AccessPublic:
		if len(r.Groups) > 0 {
			bad("groups", "a public rule has no groups: remove access = \"public\" or the groups")
		}
	default:
		hint := ""
		if s := suggest.Closest(r.Access, []string{AccessPublic, AccessAuthenticated}); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		bad("access", "%q: want \"public\" or \"authenticated\"%s", r.Access, hint)
	}
	if slices.Contains(r.Groups, "") {
		bad("groups", "an empty group name")
	}
	return errs
}

// checkPath says what is wrong with a configured path, or "".
func checkPath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "must start with /"
	case strings.ContainsAny(p, "?#"):
		return "may not have a query or a fragment"
	case !origin.PlainBytes(p):
		return "may not hold spaces, controls, backslashes or non-ASCII bytes (%-encode them)"
	case origin.RemoveDotSegments(p) != p || strings.Contains(p, "//"):
		return "may not hold . or .. segments or //"
	}
	return ""
}

func validHeaderName(s string) bool { return isToken(s) }

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// passHeader is the header of the identity key k: "mail" gives
// "X-Remote-Mail", "display_name" "X-Remote-Display-Name".
func passHeader(k string) string {
	parts := strings.FieldsFunc(k, func(r rune) bool { return r == '_' || r == '-' || r == '.' })
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
	}
	return "X-Remote-" + strings.Join(parts, "-")
}
