// Package redisstore keeps sessions in Redis (SET with PX, so Redis
// expires them), shared by any number of app servers; with persistence on,
// they survive a Redis restart. It runs on one server, on a master watched
// by Sentinels (following a failover) or on a Redis Cluster, and indexes
// sessions by userid (a sorted set per user, scored by expiry) for
// Manager.DestroyUser ("log out everywhere"). Every command names one key,
// so none spans two cluster hash slots.
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
// or, instead of redis_url:
//
//	sentinel_addrs = ["10.0.0.7:26379", "10.0.0.8:26379", "10.0.0.9:26379"]
//	master_name = "gowho"
//	sentinel_password = "${REDIS_SENTINEL_PASSWORD}"
//	redis_password = "${REDIS_PASSWORD}"
//	wait_replicas = 1              # a save fails unless a replica has it
//
//	cluster_addrs = ["10.0.1.1:6379", "10.0.1.2:6379"]
//
// A hung Redis costs a request at most the timeouts; after 3 failures in
// a row the store fails fast for Backoff, then probes.
//
// From Go:
//
//	st, err := redisstore.New(redisstore.Options{URL: "redis://10.0.0.7:6379/0", ReadTimeout: 500 * time.Millisecond})
//	m, err := session.New(session.Options{Store: st})
package redisstore
