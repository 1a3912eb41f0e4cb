package who

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// TrustedProxies is the list of peers whose forwarding headers (Forwarded,
// X-Forwarded-Proto, -Host, -Port, -For) gowho believes: the proxies in
// front of it ([general] trusted_proxies). The zero value trusts none, so
// every request is taken as the connection shows it. It is immutable and
// safe for concurrent use. It is comparable (so a struct holding it, such
// as config.General, is), but two lists parsed apart compare unequal:
// compare String() to compare contents.
type TrustedProxies struct {
	list *proxyList // nil: none
}

type proxyList struct{ prefixes []netip.Prefix }

// ParseTrustedProxies parses a list of CIDR prefixes ("127.0.0.1/32",
// "10.0.0.0/8", "::1/128"); a bare address is one host ("192.0.2.7" is
// /32, "2001:db8::7" /128). An IPv4-mapped IPv6 address counts as its IPv4
// address. The error names the first bad entry and its position.
func ParseTrustedProxies(cidrs []string) (TrustedProxies, error) {
	var prefixes []netip.Prefix
	for i, s := range cidrs {
		p, err := parseProxyPrefix(strings.TrimSpace(s))
		if err != nil {
			return TrustedProxies{}, fmt.Errorf("who: trusted proxy %d (%q): %w", i+1, s, err)
		}
		prefixes = append(prefixes, p)
	}
	if len(prefixes) == 0 {
		return TrustedProxies{}, nil
	}
	return TrustedProxies{&proxyList{prefixes}}, nil
}

func parseProxyPrefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("empty: give an address or a CIDR prefix such as \"127.0.0.1/32\"")
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, errors.New("may not name an interface zone (%)")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, errors.New("not an IP address or a CIDR prefix such as \"127.0.0.1/32\" or \"::1/128\"")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not a CIDR prefix such as \"127.0.0.1/32\" or \"::1/128\"")
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("an IPv4-mapped prefix shorter than /96: write the IPv4 prefix")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Trusts reports whether addr (an IPv4-mapped address counts as its IPv4
// address; a zone is ignored) is in one of the prefixes.
func (t TrustedProxies) Trusts(addr netip.Addr) bool {
	if t.list == nil || !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range t.list.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// The shortest prefixes BroadPrefix lets pass: a trusted proxy is a few
// hosts, never a tenth of the Internet.
const (
	MinTrustedBits4 = 8
	MinTrustedBits6 = 16
)

// BroadPrefix reports whether trusting p trusts ordinary clients: an IPv4
// prefix shorter than /8 or an IPv6 one shorter than /16 (0.0.0.0/0 and
// ::/0 among them). Every client in it can send X-Forwarded-For and
// Forwarded and so choose its own address, scheme and host. The config
// loader warns about such a trusted_proxies entry (who check -strict
// fails).
func BroadPrefix(p netip.Prefix) bool {
	if !p.IsValid() {
		return false
	}
	a := p.Addr()
	if a.Is4In6() {
		return p.Bits() < 96+MinTrustedBits4
	}
	if a.Is4() {
		return p.Bits() < MinTrustedBits4
	}
	return p.Bits() < MinTrustedBits6
}

// Prefixes returns a copy of the prefixes, in the order given.
func (t TrustedProxies) Prefixes() []netip.Prefix {
	if t.list == nil {
		return nil
	}
	return append([]netip.Prefix(nil), t.list.prefixes...)
}

// String lists the prefixes, comma-separated ("" for none).
func (t TrustedProxies) String() string {
	ps := t.Prefixes()
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// Origin is where a request came from and was sent to, as the client saw
// it: through the trusted proxies in front of gowho, or straight from the
// connection. RequestOrigin returns it; every plugin reads the scheme,
// host and client address of a request from it.
type Origin struct {
	// Scheme is "http" or "https", as the client's side of the first
	// trusted proxy saw it (without a trusted proxy: "https" when the
	// request came over TLS or as an absolute https URI).
	Scheme string
	// Host is the host[:port] the client sent the request to: the
	// Forwarded host= or X-Forwarded-Host (and -Port) of a trusted proxy,
	// else the Host header, else the absolute request URI's host, else the
	// address of the server's end of the connection (an HTTP/1.0 request
	// without Host). It is "" when none is known. A port that is the
	// scheme's default is left out of a forwarded host.
	Host string
	// Client is the client's address: the right-most hop of Forwarded for=
	// or X-Forwarded-For that is not a trusted proxy, when the peer is one,
	// else the peer's (RemoteAddr). It is the zero Addr (invalid) when
	// unknown: a hop "unknown", an obfuscated identifier, a malformed
	// value, or a RemoteAddr that is no IP address. An IPv4-mapped address
	// is given as IPv4, and no zone is kept.
	Client netip.Addr
	// Proxied reports that the peer is a trusted proxy and its forwarding
	// headers were used.
	Proxied bool
}

// IsHTTPS reports whether o.Scheme is "https".
func (o Origin) IsHTTPS() bool { return o.Scheme == "https" }

// originKey is the context key of the Origin WithOrigin sets.
var originKey = &ctxKey{"origin"}

// WithOrigin returns a copy of ctx that carries o as the request's origin:
// RequestOrigin then returns it. The middleware sets it before any plugin
// runs; a handler that builds a request of its own (the forward-auth
// gateway rebuilding the original request) sets it so that the middleware
// keeps it instead of resolving one.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey, &o)
}

// RequestOrigin returns the origin of r: the one the middleware resolved
// (with Config.TrustedProxies) or WithOrigin set, else, when neither is in
// r's context, r resolved with no trusted proxies (the connection's own
// values). It never panics and is cheap: plugins call it rather than read
// r.TLS, r.Host or r.RemoteAddr.
func RequestOrigin(r *http.Request) Origin {
	if o, ok := r.Context().Value(originKey).(*Origin); ok && o != nil {
		return *o
	}
	return TrustedProxies{}.Resolve(r)
}

// Resolve works out the origin of r. When r's peer (RemoteAddr) is in t,
// its forwarding headers are used: Forwarded (RFC 7239, every header line
// and element) when present, else X-Forwarded-For, -Proto, -Host and -Port.
// The client is the right-most hop whose address is not in t (every hop
// trusted: the left-most); scheme and host come from the element of that
// hop (Forwarded; the nearest trusted element to its right that has them
// when it has not), or from the X-Forwarded-Proto, -Host and -Port value at
// that hop's position when the list is as long as X-Forwarded-For, else
// the last value. A proto other than http or https and a host that is not
// a plain host[:port] (spaces, controls, user info, a path) are ignored
// and the connection's own value kept. From a peer not in t the headers
// are ignored entirely. The work is linear in the size of the headers.
func (t TrustedProxies) Resolve(r *http.Request) Origin {
	o := Origin{Scheme: "http", Host: directHost(r)}
	if r.TLS != nil || r.URL != nil && strings.EqualFold(r.URL.Scheme, "https") {
		o.Scheme = "https"
	}
	peer := parseRemoteAddr(r.RemoteAddr)
	o.Client = peer
	if !t.Trusts(peer) {
		return o
	}
	if fw := r.Header["Forwarded"]; len(fw) > 0 {
		if t.resolveForwarded(&o, fw) {
			return o
		}
	}
	t.resolveXForwarded(&o, r.Header)
	return o
}

// directHost is the host the request names without any proxy: r.Host,
// the absolute URI's host, or the local address of the connection.
func directHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil && r.URL.Host != "" {
		return r.URL.Host
	}
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return ""
	}
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return ""
	}
	ap := tcp.AddrPort()
	if ap.Addr().Zone() != "" || !ap.Addr().IsValid() {
		return "" // "[fe80::1%eth0]" is no URL host a browser takes
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

// parseRemoteAddr reads RemoteAddr ("ip:port", "[ip6]:port" or a bare
// address); the zero Addr when it holds no IP address.
func parseRemoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// fwdElement is one element (hop) of a Forwarded header.
type fwdElement struct {
	forAddr     netip.Addr // invalid: no for=, "unknown", obfuscated or bad
	proto, host string     // as sent; "" when absent
	hasProto    bool
	hasHost     bool
}

// resolveForwarded applies the Forwarded lines to o; false when they
// hold no element (empty lines), so X-Forwarded-* is used.
func (t TrustedProxies) resolveForwarded(o *Origin, lines []string) bool {
	var els []fwdElement
	for _, line := range lines {
		els = appendForwarded(els, line)
	}
	if len(els) == 0 {
		return false
	}
	i := len(els) - 1
	for i > 0 && t.Trusts(els[i].forAddr) {
		i--
	}
	o.Proxied = true
	o.Client = els[i].forAddr
	scheme := o.Scheme
	for j := i; j < len(els); j++ {
		if els[j].hasProto {
			if p, ok := cleanProto(els[j].proto); ok {
				scheme = p
			}
			break
		}
	}
	o.Scheme = scheme
	for j := i; j < len(els); j++ {
		if els[j].hasHost {
			if h, ok := cleanHost(els[j].host, "", scheme); ok {
				o.Host = h
			}
			break
		}
	}
	return true
}

// appendForwarded parses one Forwarded header line (RFC 7239 section 4:
// comma-separated elements of semicolon-separated name=value pairs, a
// value a token or a quoted string) and appends its elements. A malformed
// element is kept as a hop of unknown address, and parsing resumes after
// the first comma following its start, so that text a client sent cannot
// hide (by an open quote) the element a proxy appended after it.
func appendForwarded(els []fwdElement, line string) []fwdElement {
	pos := 0
	for pos < len(line) {
		el, next, ok := parseElement(line, pos)
		if !ok {
			el = fwdElement{}
			c := strings.IndexByte(line[pos:], ',')
			if c < 0 {
				next = len(line)
			} else {
				next = pos + c + 1
			}
		}
		if ok && next == -1 { // an empty element (",,"): no hop
			next = pos
			for next < len(line) && line[next] != ',' {
				next++
			}
			if next < len(line) {
				next++
			}
		} else {
			els = append(els, el)
		}
		pos = next
	}
	return els
}

// parseElement parses the element starting at line[pos:]. It returns the
// element, the position after its comma (len(line) at the end), and false
// when it is malformed; next is -1 for an empty element.
func parseElement(line string, pos int) (el fwdElement, next int, ok bool) {
	i := skipOWS(line, pos)
	if i >= len(line) || line[i] == ',' {
		return el, -1, true
	}
	for {
		i = skipOWS(line, i)
		start := i
		for i < len(line) && isTchar(line[i]) {
			i++
		}
		name := line[start:i]
		if name == "" || i >= len(line) || line[i] != '=' {
			return el, 0, false
		}
		i++
		var val string
		if i < len(line) && line[i] == '"' {
			v, next, ok := quotedString(line, i)
			if !ok {
				return el, 0, false
			}
			val, i = v, next
		} else {
			start := i
			for i < len(line) && isTchar(line[i]) {
				i++
			}
			val = line[start:i]
			if val == "" {
				return el, 0, false
			}
		}
		switch {
		case strings.EqualFold(name, "for"):
			el.forAddr = parseNode(val)
		case strings.EqualFold(name, "proto"):
			el.proto, el.hasProto = val, true
		case strings.EqualFold(name, "host"):
			el.host, el.hasHost = val, true
		}
		i = skipOWS(line, i)
		if i >= len(line) {
			return el, len(line), true
		}
		switch line[i] {
		case ';':
			i++
		case ',':
			return el, i + 1, true
		default:
			return el, 0, false
		}
	}
}

// quotedString reads the quoted string starting at line[i] (a '"'): its
// value with escapes resolved, the position after it, and false when it
// is not closed.
func quotedString(line string, i int) (string, int, bool) {
	i++
	if end := strings.IndexByte(line[i:], '"'); end >= 0 && strings.IndexByte(line[i:i+end], '\\') < 0 {
		return line[i : i+end], i + end + 1, true // no escapes: the value as it is
	}
	var b strings.Builder
	for i < len(line) {
		c := line[i]
		if c == '\\' && i+1 < len(line) {
			b.WriteByte(line[i+1])
			i += 2
			continue
		}
		if c == '"' {
			return b.String(), i + 1, true
		}
		b.WriteByte(c)
		i++
	}
	return "", 0, false
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTchar reports whether c is an RFC 9110 token character.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// parseNode reads a node (a Forwarded for= value or an X-Forwarded-For
// entry): an IPv4 address with an optional port, an IPv6 address in
// brackets with an optional port, or a bare IPv6 address. "unknown", an
// obfuscated identifier ("_hidden") and anything else give the zero Addr.
func parseNode(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}
		}
		rest := s[end+1:]
		if rest != "" && (rest[0] != ':' || !validNodePort(rest[1:])) {
			return netip.Addr{}
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}
		}
		return a.Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap()
	}
	host, port, ok := strings.Cut(s, ":")
	if !ok || !validNodePort(port) {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		return netip.Addr{}
	}
	return a
}

