// Package basicauth is the HTTP Basic identifier and challenger: it reads
// the login and password from the Authorization header and answers a
// challenge with a 401 and WWW-Authenticate: Basic.
//
// It is repoze.who's basicauth plugin, minus its 500 on a non-ASCII
// header, with the realm quoted properly, and with logins and passwords
// bounded by max_password_bytes (1024). Pair it with an authenticator
// such as htpasswd or ldap.
//
// In who.toml:
//
//	[plugin.basicauth]
//	use = "basicauth"
//	realm = "My app"
//
//	[identifiers]
//	plugins = ["basicauth"]
//	[challengers]
//	plugins = ["basicauth"]
//
// From Go:
//
//	ba, err := basicauth.New(basicauth.Options{Realm: "My app"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mw, err := who.New(who.Config{
//		Identifiers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
//		Authenticators: []who.Entry{{Name: "htpasswd", Plugin: ht}},
//		Challengers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
//	})
package basicauth
