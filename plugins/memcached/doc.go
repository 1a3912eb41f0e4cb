// Package memcached is a caching wrapper: it caches the answers of another
// authenticator and/or metadata provider (LDAP, SQL) in memcached.
//
// It is repoze.who.plugins.memcached, with its defects fixed: the cache key
// is an HMAC-SHA256 over a canonical, length-prefixed encoding of the
// method, the wrapped plugin's name and each key item, computed for every
// identity; cached values carry a MAC and never the password; concurrent
// misses for one key make one backend call, bounded by call_timeout and
// max_in_flight and cancelled when no request waits for it; memcached
// being slow or down costs at most the timeout, and a run of failures a
// back-off, while the wrapped plugin answers; an optional near-cache
// serves hits from process memory.
//
// In who.toml, the wrapped plugin is declared and listed as "name;unused"
// (or not listed at all), and the wrapper is listed instead:
//
//	[plugin.ldap]
//	use = "ldap"
//	url = "ldap://127.0.0.1:389"
//	bind_dn_template = "uid=%s,ou=people,dc=example,dc=org"
//
//	[plugin.cached_ldap]
//	use = "memcached"
//	authenticator_name = "ldap"
//	memcached_urls = ["127.0.0.1:11211"]
//	secret = "${WHO_CACHE_SECRET}"
//	ttl = "5m"
//
//	[authenticators]
//	plugins = ["cached_ldap", "ldap;unused"]
//
// With memcached_urls = [] (explicitly empty) and near_cache_ttl, it is
// an in-process cache only, with no network: verified credentials (an
// HMAC of login and password, under secret or a random per-process one)
// are kept near_cache_ttl, so HTTP Basic against a bcrypt htpasswd costs
// one bcrypt per login and password instead of one per request:
//
//	[plugin.cached_htpasswd]
//	use = "memcached"
//	authenticator_name = "htpasswd"
//	memcached_urls = []
//	near_cache_ttl = "5m"
//
// From Go:
//
//	c, err := memcached.New(memcached.Options{
//		MemcachedURLs:     who.Words{"127.0.0.1:11211"},
//		AuthenticatorName: "ldap",
//		Authenticator:     ldapPlugin,
//		Secret:            secret,
//		TTL:               who.Duration(5 * time.Minute),
//	})
package memcached
