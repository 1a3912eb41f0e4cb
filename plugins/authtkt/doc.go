// Package authtkt is the auth_tkt cookie plugin: an identifier, rememberer
// and authenticator reading and writing Apache mod_auth_tkt / repoze.who
// tickets, byte for byte, so tickets pass between gowho, Apache and Python.
//
// In who.toml:
//
//	[plugin.auth_tkt]
//	use = "authtkt"
//	secretfile = "ticket.secret"
//	digest_algo = "sha256"
//	timeout = "8h"
//	reissue_time = "10m"
//
//	[identifiers]
//	plugins = ["auth_tkt"]
//	[authenticators]
//	plugins = ["auth_tkt", "htpasswd"]
//
// In Go:
//
//	tkt, err := authtkt.New(authtkt.Options{Secret: secret, DigestAlgo: "sha256"})
//	m, err := who.New(who.Config{
//		Identifiers:    []who.Entry{{Name: "auth_tkt", Plugin: tkt}},
//		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: tkt}},
//	})
//
// # Ticket format
//
// A ticket is DIGEST, an 8-digit hex timestamp, the userid, "!", the
// tokens joined by "," and "!" (only when there are tokens, or when the
// user data holds "!"), and the user data. The digest is mod_auth_tkt's
// double hash (see Ticket); md5 is the default for compatibility, sha256
// or sha512 are better choices when every reader supports them.
//
// The identifier reads every encoding Apache reads: the raw ticket, the
// ticket in double quotes, the ticket URL-escaped ("!" as %21), and base64
// (quoted or not, padded or not), with or without the tokens field, and
// both user data encodings (repoze.who 2.2's "userid_type:int" and 3.x's
// "userid_type=int&…"). A value in double quotes has its escapes decoded
// as Python's http.cookies does ("\054" for ",", as WebOb writes it). It
// writes the raw ticket in double quotes, as repoze.who does, and 3.x user
// data. An unknown userid_type is kept as a string; gowho userids are
// always strings.
//
// # Logins and reissue
//
// Every login (an identity that did not come from this ticket) gets a new
// ticket. A login with who.KeyMaxAge sets Max-Age and puts the lifetime in
// the ticket as the token MaxAgeToken+N, which Identify returns as
// who.KeyMaxAge, so every reissue after reissue_time is a cookie of the
// same full lifetime. An identity that cannot be written (see
// Ticket.Cookie; in the quoted Set-Cookie tokens and user data may also
// hold spaces and user data "!") gets no cookie, and the first is logged,
// once per plugin.
//
// # Userid encoding
//
// The originals disagree on userids that URL quoting changes (a space, "@",
// "+", ":", non-ASCII, "!"): repoze.who writes the quoted userid but
// digests the unquoted one, Apache digests and reports the bytes as they
// are in the ticket. userid_encoding chooses:
//
//   - "repoze" (default): quote on write, unquote on read. Every UTF-8
//     userid round-trips, "!" too (as %21), and Python reads the tickets.
//     Apache reads correctly only userids of [A-Za-z0-9_.~/-].
//   - "mod_auth_tkt": the userid as it is. Apache reads every ticket; a
//     userid holding a space, control or non-ASCII byte, or one of
//     ! " % , ; \ is refused with ErrUnencodable, since Apache could not
//     carry it.
//
// # Client address
//
// include_ip binds a ticket to the client address, who.RequestOrigin's:
// RemoteAddr, or behind a proxy listed in [general] trusted_proxies the
// address it forwarded (Forwarded for=, X-Forwarded-For). An IPv4 client, or an IPv4-mapped IPv6 one, is digested as its
// four bytes, as both originals do. An IPv6 client, which repoze.who
// refused with an exception and mod_auth_tkt cannot check, is digested as
// its 16 bytes masked to ipv6_prefix bits (default 64): such tickets are
// read by gowho only. Without include_ip the address is 0.0.0.0, as
// repoze.who's default; Apache's default (TKTAuthIgnoreIP off) binds the
// address, so set the two alike.
//
// # Cookies
//
// By default one host-only cookie is set, HttpOnly and SameSite=Lax, and
// Secure when the request is https as the client saw it (secure = "auto":
// over TLS, or by a trusted proxy's Forwarded proto= or
// X-Forwarded-Proto); secure = true or false forces it.
// domains lists Domain attributes instead; repoze_domains = true sends
// repoze.who's three cookies (host-only, Domain=host, Domain=.host; only
// the first for an IPv6 literal host). forget sends "INVALID" with
// Max-Age=0 for every cookie remember sets. Several cookies of the name in
// one request are each tried, up to MaxTicketsPerRequest of at most
// MaxTicketBytes each; the first that verifies wins. A userid holding CR,
// LF or NUL, or not valid UTF-8, is refused.
//
// # Secrets
//
// A secret (or old secret) under MinSecretBytes is refused unless
// allow_weak_secret is set; one under GoodSecretBytes is accepted with a
// warning in the log.
//
// The expected digest is never logged or returned.
package authtkt
