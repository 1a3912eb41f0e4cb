package who

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// DeleteHeaderFolded removes from h every header whose name equals name after
// case folding and treating '_' and '-' alike. CGI (net/http/cgi), WSGI and
// many proxies map both "Remote-User" and "Remote_User" to HTTP_REMOTE_USER,
// so a header gowho sets for a downstream application is only trustworthy
// when every spelling of it a client could send has been removed first.
// Every identity header gowho sets goes through this rule.
func DeleteHeaderFolded(h http.Header, name string) {
	for k := range h {
		if HeaderNamesMatch(k, name) {
			delete(h, k)
		}
	}
}

// HeaderNamesMatch reports whether a and b name the same header under the
// rule of DeleteHeaderFolded (case folded, '_' and '-' alike).
func HeaderNamesMatch(a, b string) bool {
	// Header names are ASCII tokens: compare without allocating, and fall
	// back to Unicode case folding only for a non-ASCII byte.
	if len(a) != len(b) {
		if isASCII(a) && isASCII(b) {
			return false
		}
		return foldHeaderName(a) == foldHeaderName(b)
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca >= utf8.RuneSelf || cb >= utf8.RuneSelf {
			return foldHeaderName(a) == foldHeaderName(b)
		}
		if foldHeaderByte(ca) != foldHeaderByte(cb) {
			return false
		}
	}
	return true
}

func foldHeaderByte(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + ('a' - 'A')
	case c == '_':
		return '-'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func foldHeaderName(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "_", "-"))
}

// DefaultMaxPasswordBytes is the default of every password-checking plugin's
// max_password_bytes option: a longer password is answered "no" without
// being hashed, so an unauthenticated client cannot buy seconds of CPU with a
// megabyte-long password against a slow hash.
const DefaultMaxPasswordBytes = 1024

// PreventSharedCaching marks a response that carries a login or session
// cookie as not for shared caches: "Cache-Control: private" unless the
// application already said "no-store" or "private" (a "public" directive is
// dropped), and "Vary: Cookie" so a cache never serves one user's answer to
// another. Call it on the response headers before they are written,
// wherever gowho adds a Set-Cookie.
func PreventSharedCaching(h http.Header) {
	cc := h.Values("Cache-Control")
	private := false
	var kept []string
	for _, line := range cc {
		for _, d := range strings.Split(line, ",") {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			name := strings.ToLower(d)
			if i := strings.IndexByte(name, '='); i >= 0 {
				name = strings.TrimSpace(name[:i])
			}
			switch name {
			case "no-store", "private":
				private = true
			case "public":
				continue
			}
			kept = append(kept, d)
		}
	}
	if !private {
		kept = append([]string{"private"}, kept...)
	}
	h.Set("Cache-Control", strings.Join(kept, ", "))
	for _, line := range h.Values("Vary") {
		for _, v := range strings.Split(line, ",") {
			v = strings.TrimSpace(v)
			if v == "*" || strings.EqualFold(v, "Cookie") {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}
