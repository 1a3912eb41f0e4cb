package throttle

import (
	"net/http"

	"github.com/gowho/gowho/who"
)

// clientAddr returns the client address failures are counted by:
// who.RequestOrigin(r).Client (the connection's peer, or the client a
// trusted proxy named: [general] trusted_proxies), normalised (an IPv4
// address mapped into IPv6 is the IPv4 address, a zone is dropped), or ""
// when there is none. An IPv6 address counts as its /64: one client holds
// a /64 (SLAAC, privacy addresses), and counting per address would give
// it 2^64 fresh starts. A request whose address is unknown (a trusted
// proxy said "unknown" or sent an unreadable hop, a Unix socket) counts
// under the one address "unknown": skipping it would let a client escape
// the per-address limit by making its address unreadable.
// unknownClient is the address counted for requests whose client address
// is unknown.
const unknownClient = "unknown"

func clientAddr(r *http.Request) string {
	a := who.RequestOrigin(r).Client
	if !a.IsValid() {
		return unknownClient
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
