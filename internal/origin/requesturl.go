package origin

import (
	"net"
	"net/http"
	"net/netip"
)

// Host returns the host (and port) r was sent to, the one host every
// check of this package calls "this site": the Host header (r.Host), else
// the host of an absolute request URI, else, for an HTTP/1.0 request
// without a Host header, the address of the server's end of the
// connection (http.LocalAddrContextKey), which is where the client
// connected. It is "" when none is known (a request built by hand, a
// Unix socket, an IPv6 address with a zone).
func Host(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil && r.URL.Host != "" {
		return r.URL.Host
	}
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return ""
	}
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return ""
	}
	ap := tcp.AddrPort()
	if ap.Addr().Zone() != "" || !ap.Addr().IsValid() {
		return "" // "[fe80::1%eth0]" is no URL host a browser takes
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

// RequestURL returns the URL of r to send back as came_from: absolute, as
// repoze.who's (WebOb's request.url), with the scheme https when r came
// over HTTPS to this server or, by X-Forwarded-Proto or Forwarded, to a
// proxy in front of it (the scheme SafeRedirect then requires, so the way
// back survives a TLS-terminating proxy), the host of Host, and the
// request URI. When no host is known it is the request's path made a
// local one (LocalPath) and its query ("/p?q"), which a browser resolves on
// the page it is on: never "http:///p", and never a request path that
// names a host ("//evil.example/x" gives "/evil.example/x").
func RequestURL(r *http.Request) string {
	host := Host(r)
	if host == "" {
		// The bare request URI of "GET //evil.example/x" is a
		// scheme-relative URL: a login page on another host (a single
		// sign-on) would resolve it to evil.example.
		uri := LocalPath(r.URL.EscapedPath())
		if r.URL.ForceQuery || r.URL.RawQuery != "" {
			uri += "?" + r.URL.RawQuery
		}
		return uri
	}
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + host + r.URL.RequestURI()
}
