package form

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// selfAction returns the path and query the form-on-challenge form posts
// to: the request's own path with flag=true added to its query. The path
// is written so that every URL parser (a browser's WHATWG one included)
// resolves it on the page's own origin: bytes a browser strips or
// reinterprets (controls, space, backslash, non-ASCII) are %-encoded, dot
// segments are resolved as a browser would resolve them, and leading
// slashes collapse into one, so "//evil/x", "/\evil", "/.//evil" or a path
// with a tab become "/evil/x", "/%5Cevil", "/evil", never a reference with
// an authority.
func selfAction(u *url.URL, flag string) string {
	p := localPath(u.EscapedPath()) // never u.Opaque
	q := u.Query()
	q.Set(flag, "true")
	return p + "?" + q.Encode()
}

// localPath makes an escaped path safe to put in a reference that must
// stay on this origin (see selfAction).
func localPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= 0x20 || c >= 0x7f || c == '\\' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	p = removeDotSegments("/" + strings.TrimLeft(b.String(), "/"))
	return "/" + strings.TrimLeft(p, "/")
}

// removeDotSegments resolves the "." and ".." segments of an absolute
// path as RFC 3986 section 5.2.4 and browsers do ("%2e" counts as a dot,
// as in the WHATWG URL standard). "/.//evil" gives "//evil".
func removeDotSegments(p string) string {
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

// crossSite reports whether a GET or HEAD comes from another origin: by
// Fetch Metadata (Sec-Fetch-Site other than same-origin, or none for a
// typed URL or a bookmark), else by an Origin or Referer naming another
// host. A request with none of those headers (curl, an old browser
// following a link without Referer) is not.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	for _, h := range []string{"Origin", "Referer"} {
		if v := r.Header.Get(h); v != "" {
			return !sameHost(v, r.Host)
		}
	}
	return false
}

// sameOrigin reports whether the browser said positively that r comes from
// this origin: Sec-Fetch-Site: same-origin, or (without Sec-Fetch-Site) an
// Origin header whose host is r.Host, the two tests by which
// http.CrossOriginProtection accepts a request as same-origin. A request
// with neither header (curl) is not.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
		o := r.Header.Get("Origin")
		return o != "" && sameHost(o, r.Host)
	}
	return false
}

func sameHost(ref, host string) bool {
	u, err := url.Parse(ref)
	return err == nil && ref != "null" && u.Host != "" && strings.EqualFold(u.Host, host)
}
