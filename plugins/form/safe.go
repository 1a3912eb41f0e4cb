package form

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gowho/gowho/internal/origin"
)

// SafeRedirect returns target when it is safe to redirect the request r
// there: a path on this site ("/x", never "//host", "/\host", "/.//host"
// or anything a browser could read as another host), or an absolute
// http(s) URL whose host is r.Host or one of allowedHosts, without user
// info. Anything else, including control characters, backslashes,
// whitespace and encoded variants of those, gives fallback.
//
// A path whose dot segments resolve (as a browser resolves them, "%2e"
// included, on the raw and on the %-decoded path) to one starting with
// "//" is refused: "/.//evil", "/a/..//evil", "/%2e//evil".
//
// When r came over HTTPS (r.TLS set, or an X-Forwarded-Proto or Forwarded
// header saying https, which can only make the check stricter) an
// http:// target is refused, for this host and allowed hosts alike: a
// login must not send the browser to plain HTTP.
func SafeRedirect(r *http.Request, target string, allowedHosts []string, fallback string) string {
	if target == "" || len(target) > 4096 {
		return fallback
	}
	// Neither the target nor its %-decoded form (a server that decodes
	// before redirecting again) may hold a byte a browser strips or
	// reinterprets: "/%5Cevil", "%09".
	dec, err := url.PathUnescape(target)
	if err != nil || !cleanRef(target) || !cleanRef(dec) {
		return fallback
	}
	u, err := url.Parse(target)
	if err != nil || u.Opaque != "" || u.User != nil {
		return fallback
	}
	if u.Scheme == "" && u.Host == "" {
		// The one rule of a local target: a path whose dot segments,
		// resolved as a browser does on the raw path and on the decoded
		// one, never leave "//" in front ("//evil", "///evil",
		// "/%2F%2Fevil", "/.//evil", "/a%2Fb/..//evil" all do).
		raw, _, _ := strings.Cut(target, "?")
		raw, _, _ = strings.Cut(raw, "#")
		decPath, err := url.PathUnescape(raw)
		if err != nil || !strings.HasPrefix(raw, "/") ||
			strings.HasPrefix(origin.RemoveDotSegments(raw), "//") ||
			strings.HasPrefix(origin.RemoveDotSegments(decPath), "//") {
			return fallback
		}
		return target
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || !strings.HasPrefix(target, u.Scheme+"://") {
		return fallback
	}
	if u.Scheme == "http" && isHTTPS(r) {
		return fallback
	}
	if strings.EqualFold(u.Host, r.Host) {
		return target
	}
	for _, h := range allowedHosts {
		if strings.EqualFold(u.Host, h) || strings.EqualFold(u.Hostname(), h) {
			return target
		}
	}
	return fallback
}

// isHTTPS reports whether r came over HTTPS, to this server or (by the
// forwarding headers) to a proxy in front of it. The headers are trusted
// only to refuse more, never to accept more.
func isHTTPS(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.URL.Scheme, "https") {
		return true
	}
	for _, v := range r.Header.Values("X-Forwarded-Proto") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "https") {
				return true
			}
		}
	}
	for _, v := range r.Header.Values("Forwarded") {
		for _, part := range strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ';' }) {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(k, "proto") && strings.EqualFold(strings.Trim(val, `"`), "https") {
				return true
			}
		}
	}
	return false
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
