package gateway

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

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
// path (see matchPaths): the same rule for an ordinary path, different
// ones for a path that a decoding upstream or one merging slashes reads
// otherwise ("%2F", "..;", "a//../b"). Index -1 is the default (a login
// needed).
type Match struct {
	// Rules holds the index of the rule each view matched, without
	// repeats, the raw path's first.
	Rules []int
	rules []Rule
}

// Match returns the rules that apply to method and escapedPath (a
// request's URL.EscapedPath(), or the path part of a request URI).
func (c *Config) Match(method, escapedPath string) Match {
	m := Match{rules: c.Rules}
	if plainPath(escapedPath) {
		// Every view is the path itself: the common case, without work.
		m.Rules = []int{c.first(method, escapedPath, false)}
		return m
	}
	views := matchPaths(escapedPath)
	m.Rules = make([]int, 0, 2)
	for i, v := range views {
		if i > 0 && v == views[i-1] {
			continue
		}
		idx := c.first(method, v, i >= 2)
		if !slices.Contains(m.Rules, idx) {
			m.Rules = append(m.Rules, idx)
		}
	}
	return m
}

// plainPath reports whether every view of p (matchPaths) is p itself:
// an absolute path without "%", "\\", ";", "//" or a segment starting
// with ".".
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%', '\\', ';':
			return false
		case '/':
			if i+1 < len(p) && (p[i+1] == '/' || p[i+1] == '.') {
				return false
			}
		}
	}
	return true
}

// matchPaths returns the views of a request path that rules are matched
// on, each with its dot segments resolved as a browser or proxy does
// ("%2e" is a dot): the escaped path with runs of slashes merged first
// (as nginx, Apache and Go's ServeMux do) and without; then the same two
// of the path %-decoded, backslashes read as slashes (as IIS does) and
// ";params" cut from every segment (as Tomcat and Jetty read
// "/public/..;/admin"): what an upstream that decodes before routing
// sees. A path that does not %-decode gives its raw views again.
func matchPaths(escaped string) [4]string {
	if escaped == "" {
		escaped = "/"
	}
	var v [4]string
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
	return v
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

// first is the index of the first rule matching method and path (the
// decoded view when decoded), or -1.
func (c *Config) first(method, path string, decoded bool) int {
	for i, r := range c.Rules {
		prefix := r.Path
		if decoded {
			if d, err := url.PathUnescape(prefix); err == nil {
				prefix = d
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
	return strings.Join(parts, " and ") + ", by the views of the path (raw, decoded, slashes merged or not): every one must allow"
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
