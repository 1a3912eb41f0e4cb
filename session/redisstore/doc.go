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
//
// From Go:
//
//	st, err := redisstore.New(redisstore.Options{URL: "redis://10.0.0.7:6379/0"})
//	m, err := session.New(session.Options{Store: st})
package redisstore
