package origin

import (
	"net/http"

	"github.com/gowho/gowho/who"
)

// Host returns the host (and port) r was sent to, the one host every
// check of this package calls "this site": who.RequestOrigin's, which is
// the host a trusted proxy ([general] trusted_proxies) forwarded
// (Forwarded host=, X-Forwarded-Host and -Port), else the Host header
// (r.Host), else the host of an absolute request URI, else, for an
// HTTP/1.0 request without a Host header, the address of the server's end
// of the connection (http.LocalAddrContextKey), which is where the client
// connected. It is "" when none is known (a request built by hand, a
// Unix socket, an IPv6 address with a zone).
func Host(r *http.Request) string {
	return who.RequestOrigin(r).Host
}

// RequestURL returns the URL of r to send back as came_from: absolute, as
// repoze.who's (WebOb's request.url), with who.RequestOrigin's scheme and
// host: https when r came over HTTPS to this server or, by Forwarded or
// X-Forwarded-Proto from a trusted proxy, to that proxy (the scheme
// SafeRedirect then requires, so the way back survives a TLS-terminating
// proxy), and the request URI. The forwarding headers of a peer that is
// not a trusted proxy change nothing. When no host is known it is the
// request's path made a local one (LocalPath) and its query ("/p?q"),
// which a browser resolves on the page it is on: never "http:///p", and
// never a request path that names a host ("//evil.example/x" gives
// "/evil.example/x").
func RequestURL(r *http.Request) string {
	o := who.RequestOrigin(r)
	if o.Host == "" {
		// The bare request URI of "GET //evil.example/x" is a
		// scheme-relative URL: a login page on another host (a single
		// sign-on) would resolve it to evil.example.
		uri := LocalPath(r.URL.EscapedPath())
		if r.URL.ForceQuery || r.URL.RawQuery != "" {
			uri += "?" + r.URL.RawQuery
		}
		return uri
	}
	return o.Scheme + "://" + o.Host + r.URL.RequestURI()
}
