package gateway

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/who"
)

// A Verdict is what the rules say about one request.
type Verdict int

// The verdicts, from the most to the least permissive.
const (
	// Allow: the request goes on (anonymous or not).
	Allow Verdict = iota
	// NeedLogin: an anonymous request gets the chain's challenge.
	NeedLogin
	// Forbidden: a logged-in user outside the rule's groups gets a 403.
	Forbidden
)

func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case NeedLogin:
		return "login needed"
	case Forbidden:
		return "forbidden"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// A Match names the rules that apply to a request, one per view of its
// path (see matchPaths) and per method it may be read as (see
// Config.MatchRequest): the same rule for an ordinary request, different
// ones for a path that a decoding, case-folding or slash-merging upstream
// reads otherwise ("%2F", "..;", "a//../b", "/ADMIN") or for a request
// carrying a method override. Index -1 is the default (a login needed).
type Match struct {
	// Rules holds the index of the rule each view matched, without
	// repeats, the raw path's first.
	Rules []int
	rules []Rule
	// methods are the methods the request was read as, when more than
	// its own ("" standing for one no rule names).
	methods []string
}

// Match returns the rules that apply to method and escapedPath (a
// request's URL.EscapedPath(), or the path part of a request URI). A
// request that may carry a method override is matched with MatchRequest.
func (c *Config) Match(method, escapedPath string) Match {
	m := Match{rules: c.Rules}
	if c.plainRules && plainPath(escapedPath) {
		// Every view is the path itself: the common case, without work.
		m.Rules = []int{c.first(method, escapedPath, viewRaw)}
		return m
	}
	m.Rules = c.appendMatches(make([]int, 0, 2), method, matchPaths(escapedPath))
	return m
}

// appendMatches appends to idx the rule each view matches for method,
// without repeats.
func (c *Config) appendMatches(idx []int, method string, views [6]string) []int {
	for i, v := range views {
		if i%2 == 1 && v == views[i-1] {
			continue // the same view of the same kind
		}
		idx0 := c.first(method, v, i/2)
		if !slices.Contains(idx, idx0) {
			idx = append(idx, idx0)
		}
	}
	return idx
}

// The kinds of view matchPaths gives, two of each.
const (
	viewRaw     = iota // the path as sent
	viewDecoded        // %-decoded, backslashes as slashes, ;params cut
	viewFolded         // decoded, then case-folded, trailing dots and spaces trimmed
)

// overrideHeaders are the request headers frameworks take a method from
// in place of the request line's: Express's method-override,
// Symfony/Laravel (X-HTTP-Method-Override), Google's and OData's APIs
// (X-HTTP-Method), Rails' and others' plugins (X-Method-Override).
var overrideHeaders = []string{"X-Http-Method-Override", "X-Method-Override", "X-Http-Method"}

// MatchRequest returns the rules that apply to r (its Method and
// URL.EscapedPath()), read as every method an upstream may run it as:
// its own, each value of X-HTTP-Method-Override, X-Method-Override and
// X-HTTP-Method, each _method query parameter (Symfony, Laravel; PHP's
// spellings ".method" and " method" too), and, for a POST whose body may
// be a form (no Content-Type, application/x-www-form-urlencoded or
// multipart/form-data: Rails, Laravel and Symfony read _method from it)
// or JSON (Laravel reads it there too), every method: the gateway does
// not read bodies. More than maxReadMethods methods count as every
// method. The verdict is the strictest of them: a `methods = ["GET"]`
// public rule never lets through a request the upstream runs as DELETE.
func (c *Config) MatchRequest(r *http.Request) Match {
	path := r.URL.EscapedPath()
	methods, every := readMethods(r)
	if len(methods) == 1 && !every {
		return c.Match(r.Method, path)
	}
	if every {
		for _, rule := range c.Rules {
			for _, rm := range rule.Methods {
				if !slices.ContainsFunc(methods, func(s string) bool { return strings.EqualFold(s, rm) }) {
					methods = append(methods, rm)
				}
			}
		}
		methods = append(methods, "") // a method no rule names
	}
	m := Match{rules: c.Rules, methods: methods, Rules: make([]int, 0, 2)}
	views := matchPaths(path)
	for _, meth := range methods {
		m.Rules = c.appendMatches(m.Rules, meth, views)
	}
	return m
}

// maxReadMethods bounds the methods readMethods collects: a request
// naming more is read as every method, so that a header of a million
// distinct values costs no quadratic work.
const maxReadMethods = 16