// validNodePort reports whether p is a node port: a number, or an
// obfuscated port ("_abc").
func validNodePort(p string) bool {
	if p == "" {
		return false
	}
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			if c := p[i]; !(c == '.' || c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && len(p) <= 5
}

// cleanProto accepts "http" and "https" (any case).
func cleanProto(p string) (string, bool) {
	p = strings.TrimSpace(p)
	switch {
	case strings.EqualFold(p, "https"):
		return "https", true
	case strings.EqualFold(p, "http"):
		return "http", true
	}
	return "", false
}

// cleanHost checks a forwarded host ("example.com", "example.com:8443",
// "[2001:db8::1]:443"), adds port when the host has none, and drops a
// port that is scheme's default. It refuses a host a browser would read
// otherwise: controls, spaces, user info, a path, a query, a bad port.
func cleanHost(h, port, scheme string) (string, bool) {
	h = strings.TrimSpace(h)
	if h == "" || len(h) > 255 {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`@/\?#%"<>^{|}`+"`", c) >= 0 {
			return "", false
		}
	}
	name, p := h, ""
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", false
		}
		if a, err := netip.ParseAddr(h[1:end]); err != nil || !a.Is6() {
			return "", false
		}
		name, p = h[:end+1], h[end+1:]
		if p != "" {
			if p[0] != ':' {
				return "", false
			}
			p = p[1:]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		name, p = h[:i], h[i+1:]
	}
	if name == "" || name[0] != '[' && strings.ContainsAny(name, "[]") {
		return "", false
	}
	if p == "" && port != "" {
		p = port
	}
	if p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || len(p) > 5 {
			return "", false
		}
	}
	if p == "" || scheme == "https" && p == "443" || scheme == "http" && p == "80" {
		return name, true
	}
	return name + ":" + p, true
}

