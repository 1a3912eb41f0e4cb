package origin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gowho/gowho/who"
)

// SafeRedirect returns target when it is safe to redirect the request r
// there: a path on this site ("/x", never "//host", "/\host", "/.//host"
// or anything a browser could read as another host), or an absolute
// http(s) URL whose host is this site's (Host: r.Host, or where an
// HTTP/1.0 request without Host connected) or one of allowedHosts, without
// user info. Anything else, including control characters, backslashes,
// whitespace and encoded variants of those, gives fallback. It is the one
// check of a redirect target that came with a request (came_from): the
// form plugin and `who serve`'s demo login page use it, and it keeps every
// came_from RequestURL builds for the same site (the redirector's).
//
// A path whose dot segments resolve (as a browser resolves them, "%2e"
// included, on the raw and on the %-decoded path) to one starting with
// "//" is refused: "/.//evil", "/a/..//evil", "/%2e//evil".
//
// When r came over HTTPS (who.RequestOrigin's scheme is https: over TLS,
// or by the forwarding headers of a trusted proxy) an http:// target is
// refused, for this host and allowed hosts alike: a login must not send
// the browser to plain HTTP. An X-Forwarded-Proto or Forwarded proto=https
// from a peer that is not a trusted proxy refuses it too: such a header is
// believed for nothing that accepts more (a scheme, a host, an address),
// but a claim of https can only make this check stricter, and it keeps a
// site behind a TLS proxy not yet listed in trusted_proxies from being
// sent to plain HTTP (its came_from, http there, then gives fallback:
// list the proxy).
func SafeRedirect(r *http.Request, target string, allowedHosts []string, fallback string) string {
	if target == "" || len(target) > 4096 {
		return fallback
	}
	// The target may not hold a byte a browser strips or reinterprets,
	// nor may its %-decoded form (a server that decodes before
	// redirecting again) hold one a browser strips or reads as a slash:
	// "/%5Cevil", "/%09/evil". An encoded space or non-ASCII letter in a
	// path ("/a%20b", "/caf%C3%A9") is a page's own name: the decoded
	// form keeps the raw first byte, so its space is never a leading one
	// a browser trims, and a path's letters name no host.
	dec, err := url.PathUnescape(target)
	if err != nil || !PlainBytes(target) || !decodedPlain(dec) {
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
		// A raw "//" names a host before any dot segment is resolved:
		// "///../.." goes to the host "..".
		if err != nil || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") ||
			strings.HasPrefix(RemoveDotSegments(raw), "//") ||
			strings.HasPrefix(RemoveDotSegments(decPath), "//") {
			return fallback
		}
		return target
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || !strings.HasPrefix(target, u.Scheme+"://") {
		return fallback
	}
	if u.Scheme == "http" && refusesHTTP(r) {
		return fallback
	}
	if host := Host(r); host != "" && strings.EqualFold(u.Host, host) {
		return target
	}
	for _, h := range allowedHosts {
		if strings.EqualFold(u.Host, h) || strings.EqualFold(u.Hostname(), h) {
			return target
		}
	}
	return fallback
}

// ParseLoginURL parses a configured login page URL (the redirector's
// login_url, the form's login_form_url) and refuses what no login page
// URL can be: control characters, user info ("user@"), and a "//" that
// names no host ("//@", "///login"), which browsers read as a host of
// their own. Unlike SafeRedirect's target, it may name any host: the
// operator wrote it, and a single sign-on page is on another host. The
// error completes a sentence about the option ("login_url " + err).
func ParseLoginURL(s string) (*url.URL, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return nil, errors.New("may not hold control characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("is not a URL: %w", err)
	}
	if u.User != nil {
		return nil, errors.New("may not hold user info (user@); give the login page's URL")
	}
	if u.Host == "" && (strings.HasPrefix(s, "//") || u.Scheme != "" && strings.HasPrefix(u.Opaque+u.Path, "//")) {
		return nil, errors.New("starts with // but names no host; give a path (/login) or a URL with a host")
	}
	return u, nil
}

// refusesHTTP reports whether SafeRedirect refuses an http:// target for
// r: r came over HTTPS (who.RequestOrigin), or any forwarding header, from
// whichever peer, says https. The untrusted headers are believed only to
// refuse more, never to accept more.
func refusesHTTP(r *http.Request) bool {
	if who.RequestOrigin(r).Scheme == "https" {
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

// PlainBytes reports whether s holds none of the bytes browsers strip or
// reinterpret in a URL: controls, space, backslash and non-ASCII.
func PlainBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if reinterpreted(s[i]) {
			return false
		}
	}
	return true
}

// decodedPlain reports whether the %-decoded form of a target holds
// none of the bytes a browser strips anywhere in a URL or reads as a
// slash: controls (tab, CR, LF among them), DEL and backslash.
func decodedPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// reinterpreted reports whether a browser strips or reinterprets c in a
// URL (a control, space, backslash or non-ASCII byte).
func reinterpreted(c byte) bool {
	return c <= 0x20 || c >= 0x7f || c == '\\'
}
