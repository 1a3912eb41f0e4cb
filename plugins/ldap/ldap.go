package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultNamingAttribute = "uid"
	DefaultDialTimeout     = 5 * time.Second
	DefaultTimeout         = 5 * time.Second
	DefaultPoolSize        = 4
	DefaultMaxConnections  = 16
	DefaultMaxInFlight     = 256
	DefaultBackoffAfter    = 5
	DefaultBackoff         = time.Second
	DefaultGroupsKey       = "groups"
	DefaultGroupFilter     = "(member=%s)"
	DefaultGroupName       = "cn"
)

// ErrBackend is wrapped by every error that means the directory failed
// (unreachable, timed out, refused the service account): the chain logs
// it and tries the next authenticator. A wrong password is never an
// error.
var ErrBackend = errors.New("ldap: directory failed")

// Returned ids.
const (
	ReturnLogin = "login" // the naming attribute's value, as the directory stores it
	ReturnDN    = "dn"    // the entry's DN, as the directory returns it
)

// Group lookups.
const (
	GroupsMemberOf = "memberof" // the user entry's memberOf values
	GroupsSearch   = "search"   // a search under group_base_dn with group_filter
)

// Options configure the plugin. Keys keep repoze.who.plugins.ldap's names
// where it has them.
type Options struct {
	// URL, key url (or ldap_connection as the original; required):
	// ldap://host:port or ldaps://host:port.
	URL string `toml:"url"`
	// LDAPConnection, key ldap_connection: the original's name for url.
	LDAPConnection string `toml:"ldap_connection"`
	// BaseDN, key base_dn: where users are searched (search mode), or the
	// parent of naming_attribute=LOGIN (the original's pattern mode).
	BaseDN string `toml:"base_dn"`
	// BindDNTemplate, key bind_dn_template: direct bind, e.g.
	// "uid=%s,ou=people,dc=example,dc=org"; %s (exactly once) becomes the
	// login, escaped as a DN value (RFC 4514). When empty, the plugin
	// searches for the user under base_dn, then binds as the entry found.
	BindDNTemplate string `toml:"bind_dn_template"`
	// NamingAttribute, key naming_attribute (default "uid"): the attribute
	// holding the login; its stored value is the userid with
	// returned_id = "login".
	NamingAttribute string `toml:"naming_attribute"`
	// Filter, key filter (default "(NAMING_ATTRIBUTE=%s)"): the search
	// filter; %s (at least once) becomes the login, escaped (RFC 4515).
	Filter string `toml:"filter"`
	// Restrict, key restrict: a filter ANDed with filter, as the
	// original's, e.g. "(objectClass=inetOrgPerson)".
	Restrict string `toml:"restrict"`
	// SearchScope, key search_scope (default "subtree"): or "onelevel".
	SearchScope string `toml:"search_scope"`
	// BindDN and BindPassword, keys bind_dn and bind_password (or the
	// original's bind_pass): the service account that searches; empty:
	// anonymous.
	BindDN       string `toml:"bind_dn"`
	BindPassword string `toml:"bind_password"`
	BindPass     string `toml:"bind_pass"`
	// ReturnedID, key returned_id (default "login"): "login" returns the
	// naming attribute's value as stored in the directory (never as typed:
	// "ALICE" logs in as "alice"); "dn" returns the entry's DN.
	ReturnedID string `toml:"returned_id"`
	// StartTLS, key start_tls (default false): upgrade ldap:// connections
	// with StartTLS, on every new connection.
	StartTLS bool `toml:"start_tls"`
	// CAFile, key ca_file: PEM file of the CAs that sign the server's
	// certificate (ldaps:// and StartTLS); default: the system's.
	CAFile string `toml:"ca_file"`
	// ServerName, key tls_server_name: the name checked in the server's
	// certificate; default: the URL's host.
	ServerName string `toml:"tls_server_name"`
	// DialTimeout, key dial_timeout (default 5s): for connecting (and the
	// TLS handshake of ldaps://). Timeout, key timeout (default 5s): the
	// whole of each Authenticate or AddMetadata call, however it is
	// called (even detached from the HTTP request, as the memcached
	// wrapper does): the wait for a pool slot, the dial, StartTLS, the
	// service bind, the search and the user bind. The request's context
	// cuts both shorter.
	DialTimeout who.Duration `toml:"dial_timeout"`
	Timeout     who.Duration `toml:"timeout"`
	// PoolSize, key pool_size (default 4): idle connections kept, per
	// pool (searches; user binds). MaxConnections, key max_connections
	// (default 16): open connections per pool; more requests wait, within
	// timeout.
	PoolSize       int `toml:"pool_size"`
	MaxConnections int `toml:"max_connections"`
	// MaxInFlight, key max_in_flight (default 256): calls (Authenticate,
	// AddMetadata) running at once; one more fails at once with an error
	// wrapping ErrTooBusy (and ErrBackend: the chain goes on).
	MaxInFlight int `toml:"max_in_flight"`
	// BackoffAfter, key backoff_after (default 5), and Backoff, key
	// backoff (default 1s): after backoff_after consecutive operations
	// without an answer (refused, reset, timed out), calls fail at once
	// with an error wrapping ErrBackingOff for backoff; then one call is
	// let through, and its answer ends the back-off.
	BackoffAfter int          `toml:"backoff_after"`
	Backoff      who.Duration `toml:"backoff"`
	// MaxPasswordBytes, key max_password_bytes (default
	// who.DefaultMaxPasswordBytes, 1024): a longer password is "no",
	// without a bind.
	MaxPasswordBytes int `toml:"max_password_bytes"`
	// EqualizeTiming, key equalize_timing (default false; search mode
	// only): an unknown login costs a user bind too, as EqualizeDN with
	// the given password (the answer stays "no"), so an unknown user and
	// a wrong password take the same time.
	EqualizeTiming bool `toml:"equalize_timing"`
	// EqualizeDN, key equalize_dn (default
	// "cn=gowho-no-such-user,BASE_DN"): the DN of the equalising bind.
	// The default does not exist, which costs the round trip but not the
	// server's password hash; to equalise that too, name an entry whose
	// userPassword nobody knows.
	EqualizeDN string `toml:"equalize_dn"`

	// Attributes, key attributes: the entry's attributes the metadata
	// provider adds to the identity, each as a []string under its own
	// name. Empty: none (list them; userPassword is never added).
	Attributes who.Words `toml:"attributes"`
	// Filterstr, key filterstr (default "(objectClass=*)"): the metadata
	// search's filter on the user's entry, as the original's.
	Filterstr string `toml:"filterstr"`
	// Groups, key groups: "memberof" (the entry's memberOf values),
	// "search" (entries under group_base_dn matching group_filter) or ""
	// (none). Group names are the group_name_attribute of each group,
	// sorted, as a []string under groups_key.
	Groups string `toml:"groups"`
	// GroupBaseDN, key group_base_dn: where groups are searched (default:
	// base_dn).
	GroupBaseDN string `toml:"group_base_dn"`
	// GroupFilter, key group_filter (default "(member=%s)"): %s becomes
	// the user's DN and %u the userid, escaped.
	GroupFilter string `toml:"group_filter"`
	// GroupNameAttribute, key group_name_attribute (default "cn").
	GroupNameAttribute string `toml:"group_name_attribute"`
	// GroupsKey, key groups_key (default "groups"): the identity key of
	// the group names.
	GroupsKey string `toml:"groups_key"`

	// Logger receives warnings (a login matching several entries); errors
	// are returned, and the chain logs them. nil: slog.Default().
	Logger *slog.Logger `toml:"-"`
}