// resolveXForwarded applies X-Forwarded-For, -Proto, -Host and -Port to o
// (Proxied when any of them is present).
func (t TrustedProxies) resolveXForwarded(o *Origin, h http.Header) {
	fors := listValues(h["X-Forwarded-For"])
	protos := listValues(h["X-Forwarded-Proto"])
	hosts := listValues(h["X-Forwarded-Host"])
	ports := listValues(h["X-Forwarded-Port"])
	if len(fors)+len(protos)+len(hosts)+len(ports) == 0 {
		return
	}
	o.Proxied = true
	idx := -1 // the client's position in X-Forwarded-For
	if len(fors) > 0 {
		idx = len(fors) - 1
		for idx > 0 && t.Trusts(parseNode(fors[idx])) {
			idx--
		}
		o.Client = parseNode(fors[idx])
	}
	pick := func(vs []string) (string, bool) {
		switch {
		case len(vs) == 0:
			return "", false
		case len(vs) == len(fors):
			return vs[idx], true
		}
		return vs[len(vs)-1], true
	}
	if v, ok := pick(protos); ok {
		if p, ok := cleanProto(v); ok {
			o.Scheme = p
		}
	}
	port, hasPort := pick(ports)
	if hasPort {
		port = strings.TrimSpace(port)
	}
	if v, ok := pick(hosts); ok {
		if hst, ok := cleanHost(v, port, o.Scheme); ok {
			o.Host = hst
		}
	} else if hasPort && o.Host != "" {
		name := o.Host
		if hn, _, err := net.SplitHostPort(o.Host); err == nil {
			name = hn
			if strings.Contains(hn, ":") {
				name = "[" + hn + "]"
			}
		}
		if hst, ok := cleanHost(name, port, o.Scheme); ok {
			o.Host = hst
		}
	}
}

