// Package throttle is a brute-force guard: it wraps an authenticator and,
// after max_failures failed password logins within window for one userid
// and/or one client address, refuses that userid (or address) for ban
// without asking the wrapped authenticator.
//
// Unknown users are counted exactly like known ones, so a ban says nothing
// about who exists; Basic, the form and API.Login all reach the
// authenticator stage, so wrapping covers them all. Identities without a
// password (a cookie, a token) pass through uncounted. The state is in
// memory (bounded by max_entries), or shared by several instances through
// Redis (redis_url; one Lua script per attempt) or memcached
// (memcached_urls; add and incr). Each ban writes one audit line,
// msg="gowho ban", in the format docs/plugins/throttle.md documents and
// docs/fail2ban/gowho.conf matches.
//
// In who.toml, the wrapped plugin is declared and listed as "name;unused",
// and the throttle is listed instead:
//
//	[plugin.htpasswd]
//	use = "htpasswd"
//	filename = "passwd"
//
//	[plugin.throttle]
//	use = "throttle"
//	authenticator_name = "htpasswd"
//	max_failures = 5
//	window = "15m"
//	mode = "both"
//	redis_url = "redis://127.0.0.1:6379/0"
//
//	[authenticators]
//	plugins = ["throttle", "htpasswd;unused"]
//
// From Go:
//
//	t, err := throttle.New(throttle.Options{
//		Authenticator: htpasswdPlugin,
//		MaxFailures:   5,
//		Window:        who.Duration(15 * time.Minute),
//	})
package throttle
