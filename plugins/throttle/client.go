package throttle

import (
	"net"
	"net/http"
	"net/netip"
)

// clientAddr returns the client address failures are counted by: the
// peer address of the connection (r.RemoteAddr), normalised (an IPv4
// address mapped into IPv6 is the IPv4 address, a zone is dropped), or ""
// when it is not an address. An IPv6 address counts as its /64.
//
// TODO(proxy): use who.RequestOrigin(r).Client, the trusted-proxy
// accessor, once it has landed in package who.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		// One client holds a /64 (SLAAC, privacy addresses): counting
		// per address would give it 2^64 fresh starts.
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
