// Package memcachestore keeps sessions in memcached (one or several
// servers, keys spread by the client), so any number of app servers share
// them. memcached may evict under memory pressure: a session evicted is a
// logout, never a wrong user.
//
// It keeps no per-user index: memcached could evict an index entry without
// a word and leave a session alive after "log out everywhere", so
// Manager.DestroyUser returns an error wrapping session.ErrNotSupported.
// Use the Redis, file or memory store for it.
//
// In who.toml:
//
//	[plugin.sessions]
//	use = "session"
//	store = "memcached"
//	memcached_urls = ["10.0.0.5:11211", "10.0.0.6:11211"]
//	timeout = "500ms"              # each operation (the default)
//	backoff = "1s"                 # per server, after 3 failures in a row
//
// A hung server costs a request at most Timeout (a timeout is not
// retried); after 3 failures in a row the store fails fast on that server
// for Backoff, then probes it, while the other servers keep working.
//
// From Go:
//
//	st, err := memcachestore.New(memcachestore.Options{Servers: []string{"10.0.0.5:11211"}})
//	m, err := session.New(session.Options{Store: st})
package memcachestore
