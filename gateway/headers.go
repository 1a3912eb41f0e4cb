package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gowho/gowho/who"
)

// alwaysStripped are identity headers other front ends set, removed from
// every request whatever user_header says, so that an upstream reading
// one of them (a WSGI application reading HTTP_REMOTE_USER) never takes a
// client's word for it.
var alwaysStripped = []string{"Remote-User", "X-Forwarded-User"}

// identityHeaders are the header names the gateway strips: user_header,
// one per pass_identity key, X-Who-Assertion and alwaysStripped.
func (c *Config) identityHeaders() []string {
	out := []string{http.CanonicalHeaderKey(c.UserHeader), AssertionHeader}
	out = append(out, alwaysStripped...)
	for _, k := range c.PassIdentity {
		out = append(out, passHeader(k))
	}
	return out
}

// stripIdentity removes from h every header whose name equals one of
// names after case folding and '_'/'-' folding (who.DeleteHeaderFolded):
// "X_Remote_User", "x-remote-user" and "X-REMOTE_USER" all go.
//
// names are ASCII (header names checked at load): an ASCII key of another
// length matches none, which skips the comparison for most headers of
// most requests.
func stripIdentity(h http.Header, names []string) {
	for k := range h {
		ascii := isASCII(k)
		for _, n := range names {
			if ascii && len(k) != len(n) {
				continue
			}
			if who.HeaderNamesMatch(k, n) {
				delete(h, k)
				break
			}
		}
	}
}

// forwardingHeaders are the headers reverse-proxy mode sets itself
// (httputil.ProxyRequest.SetXForwarded, and X-Forwarded-Port and
// X-Real-Ip an upstream may read). Another spelling of one of them from
// the client ("X-Forwarded_For") is removed: a CGI or old WSGI server
// reads it as HTTP_X_FORWARDED_FOR, the client's choice of address.
var forwardingHeaders = []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Real-Ip"}

// stripForwardingSpellings removes from h every header that folds to one
// of forwardingHeaders but is not spelled as it (who.HeaderNamesMatch).
func stripForwardingSpellings(h http.Header) {
	for k := range h {
		for _, n := range forwardingHeaders {
			if k != n && len(k) == len(n) && who.HeaderNamesMatch(k, n) {
				delete(h, k)
				break
			}
		}
	}
}

// badHeaderValue reports whether v cannot go in a header value as it is:
// a control character (CR, LF, NUL, ...) would split or end the header.
func badHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// identityValue is the header value of an identity value: a string as
// it is, a list joined by ",", a number or bool printed; ok is false for
// what cannot be sent (a map, a list item holding a comma or a control
// character, a value with a control character).
func identityValue(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []string:
		for _, e := range x {
			if strings.Contains(e, ",") {
				return "", false
			}
		}
		s = strings.Join(x, ",")
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			es, ok := e.(string)
			if !ok || strings.Contains(es, ",") {
				return "", false
			}
			parts = append(parts, es)
		}
		s = strings.Join(parts, ",")
	case bool:
		s = strconv.FormatBool(x)
	case int, int64, float64:
		s = fmt.Sprint(x)
	default:
		return "", false
	}
	return s, !badHeaderValue(s)
}

// isASCII reports whether s holds only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