// readMethods returns the methods r names (its own first, then the
// overrides, without repeats), and whether its body may name any other
// (a form POST).
func readMethods(r *http.Request) (methods []string, every bool) {
	methods = []string{r.Method}
	add := func(v string) {
		v = strings.TrimSpace(v)
		if v == "" || every || slices.ContainsFunc(methods, func(s string) bool { return strings.EqualFold(s, v) }) {
			return
		}
		if len(methods) == maxReadMethods {
			every = true // so many that any may be the one read: bounded work
			return
		}
		methods = append(methods, v)
	}
	for _, k := range overrideHeaders {
		for _, line := range r.Header[k] {
			add(line)
			for v := range strings.SplitSeq(line, ",") {
				if every {
					break
				}
				add(v)
			}
		}
	}
	if r.URL.RawQuery != "" {
		for piece := range strings.FieldsFuncSeq(r.URL.RawQuery, func(c rune) bool { return c == '&' || c == ';' }) {
			k, v, _ := strings.Cut(piece, "=")
			if !isMethodParam(k) {
				continue
			}
			if every {
				break
			}
			d, err := url.QueryUnescape(v)
			if err != nil {
				every = true // a value no one reads alike
				continue
			}
			add(d)
		}
	}
	if strings.EqualFold(r.Method, http.MethodPost) && formBody(r.Header) {
		every = true
	}
	return methods, every
}

// isMethodParam reports whether the query key k (raw) is _method as PHP
// reads it: %-decoded, leading spaces dropped, " ", "." and "[" as "_",
// any case.
func isMethodParam(k string) bool {
	if len(k) < len("_method") {
		return false
	}
	if d, err := url.QueryUnescape(k); err == nil {
		k = d
	}
	k = strings.TrimLeft(k, " ")
	if len(k) != len("_method") {
		return false
	}
	if c := k[0]; c != '_' && c != ' ' && c != '.' && c != '[' {
		return false
	}
	return strings.EqualFold(k[1:], "method")
}

// formBody reports whether a POST with header h may carry a body that
// names a method: a form (Rack reads a POST without a Content-Type as
// one; a type that does not parse counts too), or JSON (Laravel puts a
// JSON body where Symfony looks for _method).
func formBody(h http.Header) bool {
	cts := h["Content-Type"]
	if len(cts) == 0 {
		return true
	}
	for _, ct := range cts {
		mt, _, _ := strings.Cut(ct, ";")
		switch mt = strings.ToLower(strings.TrimSpace(mt)); {
		case mt == "", mt == "application/x-www-form-urlencoded", mt == "multipart/form-data":
			return true
		case strings.Contains(mt, "/json"), strings.Contains(mt, "+json"):
			return true // Laravel reads a JSON body's _method (Request::isJson)
		}
	}
	return false
}

// plainPath reports whether every view of p (matchPaths) is p itself:
// an absolute ASCII path without "%", "\\", ";", "//", a capital letter,
// a segment starting with "." or ending with "." or a space.
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '%', c == '\\', c == ';', c >= 0x80, 'A' <= c && c <= 'Z':
			return false
		case c == '/':
			if i+1 < len(p) && (p[i+1] == '/' || p[i+1] == '.') {
				return false
			}
		case c == '.' || c == ' ':
			if i+1 == len(p) || p[i+1] == '/' {
				return false
			}
		}
	}
	return true
}

// plainRule reports whether a rule path matches every view as it matches
// the raw one: its decoded and folded forms are itself.
func plainRule(p string) bool {
	return !strings.ContainsAny(p, "%;") && foldPath(p) == p
}