// listValues splits comma-separated header lines into trimmed values,
// in order (an empty value is kept, so that positions line up).
func listValues(lines []string) []string {
	if len(lines) == 0 {
		return nil
	}
	if len(lines) == 1 && strings.IndexByte(lines[0], ',') < 0 && strings.TrimSpace(lines[0]) == lines[0] {
		return lines // the common case: one value, nothing to copy
	}
	n := 0
	for _, l := range lines {
		n += strings.Count(l, ",") + 1
	}
	out := make([]string, 0, n)
	for _, l := range lines {
		for v := range strings.SplitSeq(l, ",") {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// Secure is a cookie's secure option (auth_tkt's, the form's CSRF
// cookie's, the session cookie's): SecureAuto, the zero value and the
// default, sets the Secure attribute when the request, as the client saw
// it (RequestOrigin), is https; SecureAlways and SecureNever force it. In
// who.toml it is `secure = true`, `secure = false` or `secure = "auto"`.
type Secure int8

// The Secure values.
const (
	SecureAuto Secure = iota
	SecureAlways
	SecureNever
)

// SecureOf returns SecureAlways for true and SecureNever for false, for a
// Go caller that has a bool.
func SecureOf(b bool) Secure {
	if b {
		return SecureAlways
	}
	return SecureNever
}

// For reports whether a cookie set in the response to r gets the Secure
// attribute.
func (s Secure) For(r *http.Request) bool {
	switch s {
	case SecureAlways:
		return true
	case SecureNever:
		return false
	}
	return RequestOrigin(r).Scheme == "https"
}

// ForTLS is For when only a connection state is known (nil: plain HTTP),
// for code that has no request.
func (s Secure) ForTLS(cs *tls.ConnectionState) bool {
	switch s {
	case SecureAlways:
		return true
	case SecureNever:
		return false
	}
	return cs != nil
}

// String gives "auto", "true" or "false".
func (s Secure) String() string {
	switch s {
	case SecureAlways:
		return "true"
	case SecureNever:
		return "false"
	}
	return "auto"
}

// MarshalText writes "auto", "true" or "false".
func (s Secure) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "auto", "true" or "false" (any case; also "yes",
// "no", "on", "off", "1", "0", as repoze.who's ini files wrote booleans).
func (s *Secure) UnmarshalText(b []byte) error {
	switch strings.ToLower(strings.TrimSpace(string(b))) {
	case "auto", "":
		*s = SecureAuto
	case "true", "yes", "on", "1":
		*s = SecureAlways
	case "false", "no", "off", "0":
		*s = SecureNever
	default:
		return fmt.Errorf("bad secure %q: write true, false or \"auto\" (Secure when the request is https, as the client saw it)", b)
	}
	return nil
}

// UnmarshalTOML reads a TOML boolean or the string "auto" ("true" and
// "false" as strings too).
func (s *Secure) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case bool:
		*s = SecureOf(x)
		return nil
	case string:
		return s.UnmarshalText([]byte(x))
	}
	return fmt.Errorf("bad secure %v (%T): write true, false or \"auto\"", v, v)
}
