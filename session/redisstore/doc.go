// Package redisstore keeps sessions in Redis (SET with PX, so Redis
// expires them), shared by any number of app servers; with persistence on,
// they survive a Redis restart.
//
// In who.toml:
//
//	[plugin.sessions]
//	use = "session"
//	store = "redis"
//	redis_url = "redis://10.0.0.7:6379/0"
//	timeout = "500ms"              # connect, write, read (the default)
//	backoff = "1s"                 # fail fast after 3 failures in a row
//
// A hung Redis costs a request at most the timeouts; after 3 failures in
// a row the store fails fast for Backoff, then probes.
//
// From Go:
//
//	st, err := redisstore.New(redisstore.Options{URL: "redis://10.0.0.7:6379/0", ReadTimeout: 500 * time.Millisecond})
//	m, err := session.New(session.Options{Store: st})
package redisstore
