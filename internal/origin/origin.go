// Package origin holds the rules that keep what gowho sends back on the
// site's own origin: which host a request was sent to (Host) and its URL
// to come back to (RequestURL, the redirector's came_from), a request path
// made safe to reuse as a reference, whether a redirect target is safe
// (SafeRedirect) or a configured login URL sound (ParseLoginURL), and
// whether a request came from this origin or another site.
package origin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// LocalPath makes an escaped request path safe to send back as a
// scheme-less, host-less reference (a form action, a Location): bytes a
// browser strips or reinterprets (controls, space, backslash, non-ASCII)
// are %-encoded, dot segments are resolved as a browser resolves them, and
// leading slashes collapse into one, so "//evil/x", "/\evil", "/.//evil" or
// a path with a tab become "/evil/x", "/%5Cevil", "/evil": no browser can
// read a host in the result.
func LocalPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if c := p[i]; reinterpreted(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	p = RemoveDotSegments("/" + strings.TrimLeft(b.String(), "/"))
	return "/" + strings.TrimLeft(p, "/")
}

// RemoveDotSegments resolves the "." and ".." segments of an absolute path
// as RFC 3986 section 5.2.4 and browsers do ("%2e" counts as a dot, as in
// the WHATWG URL standard): "/.//evil" gives "//evil". A path that does not
// start with "/" is returned as it is.
func RemoveDotSegments(p string) string {
	if !strings.HasPrefix(p, "/") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ReplaceAll(strings.ToLower(s), "%2e", ".") {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, segs[i])
		}
	}
	return "/" + strings.Join(out, "/")
}

// CrossSite reports whether a GET or HEAD comes from another origin: by
// Fetch Metadata (Sec-Fetch-Site other than same-origin, or none for a
// typed URL or a bookmark), else by an Origin or Referer naming another
// host. A request with none of those headers (curl, an old browser
// following a link without Referer) is not. A state-changing GET (a logout
// link) answers a cross-site one with a page that posts instead.
func CrossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	for _, h := range []string{"Origin", "Referer"} {
		if v := r.Header.Get(h); v != "" {
			return !sameHost(v, Host(r))
		}
	}
	return false
}

// SameOrigin reports whether the browser said positively that r comes from
// this origin: Sec-Fetch-Site: same-origin, or (without Sec-Fetch-Site) an
// Origin header whose host is this site's (Host), the two tests by which
// http.CrossOriginProtection accepts a request as same-origin. A request
// with neither header (curl) is not.
func SameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
		o := r.Header.Get("Origin")
		return o != "" && sameHost(o, Host(r))
	}
	return false
}

func sameHost(ref, host string) bool {
	u, err := url.Parse(ref)
	return err == nil && ref != "null" && u.Host != "" && strings.EqualFold(u.Host, host)
}
