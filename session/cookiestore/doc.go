// Package cookiestore is the default session store: the whole session,
// sealed with AES-256-GCM, travels in the cookie, so no server is needed
// and any number of app servers sharing the secret read it.
//
// The key is HKDF-SHA256 of the secret; each cookie names (by a 4-byte
// fingerprint) the key that sealed it, so old_secrets keep opening old
// cookies while secret seals new ones. A cookie that does not open, was
// tampered with, expired or names an unknown key is "not found". The
// limits of a client-side session: it must fit a cookie (about 4 KB), and
// a destroyed session's old cookie is refused only by the process that
// destroyed it: use a server-side store when logout must hold everywhere
// at once. That process refuses it until its deadline whatever the number
// of logouts: each cookie carries its sealing time, a logout is remembered
// for RevokeFor, and past MaxRevoked live logouts the oldest becomes a
// cut-off (cookies sealed up to it are refused) instead of being
// forgotten.
//
// In who.toml:
//
//	[plugin.sessions]
//	use = "session"
//	secret = "${WHO_SESSION_SECRET}"
//	old_secrets = ["${WHO_SESSION_OLD_SECRET}"]
//
// From Go:
//
//	st, err := cookiestore.New(cookiestore.Options{Secret: secret, OldSecrets: []string{old}})
//	m, err := session.New(session.Options{Store: st})
package cookiestore
