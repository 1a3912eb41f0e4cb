package form

import (
	"net/http"
	"net/url"
	"strings"
)

// SafeRedirect returns target when it is safe to redirect the request r
// there: a path on this site ("/x", never "//host", "/\host" or anything
// a browser could read as another host), or an absolute http(s) URL whose
// host is r.Host or one of allowedHosts, without user info. Anything else,
// including control characters, backslashes, whitespace and encoded
// variants of those, gives fallback.
func SafeRedirect(r *http.Request, target string, allowedHosts []string, fallback string) string {
	if target == "" || len(target) > 4096 {
		return fallback
	}
	if !cleanRef(target) {
		return fallback
	}
	// Decoded forms must be clean too: "/%2F%2Fevil", "/%5Cevil", "%09".
	if dec, err := url.PathUnescape(target); err != nil || !cleanRef(dec) || strings.HasPrefix(dec, "//") {
		return fallback
	}
	u, err := url.Parse(target)
	if err != nil || u.Opaque != "" || u.User != nil {
		return fallback
	}
	if u.Scheme == "" && u.Host == "" {
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
			return fallback
		}
		return target
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || !strings.HasPrefix(target, u.Scheme+"://") {
		return fallback
	}
	host := strings.ToLower(u.Host)
	if host == strings.ToLower(r.Host) {
		return target
	}
	for _, h := range allowedHosts {
		if host == strings.ToLower(h) || strings.ToLower(u.Hostname()) == strings.ToLower(h) {
			return target
		}
	}
	return fallback
}

// cleanRef refuses control characters, spaces, backslashes and non-ASCII,
// which browsers strip or reinterpret.
func cleanRef(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
