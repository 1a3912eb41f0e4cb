// Package sessionid keeps the logged-in identity in a session (from the
// session package), as repoze.who-use_beaker kept it in a Beaker session.
//
// It is identifier, rememberer and authenticator at once: it authenticates
// only the identities it produced (a private key, as auth_tkt does), so no
// pass-through authenticator is needed, and it does not trust an identity
// another identifier found. Remember renews the session id when the userid
// changes (no fixation) and writes the alsopersist keys when they change;
// Forget removes the key, or with delete_on_logout destroys the record and
// expires the cookie. A replayed cookie then loads nothing.
//
// In who.toml:
//
//	[plugin.sessions]
//	use = "session"
//	secret = "${WHO_SESSION_SECRET}"
//
//	[plugin.sessionid]
//	use = "sessionid"
//	session_name = "sessions"   # default
//	delete_on_logout = true
//
//	[identifiers]
//	plugins = ["sessionid"]
//	[authenticators]
//	plugins = ["sessionid", "htpasswd"]
//
// From Go:
//
//	m, err := session.New(session.Options{Store: st})
//	sid, err := sessionid.New(sessionid.Options{Manager: m, DeleteOnLogout: true})
//	mw, err := who.New(who.Config{
//		Identifiers:    []who.Entry{{Name: "sessionid", Plugin: sid}},
//		Authenticators: []who.Entry{{Name: "sessionid", Plugin: sid}, {Name: "htpasswd", Plugin: ht}},
//	})
//	http.ListenAndServe(addr, m.Wrap(mw.Wrap(app)))
//
// The use_beaker entry points (repoze.who.plugins.use_beaker:make_plugin
// and :UseBeakerPlugin) are aliases; Beaker's session_name default
// ("beaker.session") is not, since here it names a declared plugin.
package sessionid
