// Package sessionplugin registers the "session" plugin: a session manager
// declared in who.toml, with its store, that the loaded configuration
// installs outside the who chain (it is a who.OuterMiddleware), so that
// plugins naming it (session_name) find the session.
//
// In who.toml:
//
//	[plugin.sessions]
//	use = "session"
//	store = "memcached"            # cookie (default), memory, file, memcached, redis
//	memcached_urls = ["10.0.0.5:11211", "10.0.0.6:11211"]
//	idle_timeout = "30m"
//	absolute_timeout = "12h"
//
// From Go, build the Manager and its store directly:
//
//	st, err := cookiestore.New(cookiestore.Options{Secret: secret})
//	m, err := session.New(session.Options{Store: st})
//	http.ListenAndServe(addr, m.Wrap(chain.Wrap(app)))
package sessionplugin
