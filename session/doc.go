// Package session is net/http session middleware for gowho: a Manager
// gives each request a Session, loaded from a Store on first use (or
// before the handler, with Autoload) and saved once, when the response
// starts (WriteHeader, Write, Flush or Hijack), only if it changed.
//
// What it does that Beaker, starsessions, BottleSessions and
// muffin-session each miss at least once:
//
//   - an id the store has no record of is never adopted: a fresh 256-bit
//     id is minted;
//   - idle and absolute deadlines live in the record and are checked on
//     load, whatever the cookie says;
//   - RenewID deletes the old record; Destroy deletes the record and
//     expires the cookie;
//   - changes made before a redirect or a Flush are saved; dirtiness is
//     OR-ed, never reset by a later no-op;
//   - data is strings, numbers, bools, []byte, lists and maps, in a compact
//     codec of its own (no gob, no pickle: nothing that builds code-bearing
//     values);
//   - a store failure is a clear 503 with a log line for the requests that
//     need the session, and nothing for those that do not;
//   - a session used without the middleware is ErrNoMiddleware, never a
//     panic.
//
// A Store has three methods; a store that also implements SaveInfoStore
// is told, at each save, whether the session holds a logged-in user
// (memstore uses it to evict anonymous sessions first) and whether it was
// loaded (SaveInfo.Existing: write only over a record still there, else
// ErrGone), so a session destroyed by another request while one that
// loaded it runs stays destroyed. Without it the store gets plain Save,
// which writes such a session back.
//
// Stores, one package each: cookiestore (the default: AES-GCM sealed
// cookie, no server, key rotation), memstore, filestore, memcachestore,
// redisstore. sessiontest is the conformance suite a new Store must pass.
//
// In who.toml a manager is a plugin (package sessionplugin registers
// use = "session"):
//
//	[plugin.sessions]
//	use = "session"
//	store = "cookie"
//	secret = "${WHO_SESSION_SECRET}"
//
// From Go:
//
//	st, err := cookiestore.New(cookiestore.Options{Secret: os.Getenv("WHO_SESSION_SECRET")})
//	m, err := session.New(session.Options{Store: st, IdleTimeout: 30 * time.Minute})
//	http.ListenAndServe(addr, m.Wrap(app))
//
//	// in a handler
//	s := session.From(r)
//	if err := s.Set("cart", []string{"sku-1"}); err != nil { ... }
//	_ = s.Flash("info", "added to your cart")
package session