// matchPaths returns the views of a request path that rules are matched
// on, each with its dot segments resolved as a browser or proxy does
// ("%2e" is a dot): the escaped path with runs of slashes merged first
// (as nginx, Apache and Go's ServeMux do) and without; then the same two
// of the path %-decoded, backslashes read as slashes (as IIS does) and
// ";params" cut from every segment (as Tomcat and Jetty read
// "/public/..;/admin"): what an upstream that decodes before routing
// sees; then the same two of that folded (foldPath), as a
// case-insensitive router (Express, ASP.NET, IIS) or a Windows file
// system reads it. A path that does not %-decode gives its raw views
// again.
func matchPaths(escaped string) [6]string {
	if escaped == "" {
		escaped = "/"
	}
	var v [6]string
	v[0] = collapse(origin.RemoveDotSegments(collapse("/" + escaped)))
	v[1] = collapse(origin.RemoveDotSegments("/" + strings.TrimLeft(escaped, "/")))
	d, err := url.PathUnescape(escaped)
	if err != nil {
		d = escaped
	}
	d = strings.ReplaceAll(d, `\`, "/")
	segs := strings.Split(d, "/")
	for i, s := range segs {
		if j := strings.IndexByte(s, ';'); j >= 0 {
			segs[i] = s[:j]
		}
	}
	d = strings.Join(segs, "/")
	v[2] = collapse(origin.RemoveDotSegments(collapse("/" + d)))
	v[3] = collapse(origin.RemoveDotSegments("/" + strings.TrimLeft(d, "/")))
	f := foldPath(d)
	v[4] = collapse(origin.RemoveDotSegments(collapse("/" + f)))
	v[5] = collapse(origin.RemoveDotSegments("/" + strings.TrimLeft(f, "/")))
	return v
}

// foldPath folds a decoded path as case-insensitive routers and Windows
// read it: letters to lower case (a non-ASCII one whose upper or lower
// case is ASCII, as "ı", "ſ" or the Kelvin sign, to that letter: .NET's
// OrdinalIgnoreCase matches them), and the trailing dots and spaces of
// each segment trimmed ("admin." and "admin " are "admin" to IIS); a
// segment of dots alone stays a dot segment.
func foldPath(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i, seg := range strings.Split(p, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		t := strings.TrimRight(seg, ". ")
		if t == "" && strings.Contains(seg, ".") {
			if strings.Count(seg, ".") >= 2 {
				t = ".."
			} else {
				t = "."
			}
		}
		for j := 0; j < len(t); {
			c := t[j]
			if c < utf8.RuneSelf {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
				j++
				continue
			}
			r, n := utf8.DecodeRuneInString(t[j:])
			if r == utf8.RuneError && n == 1 {
				b.WriteByte(c)
				j++
				continue
			}
			switch u, l := unicode.ToUpper(r), unicode.ToLower(r); {
			case u < utf8.RuneSelf:
				b.WriteRune(unicode.ToLower(u))
			default:
				b.WriteRune(l)
			}
			j += n
		}
	}
	return b.String()
}

// collapse turns runs of slashes into one: "//admin" is "/admin" to most
// routers.
func collapse(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// first is the index of the first rule matching method and path, a view
// of the given kind (the rule's path decoded, and folded, to match the
// views that are), or -1.
func (c *Config) first(method, path string, kind int) int {
	for i, r := range c.Rules {
		prefix := r.Path
		if kind != viewRaw {
			if d, err := url.PathUnescape(prefix); err == nil {
				prefix = d
			}
			if kind == viewFolded {
				prefix = foldPath(prefix)
			}
		}
		if r.matches(method, prefix, path) {
			return i
		}
	}
	return -1
}

func (r *Rule) matches(method, prefix, path string) bool {
	if len(r.Methods) > 0 && !r.hasMethod(method) {
		return false
	}
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix) || path+"/" == prefix
	}
	return path == prefix || strings.HasPrefix(path, prefix) && path[len(prefix)] == '/'
}

// hasMethod reports whether the rule's methods (upper case) hold method,
// read as upstreams read it: case-insensitively (Werkzeug, Rails and
// Express take "delete" for DELETE), and HEAD as GET (Go's ServeMux,
// Werkzeug and Django answer HEAD with the GET handler).
func (r *Rule) hasMethod(method string) bool {
	for _, m := range r.Methods {
		if strings.EqualFold(m, method) || m == "GET" && strings.EqualFold(method, "HEAD") {
			return true
		}
	}
	return false
}

// Verdict is what the matched rules say about res (nil: anonymous): the
// strictest of them, so every view of the path must allow.
func (m Match) Verdict(res *who.Result, groupsKey string) Verdict {
	v := Allow
	for _, i := range m.Rules {
		v = max(v, m.verdict(i, res, groupsKey))
	}
	return v
}

func (m Match) verdict(i int, res *who.Result, groupsKey string) Verdict {
	if i < 0 {
		if res == nil {
			return NeedLogin
		}
		return Allow
	}
	r := m.rules[i]
	switch {
	case r.Access == AccessPublic:
		return Allow
	case res == nil:
		return NeedLogin
	case len(r.Groups) > 0 && !inGroups(res.Identity[groupsKey], r.Groups):
		return Forbidden
	}
	return Allow
}

// inGroups reports whether v, an identity's groups ([]string, []any of
// strings, or one string), holds one of want.
func inGroups(v any, want []string) bool {
	switch g := v.(type) {
	case string:
		return slices.Contains(want, g)
	case []string:
		for _, s := range g {
			if slices.Contains(want, s) {
				return true
			}
		}
	case []any:
		for _, e := range g {
			if s, ok := e.(string); ok && slices.Contains(want, s) {
				return true
			}
		}
	}
	return false
}

// String names the rule (or rules) of m, for `who explain` and logs:
// `rule 2 (path "/admin", groups ["admins"])`.
func (m Match) String() string {
	parts := make([]string, len(m.Rules))
	for i, r := range m.Rules {
		parts[i] = m.describe(r)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	by := "by the views of the path (raw, decoded, folded, slashes merged or not)"
	if len(m.methods) > 1 {
		names := make([]string, len(m.methods))
		for i, s := range m.methods {
			names[i] = cmp.Or(s, "any other")
		}
		by += " and the methods it may be read as (" + strings.Join(names, ", ") + ")"
	}
	return strings.Join(parts, " and ") + ", " + by + ": every one must allow"
}

func (m Match) describe(i int) string {
	if i < 0 {
		return "no rule: the default, a login is needed"
	}
	r := m.rules[i]
	var b strings.Builder
	fmt.Fprintf(&b, "rule %d (path %q", i+1, r.Path)
	if len(r.Methods) > 0 {
		fmt.Fprintf(&b, ", methods %q", r.Methods)
	}
	switch {
	case r.Access == AccessPublic:
		b.WriteString(", public")
	case len(r.Groups) > 0:
		fmt.Fprintf(&b, ", groups %q", r.Groups)
	default:
		b.WriteString(", authenticated")
	}
	b.WriteString(")")
	return b.String()
}