// Plugin is an LDAP authenticator and metadata provider. It is safe for
// concurrent use.
type Plugin struct {
	o      Options
	guard  *guard
	search *pool // service-account connections: searches only
	binds  *pool // user binds, never used to search as the service
	log    *slog.Logger
	scope  int
}

var (
	_ who.Authenticator    = (*Plugin)(nil)
	_ who.MetadataProvider = (*Plugin)(nil)
)

func optErr(key string, format string, a ...any) error {
	return &who.OptionError{Key: key, Err: fmt.Errorf("ldap: "+format, a...)}
}

// New checks the options, applies the defaults and returns the plugin. It
// does not connect: the directory may come up later.
func New(o Options) (*Plugin, error) {
	if o.URL == "" {
		o.URL = o.LDAPConnection
	}
	if o.URL == "" {
		return nil, optErr("url", "is required")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, optErr("url", "want ldap://host:port or ldaps://host:port")
	}
	if o.BindPassword == "" {
		o.BindPassword = o.BindPass
	}
	if o.NamingAttribute == "" {
		o.NamingAttribute = DefaultNamingAttribute
	}
	if o.BindDNTemplate != "" {
		if strings.Count(o.BindDNTemplate, "%s") != 1 || strings.Count(o.BindDNTemplate, "%") != 1 {
			return nil, optErr("bind_dn_template", "must hold %%s exactly once, e.g. \"uid=%%s,ou=people,dc=example,dc=org\"")
		}
		if _, err := goldap.ParseDN(strings.Replace(o.BindDNTemplate, "%s", "x", 1)); err != nil {
			return nil, optErr("bind_dn_template", "not a DN: %v", err)
		}
	} else if o.BaseDN == "" {
		return nil, optErr("base_dn", "is required without bind_dn_template")
	}
	if o.Filter == "" {
		o.Filter = "(" + o.NamingAttribute + "=%s)"
	}
	if !strings.Contains(o.Filter, "%s") {
		return nil, optErr("filter", "must hold %%s where the login goes")
	}
	if _, err := goldap.CompileFilter(strings.ReplaceAll(o.Filter, "%s", "x")); err != nil {
		return nil, optErr("filter", "not a filter: %v", err)
	}
	if o.Restrict != "" {
		if _, err := goldap.CompileFilter(o.Restrict); err != nil {
			return nil, optErr("restrict", "not a filter: %v", err)
		}
	}
	if o.Filterstr == "" {
		o.Filterstr = "(objectClass=*)"
	}
	if _, err := goldap.CompileFilter(o.Filterstr); err != nil {
		return nil, optErr("filterstr", "not a filter: %v", err)
	}
	scope := goldap.ScopeWholeSubtree
	switch strings.ToLower(o.SearchScope) {
	case "", "subtree", "sub":
	case "onelevel", "one":
		scope = goldap.ScopeSingleLevel
	default:
		return nil, optErr("search_scope", "want \"subtree\" or \"onelevel\", got %q", o.SearchScope)
	}
	switch o.ReturnedID {
	case "":
		o.ReturnedID = ReturnLogin
	case ReturnLogin, ReturnDN:
	default:
		return nil, optErr("returned_id", "want \"login\" or \"dn\", got %q", o.ReturnedID)
	}
	switch o.Groups = strings.ToLower(o.Groups); o.Groups {
	case "", GroupsMemberOf:
	case GroupsSearch:
		if o.GroupBaseDN == "" {
			o.GroupBaseDN = o.BaseDN
		}
		if o.GroupBaseDN == "" {
			return nil, optErr("group_base_dn", "is required with groups = \"search\"")
		}
	default:
		return nil, optErr("groups", "want \"memberof\", \"search\" or \"\", got %q", o.Groups)
	}
	if o.GroupFilter == "" {
		o.GroupFilter = DefaultGroupFilter
	}
	if _, err := goldap.CompileFilter(strings.NewReplacer("%s", "x", "%u", "x").Replace(o.GroupFilter)); err != nil {
		return nil, optErr("group_filter", "not a filter: %v", err)
	}
	if o.GroupNameAttribute == "" {
		o.GroupNameAttribute = DefaultGroupName
	}
	if o.GroupsKey == "" {
		o.GroupsKey = DefaultGroupsKey
	}
	o.Attributes = slices.DeleteFunc(slices.Clone(o.Attributes), func(a string) bool { return strings.EqualFold(a, "userPassword") })
	if o.DialTimeout <= 0 {
		o.DialTimeout = who.Duration(DefaultDialTimeout)
	}
	if o.Timeout <= 0 {
		o.Timeout = who.Duration(DefaultTimeout)
	}
	if o.PoolSize <= 0 {
		o.PoolSize = DefaultPoolSize
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.PoolSize > o.MaxConnections {
		o.PoolSize = o.MaxConnections
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.BackoffAfter <= 0 {
		o.BackoffAfter = DefaultBackoffAfter
	}
	if o.Backoff <= 0 {
		o.Backoff = who.Duration(DefaultBackoff)
	}
	if o.MaxPasswordBytes <= 0 {
		o.MaxPasswordBytes = who.DefaultMaxPasswordBytes
	}
	if o.EqualizeTiming && o.BindDNTemplate != "" {
		return nil, optErr("equalize_timing", "works in search mode (base_dn without bind_dn_template): a direct bind already costs one bind for any login")
	}
	if o.EqualizeTiming {
		if o.EqualizeDN == "" {
			o.EqualizeDN = "cn=gowho-no-such-user," + o.BaseDN
		}
		if _, err := goldap.ParseDN(o.EqualizeDN); err != nil {
			return nil, optErr("equalize_dn", "not a DN: %v", err)
		}
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = u.Hostname()
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, &who.OptionError{Key: "ca_file", Err: fmt.Errorf("ldap: %w", err)}
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, optErr("ca_file", "no PEM certificate in %s", o.CAFile)
		}
		tlsConf.RootCAs = roots
	}
	if o.StartTLS && u.Scheme == "ldaps" {
		return nil, optErr("start_tls", "ldaps:// is already TLS")
	}
	ldaps := u.Scheme == "ldaps"
	addr := u.Host
	if u.Port() == "" {
		port := "389"
		if ldaps {
			port = "636"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	p := &Plugin{o: o, log: o.Logger, scope: scope, guard: newGuard(o.MaxInFlight, o.BackoffAfter, o.Backoff.D())}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.search = newPool(&o, addr, ldaps, tlsConf, true)
	p.binds = newPool(&o, addr, ldaps, tlsConf, false)
	return p, nil
}

// Close closes the idle connections.
func (p *Plugin) Close() error {
	p.search.close()
	p.binds.close()
	return nil
}

// begin admits a call (max_in_flight, back-off) and bounds it by timeout;
// end must be called when it returns.
func (p *Plugin) begin(ctx context.Context) (_ context.Context, end func(), err error) {
	ticket, err := p.guard.enter()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, p.o.Timeout.D(), timeoutError{p.o.Timeout.D()})
	return ctx, func() { cancel(); p.guard.leave(ticket) }, nil
}

// do runs op on a connection of pl and tells the guard how it went.
func (p *Plugin) do(ctx context.Context, pl *pool, op func(c *goldap.Conn) error) error {
	err := pl.do(ctx, op)
	p.guard.observe(err)
	return err
}

// notFound reports LDAP result codes that mean "no such user / wrong
// credentials" rather than a failing directory.
func notFound(err error) bool {
	switch resultCode(err) {
	case goldap.LDAPResultNoSuchObject, goldap.LDAPResultInvalidDNSyntax, goldap.LDAPResultInvalidCredentials,
		goldap.LDAPResultInappropriateAuthentication, goldap.LDAPResultInsufficientAccessRights,
		goldap.LDAPResultUnwillingToPerform, goldap.LDAPResultNamingViolation:
		return true
	}
	return false
}

// MaxLoginBytes is the longest login Authenticate sends to the directory;
// a longer one is "no" without a request. Once escaped into a DN or a
// filter a login can triple, and slapd drops a connection whose request is
// over its sockbuf_max_incoming (256 KiB before a bind): a network failure
// that, backoff_after times in a row, would back the directory off for
// everyone at the request of one anonymous client.
const MaxLoginBytes = 1024

// Authenticate binds as the user. It returns "" for a missing login, a
// login longer than MaxLoginBytes, an empty password (refused before any
// bind: some servers take it as an anonymous bind), a password longer than
// max_password_bytes (refused before any bind), an unknown user or a wrong password, and an error
// wrapping ErrBackend when the directory fails, does not answer within
// timeout, or is refused work (ErrTooBusy, ErrBackingOff).
func (p *Plugin) Authenticate(r *http.Request, id who.Identity) (string, error) {
	login, pw := id.Str(who.KeyLogin), id.Str(who.KeyPassword)
	if login == "" || len(login) > MaxLoginBytes || pw == "" || len(pw) > p.o.MaxPasswordBytes {
		return "", nil
	}
	ctx, end, err := p.begin(r.Context())
	if err != nil {
		return "", err
	}
	defer end()
	var dn, canonical string
	if p.o.BindDNTemplate == "" {
		e, err := p.findUser(ctx, p.userFilter(login), login)
		if err != nil {
			return "", err
		}
		if e == nil {
			if p.o.EqualizeTiming {
				return "", p.equalize(ctx, pw)
			}
			return "", nil
		}
		dn, canonical = e.DN, p.naming(e)
	} else {
		dn = strings.Replace(p.o.BindDNTemplate, "%s", goldap.EscapeDN(login), 1)
	}
	var entry *goldap.Entry
	bound := false
	err = p.do(ctx, p.binds, func(c *goldap.Conn) error {
		bound = false
		if err := c.Bind(dn, pw); err != nil {
			return err
		}
		bound = true
		if canonical != "" {
			return nil
		}
		// Direct bind: read the entry as the user, for its canonical
		// DN and naming attribute.
		res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
			1, 0, false, "(objectClass=*)", []string{p.o.NamingAttribute}, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) == 1 {
			entry = res.Entries[0]
		}
		return nil
	})
	switch {
	case err == nil:
	case !bound && notFound(err):
		return "", nil // unknown DN or wrong password
	case notFound(err):
		// Bound, but may not read its own entry: fall back to the DN.
	default:
		return "", backendError("bind", err)
	}
	if entry != nil {
		dn, canonical = entry.DN, p.naming(entry)
	}
	if p.o.ReturnedID == ReturnDN {
		return dn, nil
	}
	if canonical == "" {
		return "", backendError("bind", fmt.Errorf("the entry has no %s attribute, or it cannot be read", p.o.NamingAttribute))
	}
	return canonical, nil
}

// equalize binds as equalize_dn with the password, on the user-bind pool as
// a login would, so an unknown login costs what a wrong password costs. Its
// answer is ignored; a failing directory is an error, as for a known user.
func (p *Plugin) equalize(ctx context.Context, pw string) error {
	err := p.do(ctx, p.binds, func(c *goldap.Conn) error { return c.Bind(p.o.EqualizeDN, pw) })
	if err == nil || (resultCode(err) != 0 && !isNetwork(err)) {
		return nil
	}
	return backendError("bind", err)
}

// naming returns the entry's naming attribute value (the first).
func (p *Plugin) naming(e *goldap.Entry) string {
	vs := attrValues(e, p.o.NamingAttribute)
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func attrValues(e *goldap.Entry, name string) []string {
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

// userFilter returns filter with %s replaced by the escaped value, ANDed
// with restrict.
func (p *Plugin) userFilter(value string) string {
	f := strings.ReplaceAll(p.o.Filter, "%s", goldap.EscapeFilter(value))
	if p.o.Restrict != "" {
		f = "(&" + p.o.Restrict + f + ")"
	}
	return f
}

// findUser searches for exactly one entry; none or several: nil.
func (p *Plugin) findUser(ctx context.Context, filter, login string) (*goldap.Entry, error) {
	attrs := []string{p.o.NamingAttribute}
	var res *goldap.SearchResult
	err := p.do(ctx, p.search, func(c *goldap.Conn) error {
		var err error
		res, err = c.Search(goldap.NewSearchRequest(p.o.BaseDN, p.scope, goldap.NeverDerefAliases,
			2, int(p.o.Timeout.D()/time.Second), false, filter, attrs, nil))
		return err
	})
	if err != nil {
		if resultCode(err) == goldap.LDAPResultSizeLimitExceeded {
			p.log.Warn("ldap: several entries match one login; refusing it")
			return nil, nil
		}
		if resultCode(err) == goldap.LDAPResultNoSuchObject {
			return nil, nil
		}
		return nil, backendError("search", err)
	}
	if len(res.Entries) != 1 {
		if len(res.Entries) > 1 {
			p.log.Warn("ldap: several entries match one login; refusing it")
		}
		return nil, nil
	}
	return res.Entries[0], nil
}

// userDN finds the DN of the authenticated userid, or "".
func (p *Plugin) userDN(ctx context.Context, userID string) (string, error) {
	switch {
	case p.o.ReturnedID == ReturnDN:
		if _, err := goldap.ParseDN(userID); err != nil {
			return "", nil
		}
		return userID, nil
	case p.o.BindDNTemplate != "":
		return strings.Replace(p.o.BindDNTemplate, "%s", goldap.EscapeDN(userID), 1), nil
	default:
		e, err := p.findUser(ctx, strings.ReplaceAll("("+p.o.NamingAttribute+"=%s)", "%s", goldap.EscapeFilter(userID)), userID)
		if e == nil || err != nil {
			return "", err
		}
		return e.DN, nil
	}
}

// AddMetadata adds the user's attributes (each a []string) and group
// names (a sorted []string under groups_key). A userid the directory does
// not hold adds nothing; a failing directory is an error.
func (p *Plugin) AddMetadata(r *http.Request, id who.Identity) error {
	uid := id.Str(who.KeyUserID)
	if uid == "" || (len(p.o.Attributes) == 0 && p.o.Groups == "") {
		return nil
	}
	ctx, end, err := p.begin(r.Context())
	if err != nil {
		return err
	}
	defer end()
	dn, err := p.userDN(ctx, uid)
	if dn == "" || err != nil {
		return err
	}
	attrs := slices.Clone(p.o.Attributes)
	if p.o.Groups == GroupsMemberOf {
		attrs = append(attrs, "memberOf")
	}
	var entry *goldap.Entry
	var groups []string
	err = p.do(ctx, p.search, func(c *goldap.Conn) error {
		entry, groups = nil, nil
		res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
			1, 0, false, p.o.Filterstr, attrs, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) != 1 {
			return nil
		}
		entry = res.Entries[0]
		if p.o.Groups != GroupsSearch {
			return nil
		}
		f := strings.NewReplacer("%s", goldap.EscapeFilter(entry.DN), "%u", goldap.EscapeFilter(uid)).Replace(p.o.GroupFilter)
		gres, err := c.SearchWithPaging(goldap.NewSearchRequest(p.o.GroupBaseDN, goldap.ScopeWholeSubtree,
			goldap.NeverDerefAliases, 0, 0, false, f, []string{p.o.GroupNameAttribute}, nil), 500)
		if err != nil {
			return err
		}
		for _, g := range gres.Entries {
			groups = append(groups, attrValues(g, p.o.GroupNameAttribute)...)
		}
		return nil
	})
	if err != nil {
		if resultCode(err) == goldap.LDAPResultNoSuchObject {
			return nil
		}
		return backendError("metadata search", err)
	}
	if entry == nil {
		return nil
	}
	for _, a := range p.o.Attributes {
		if vs := attrValues(entry, a); vs != nil {
			id[a] = slices.Clone(vs)
		}
	}
	switch p.o.Groups {
	case GroupsMemberOf:
		for _, g := range attrValues(entry, "memberOf") {
			if name := rdnValue(g, p.o.GroupNameAttribute); name != "" {
				groups = append(groups, name)
			}
		}
		fallthrough
	case GroupsSearch:
		slices.Sort(groups)
		id[p.o.GroupsKey] = slices.Compact(groups)
	}
	return nil
}

// rdnValue returns the value of the first RDN of dn when its type is attr
// ("cn=admins,ou=groups,..." → "admins"), else "".
func rdnValue(dn, attr string) string {
	d, err := goldap.ParseDN(dn)
	if err != nil || len(d.RDNs) == 0 {
		return ""
	}
	for _, a := range d.RDNs[0].Attributes {
		if strings.EqualFold(a.Type, attr) {
			return a.Value
		}
	}
	return ""
}
