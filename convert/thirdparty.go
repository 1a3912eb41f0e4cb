package convert

import (
	"fmt"
	"strings"
)

// The entry points the who.ini files people ship name beyond repoze.who's
// make_plugin factories (issue 16): the module:Class spellings of the
// built-ins, CKAN's authenticators and plugin copies, repoze.who.plugins.sa
// and TurboGears' SQL plugins, and the single sign-on plugins whose
// protocol gowho speaks differently or not at all. Each is a table entry:
// register for a `use =`, inlineEntries for a dotted name a stage lists,
// replaced for what is gone.

func init() {
	registerClassSpellings()
	registerCKAN()
	registerSQLAlchemy()
	registerGone()
	registerLDAPCopies()
}

// registerLDAPCopies converts the application modules that subclass or
// copy repoze.who.plugins.ldap's classes under the same options, with a
// note naming what the subclass did (nova's, read from its source:
// reconnect when the connection is stale, refuse an empty password, as
// gowho's ldap does) or asking to check it (the others keep the class
// names and options of repoze.who.plugins.ldap).
func registerLDAPCopies() {
	for _, e := range []struct{ use, of, what string }{
		{"nova.lib.auth:ReconnectingAuthenticatorPlugin", "LDAPAuthenticatorPlugin", "nova's subclass reconnected a stale connection and refused an empty password, as gowho's ldap does"},
		{"nova.lib.auth:ReconnectingLDAPAttrsPlugin", "LDAPAttributesPlugin", "nova's subclass reconnected a stale connection, as gowho's ldap does"},
		{"bastion.lib.auth.ldap:LDAPSearchAuthenticatorPlugin", "LDAPSearchAuthenticatorPlugin", "an application copy: check what it changed"},
		{"bastion.lib.auth.ldap:LDAPAttributesPlugin", "LDAPAttributesPlugin", "an application copy: check what it changed"},
		{"ica.plugins.auth_ldap:LDAPSearchAuthenticatorPlugin", "LDAPSearchAuthenticatorPlugin", "an application copy: check what it changed"},
		{"ica.plugins.auth_ldap:LDAPAttributesPlugin", "LDAPAttributesPlugin", "an application copy: check what it changed"},
	} {
		register(withNote(like("repoze.who.plugins.ldap:"+e.of), e.use+" has the options of repoze.who.plugins.ldap's "+e.of+": converted as it; "+e.what), e.use)
	}
	// who_ldap (m-martinez/who_ldap, a fork of repoze.who.plugins.ldap)
	// names the server url where the original said ldap_connection.
	wl := withNote(like("repoze.who.plugins.ldap:LDAPSearchAuthenticatorPlugin"),
		"who_ldap's LDAPSearchAuthenticatorPlugin, a fork of repoze.who.plugins.ldap's (url for ldap_connection): converted as it; review the search against the directory")
	wl.opts["url"] = str("url")
	register(wl, "who_ldap:LDAPSearchAuthenticatorPlugin")
}

// like returns the spec registered for use (by plugins.go's init, which
// runs first: Go runs a package's init functions in file-name order). A
// missing one is a programming error, caught by every test of the package.
func like(use string) *spec {
	s, ok := specs[use]
	if !ok {
		panic("convert: thirdparty.go needs the converter of " + use + ", registered in plugins.go")
	}
	return s
}

// withNote is a copy of s with note as its remark on use = (a note to
// review when warning).
func withNote(s *spec, note string) *spec {
	c := *s
	c.opts = make(map[string]func(*optCtx), len(s.opts))
	for k, f := range s.opts {
		c.opts[k] = f
	}
	c.note, c.noteWarning = note, true
	return &c
}

// classNote is the remark on a module:Class spelling: repoze.who called
// the class with the section's options as keyword arguments, the strings
// of the ini, where make_plugin converted them first.
func classNote(class, differs string) string {
	n := "the class " + class + " itself, not its make_plugin: repoze.who passed the options to the class as strings"
	if differs != "" {
		n += "; " + differs
	}
	return n
}

// truthy converts a flag that a class took as a string: any non-empty
// value ("false" included) was true. The state key is set as boolPy's is,
// for the finish functions reading it.
func truthy(to string) func(*optCtx) {
	return func(o *optCtx) {
		o.p.state()[to] = o.val != ""
		boolTruthy(to)(o)
	}
}

// registerClassSpellings converts the module:Class spellings of
// repoze.who's plugins. Where the class read an option differently from
// make_plugin, the converter says so.
func registerClassSpellings() {
	register(withNote(like("repoze.who.plugins.basicauth:make_plugin"),
		classNote("BasicAuthPlugin(realm)", "realm is a string either way: converted as make_plugin's")),
		"repoze.who.plugins.basicauth:BasicAuthPlugin")

	tkt := withNote(like("repoze.who.plugins.auth_tkt:make_plugin"),
		classNote("AuthTktCookiePlugin", "secure and include_ip were tested as strings (\"false\" was true), timeout and reissue_time compared as strings with numbers (a TypeError on Python 3): gowho reads them as flags and seconds, review them"))
	tkt.opts["secure"] = truthy("secure")
	tkt.opts["include_ip"] = truthy("include_ip")
	register(tkt, "repoze.who.plugins.auth_tkt:AuthTktCookiePlugin")

	ht := withNote(like("repoze.who.plugins.htpasswd:make_plugin"),
		classNote("HTPasswdPlugin(filename, check)", "check had to be a Python function (a string failed at every login)"))
	ht.opts["check"] = func(o *optCtx) {
		o.set("check_fn", `"auto"`, "was check = "+o.val+", a string where the class called a function; gowho detects each line's scheme")
		o.note("check = " + o.val + " was a string where HTPasswdPlugin called a function (every login failed): gowho detects each line's scheme (check_fn = \"auto\")")
	}
	register(ht, "repoze.who.plugins.htpasswd:HTPasswdPlugin")

	register(withNote(like("repoze.who.plugins.redirector:make_plugin"),
		classNote("RedirectorPlugin", "its arguments are make_plugin's")),
		"repoze.who.plugins.redirector:RedirectorPlugin")

	f := withNote(like("repoze.who.plugins.form:make_plugin"),
		classNote("FormPlugin(login_form_qs, rememberer_name, formbody)", "formbody was the HTML itself, where make_plugin read the file named by form"))
	f.opts["formbody"] = pythonOnly("the page's HTML in the ini; put it in a html/template file and set form to its path")
	register(f, "repoze.who.plugins.form:FormPlugin")

	register(withNote(like("repoze.who.plugins.form:make_redirecting_plugin"),
		classNote("RedirectingFormPlugin", "its arguments are make_redirecting_plugin's")),
		"repoze.who.plugins.form:RedirectingFormPlugin")

	callables := "conn_factory and compare_fn (filter) had to be Python callables, a string failed at the first login: converted by what they name"
	register(withNote(like("repoze.who.plugins.sql:make_authenticator_plugin"), classNote("SQLAuthenticatorPlugin", callables)),
		"repoze.who.plugins.sql:SQLAuthenticatorPlugin")
	register(withNote(like("repoze.who.plugins.sql:make_metadata_plugin"), classNote("SQLMetadataProviderPlugin", callables)),
		"repoze.who.plugins.sql:SQLMetadataProviderPlugin")
}

// ckanQuery is what CKAN's UsernamePasswordAuthenticator checked:
// User.by_name(login) in its "user" table, then user.is_active() (state
// 'active'), then user.validate_password. It returned user.name.
const ckanQuery = `SELECT name, password FROM "user" WHERE name = :login AND state = 'active'`

// ckanEmailQuery is datagovau's UsernameEmailPasswordAuthenticator: a
// login that is some user's e-mail becomes that user's name (the first row
// SQLAlchemy returned), then CKAN's check.
const ckanEmailQuery = `SELECT name, password FROM "user" WHERE state = 'active' AND name = COALESCE((SELECT e.name FROM "user" e WHERE e.email = :login ORDER BY e.created LIMIT 1), :login)`

// ckanUsers converts CKAN's authenticator classes to sqlauth on CKAN's
// database.
func ckanUsers(class, query, what string) *spec {
	return &spec{
		target:  "sqlauth",
		unknown: "CKAN's authenticator class takes no options (repoze.who failed at load)",
		opts:    map[string]func(*optCtx){},
		finish: func(o *optCtx, seen map[string]bool) {
			o.setDefault("driver", tomlEnv("${WHO_SQL_DRIVER}"), "CKAN runs on PostgreSQL: pgx (the program must import it)")
			o.setDefault("dsn", tomlEnv("${WHO_SQL_DSN}"), "CKAN's sqlalchemy.url (in ckan.ini, not who.ini), as a data source name")
			o.setDefault("placeholder", `"$1"`, "PostgreSQL's positional parameters")
			o.setDefault("query", tomlString(query), what)
			o.setDefault("salted_hex", "true", "CKAN before 2.1 stored 40 hex of salt then sha1(password + salt) in hex; later rows are passlib's $pbkdf2-sha512$, read as they are")
			o.c.problem(o.p.sec, "", class+" checked CKAN's \"user\" table: converted to sqlauth with CKAN's query ("+what+"); "+
				"set WHO_SQL_DRIVER=pgx and WHO_SQL_DSN to ckan.ini's sqlalchemy.url, and review the query against your CKAN's schema "+
				"(rows of CKAN < 2.1 are salted sha1 hex, salted_hex = true; CKAN's plugins' IAuthenticator hooks do not run)", true)
		},
	}
}

// vigiloQuery reads Vigilo's user table (vigilo.models: table prefix
// "vigilo_", columns user_name and password).
const vigiloQuery = `SELECT user_name, password FROM vigilo_user WHERE user_name = :login`

// saTable and saUser are TurboGears 2's quickstart user table and its
// login column, the guess for repoze.who.plugins.sa (user_class is a
// Python class: its table is not in the who.ini).
const saTable, saUser = "tg_user", "user_name"

// registerCKAN converts CKAN's authenticators and friendlyform copies,
// and Vigilo's SQL plugins.
func registerCKAN() {
	for _, e := range []struct{ dotted, name, query, what string }{
		{"ckan.lib.authenticator:UsernamePasswordAuthenticator", "ckan_users", ckanQuery, "active users by name"},
		{"ckanext.datagovau.authenticator:UsernameEmailPasswordAuthenticator", "ckan_users", ckanEmailQuery, "active users by name, or by e-mail as datagovau's subclass did"},
	} {
		register(ckanUsers(e.dotted, e.query, e.what), e.dotted)
		inlineEntries[e.dotted] = inlineEntry{name: e.name, use: e.dotted}
	}

	ckanOpenID := replacement{
		note: "CKAN's OpenIDAuthenticator turned repoze.who.plugins.openid's OpenID 2.0 identities into CKAN users; OpenID 2.0 is gone (the providers turned it off): " +
			"gowho logs users in with OpenID Connect: declare an oidc plugin per provider (a client registered there), see docs/plugins/oidc.md",
		short: "CKAN's OpenID 2.0 authenticator: OpenID 2.0 is gone; gowho offers OpenID Connect, see docs/plugins/oidc.md",
	}
	replaced["ckan.lib.authenticator:OpenIDAuthenticator"] = ckanOpenID
	inlineEntries["ckan.lib.authenticator:OpenIDAuthenticator"] = inlineEntry{name: "ckan_openid", use: "ckan.lib.authenticator:OpenIDAuthenticator"}

	// CKAN 2.9 vendored repoze.who-friendlyform (the same arguments, the
	// same "browser" classifications, ISO-8859-1 by default); Vigilo and
	// ICA subclass it.
	friendly := like("repoze.who.plugins.friendlyform:FriendlyFormPlugin")
	register(withNote(friendly, "CKAN 2.9's copy of repoze.who-friendlyform (the same arguments and classifications): converted as friendlyform"),
		"ckan.lib.repoze_plugins.friendly_form:FriendlyFormPlugin")
	register(withNote(friendly, "Vigilo's subclass of repoze.who-friendlyform (its encoding decoded the form values): converted as friendlyform; gowho reads forms as UTF-8"),
		"vigilo.turbogears.repoze.plugins.friendlyform:FriendlyFormPlugin")
	register(withNote(friendly, "ICA's copy of repoze.who-friendlyform: converted as friendlyform; check that it changed nothing that matters"),
		"ica.plugins.friendlyform:FriendlyFormPlugin")

	vigilo := &spec{
		target:  "sqlauth",
		unknown: "plugin() takes only bypass",
		opts: map[string]func(*optCtx){
			"bypass": func(o *optCtx) {
				o.p.state()["bypass"] = strings.TrimSpace(o.val) != "0" && strings.TrimSpace(o.val) != ""
			},
		},
		finish: func(o *optCtx, seen map[string]bool) {
			if b, _ := o.p.state()["bypass"].(bool); b {
				o.p.dropped = "bypass: Vigilo's authenticator accepted every password of a known user (the login was checked elsewhere, by Kerberos in Apache); gowho has no password-less SQL check: authenticate with the proxy's identity instead"
				o.c.problem(o.p.sec, "bypass", o.p.dropped, false)
				return
			}
			o.setDefault("driver", tomlEnv("${WHO_SQL_DRIVER}"), "Vigilo runs on PostgreSQL: pgx (the program must import it)")
			o.setDefault("dsn", tomlEnv("${WHO_SQL_DSN}"), "Vigilo's sqlalchemy_url, as a data source name")
			o.setDefault("placeholder", `"$1"`, "PostgreSQL's positional parameters")
			o.setDefault("query", tomlString(vigiloQuery), "vigilo.models' User (db_basename \"vigilo_\")")
			o.c.problem(o.p.sec, "", "vigilo.turbogears.repoze.plugins.sqlauth:plugin checked vigilo.models' User table: converted to sqlauth; "+
				"Vigilo's User.validate_password accepted every password when use_kerberos was on (TurboGears' default: Apache checked the login): then remove this authenticator; "+
				"else the table held clear text (allow_plain = true) or an unsalted hashlib hexdigest of password_hashing_function, which gowho does not read: rehash. Review the table prefix (db_basename)", true)
		},
	}
	register(vigilo, "vigilo.turbogears.repoze.plugins.sqlauth:plugin")
	// mduser is repoze.who.plugins.sa's SQLAlchemyUserMDPlugin on the same
	// User: the row under identity["user"].
	register(&spec{
		target:  "sqlauth",
		unknown: "mduser:plugin takes no options",
		opts:    map[string]func(*optCtx){},
		finish: func(o *optCtx, seen map[string]bool) {
			o.setDefault("driver", tomlEnv("${WHO_SQL_DRIVER}"), "Vigilo runs on PostgreSQL: pgx (the program must import it)")
			o.setDefault("dsn", tomlEnv("${WHO_SQL_DSN}"), "Vigilo's sqlalchemy_url, as a data source name")
			o.setDefault("placeholder", `"$1"`, "PostgreSQL's positional parameters")
			o.setDefault("metadata_query", tomlString("SELECT user_name, fullname, email, language FROM vigilo_user WHERE user_name = :userid"), "vigilo.models' User (db_basename \"vigilo_\")")
			o.setDefault("name", `"user"`, "identity[\"user\"], as the original set it")
			o.c.problem(o.p.sec, "", "vigilo.turbogears.repoze.plugins.mduser:plugin put vigilo.models' User object under identity[\"user\"]: converted to sqlauth's metadata_query on vigilo_user "+
				"(a list of one row of columns now; its groups and permissions are not there): review the code reading it, and the table prefix (db_basename)", true)
		},
	}, "vigilo.turbogears.repoze.plugins.mduser:plugin")
	inlineEntries["vigilo.turbogears.repoze.plugins.mduser:plugin"] = inlineEntry{name: "vigilo_user_md", use: "vigilo.turbogears.repoze.plugins.mduser:plugin"}
	inlineEntries["vigilo.turbogears.repoze.plugins.sqlauth:plugin"] = inlineEntry{name: "vigilo_users", use: "vigilo.turbogears.repoze.plugins.sqlauth:plugin"}
}

// saColumn is a user_name_translation or the default, if it is a plain
// column name.
func saColumn(o *optCtx) string {
	c, _ := o.p.state()["user_name"].(string)
	if c == "" {
		return saUser
	}
	return c
}

// sa converts repoze.who.plugins.sa's authenticator (metadata false) or
// user metadata provider to sqlauth. user_class is a Python class whose
// table the who.ini does not give: the query is written on TurboGears 2's
// quickstart table (what the TurboGears files of the corpus have), and
// user_class is reported not converted, so that `who convert` exits 2
// until the query is checked against it.
func sa(metadata bool) *spec {
	name := func(o *optCtx) {
		v := strings.TrimSpace(o.val)
		if !paramName.MatchString(v) {
			o.drop("not a column name")
			return
		}
		o.p.state()["user_name"] = v
	}
	s := &spec{
		target:  "sqlauth",
		unknown: "not an option of repoze.who.plugins.sa",
		opts: map[string]func(*optCtx){
			"user_class": func(o *optCtx) { o.p.state()["user_class"] = o },
			"dbsession": func(o *optCtx) {
				o.p.lines = append(o.p.lines, line{key: "dbsession", val: tomlString(o.val), commented: true, comment: "a Python session: its engine's URL goes into WHO_SQL_DSN"})
			},
			"user_name_translation": name,
		},
	}
	if !metadata {
		s.opts["validate_password_translation"] = func(o *optCtx) { o.p.state()["validate"] = strings.TrimSpace(o.val) }
	}
	s.finish = func(o *optCtx, seen map[string]bool) {
		st := o.p.state()
		col := saColumn(o)
		uc, _ := st["user_class"].(*optCtx)
		class := "user_class"
		if uc != nil {
			class = strings.TrimSpace(uc.val)
		}
		o.setDefault("driver", tomlEnv("${WHO_SQL_DRIVER}"), "the database of dbsession's engine (the program must import the driver)")
		o.setDefault("dsn", tomlEnv("${WHO_SQL_DSN}"), "the sqlalchemy.url of the application's ini, as a data source name")
		var why string
		if metadata {
			o.setDefault("metadata_query", tomlString(fmt.Sprintf("SELECT * FROM %s WHERE %s = :userid", saTable, col)), "a guess (TurboGears 2's quickstart table): write "+class+"'s")
			o.setDefault("name", `"user"`, "identity[\"user\"], as repoze.who.plugins.sa set it")
			why = fmt.Sprintf("a Python class, whose table the who.ini does not give: repoze.who.plugins.sa put the %s object under identity[\"user\"]; "+
				"metadata_query is written on TurboGears 2's quickstart table %s: check it against %s's table and columns, and the code reading identity[\"user\"] (now a list of one row of columns)", class, saTable, class)
		} else {
			v, _ := st["validate"].(string)
			if v == "" {
				v = "validate_password"
			}
			o.setDefault("query", tomlString(fmt.Sprintf("SELECT %s, password FROM %s WHERE %s = :login", col, saTable, col)), "a guess (TurboGears 2's quickstart table): write "+class+"'s")
			o.setDefault("salted_hex", "true", "TurboGears 2's quickstart User stored 64 hex of salt then sha256(password + salt) in hex")
			why = fmt.Sprintf("a Python class, whose table the who.ini does not give: repoze.who.plugins.sa asked %s.%s; query is written on TurboGears 2's quickstart table (%s: %s, password, salted sha256 hex): "+
				"check it against %s's table and columns and the format of its password column (gowho reads salted hex, bcrypt, {SHA}, {SSHA}, crypt, passlib's pbkdf2)", class, v, saTable, col, class)
		}
		if uc == nil {
			o.c.problem(o.p.sec, "user_class", "missing: repoze.who.plugins.sa refused that at load; "+why, false)
			return
		}
		uc.drop(why)
	}
	return s
}

// registerSQLAlchemy converts repoze.who.plugins.sa's factories.
func registerSQLAlchemy() {
	register(sa(false), "repoze.who.plugins.sa:make_sa_authenticator")
	register(sa(true), "repoze.who.plugins.sa:make_sa_user_mdprovider")
}

// registerGone adds the single sign-on plugins gowho has no plugin for to
// replaced: each gets a note saying what to do instead.
func registerGone() {
	cas := replacement{
		note: "CAS: gowho has no CAS plugin. A CAS server of today (Apereo CAS 5 and later) also speaks OpenID Connect: " +
			"register gowho there as an OIDC client and declare an oidc plugin where this one was (docs/plugins/oidc.md); " +
			"else keep the Python application behind a CAS client (Apache's mod_auth_cas): gowho has no plugin that takes an identity from a proxy's header",
		short: "CAS: no gowho plugin; use the CAS server's OpenID Connect with an oidc plugin, see docs/plugins/oidc.md",
	}
	for _, u := range []string{
		"repoze.who.plugins.cas.main_plugin:make_plugin",
		"repoze.who.plugins.cas.challenge_decider:make_plugin",
		"bq.core.lib.cas_auth:make_plugin",
	} {
		replaced[u] = cas
	}
	saml := replacement{
		note: "SAML 2.0 (pysaml2's repoze.who plugin): gowho has no SAML plugin. Most identity providers that speak SAML (Shibboleth IdP with its OIDC plugin, ADFS, Entra ID, Keycloak) also speak OpenID Connect: " +
			"declare an oidc plugin where this one was (docs/plugins/oidc.md); else keep a SAML service provider in front (mod_auth_mellon, shibd)",
		short: "SAML 2.0: no gowho plugin; use the provider's OpenID Connect with an oidc plugin, see docs/plugins/oidc.md",
	}
	replaced["saml2.s2repoze.plugins.sp:make_plugin"] = saml
	replaced["saml2.s2repoze.plugins.challenge_decider:make_plugin"] = saml
	replaced["ckanext.repoze.who.shibboleth.plugin:make_identification_plugin"] = replacement{
		note: "Shibboleth (the attributes Apache's mod_shib set): gowho has no Shibboleth plugin. A Shibboleth IdP 4 or later speaks OpenID Connect with its OIDC plugin, as do most federations' proxies: " +
			"declare an oidc plugin where this one was (docs/plugins/oidc.md)",
		short: "Shibboleth: no gowho plugin; use the IdP's OpenID Connect with an oidc plugin, see docs/plugins/oidc.md",
	}
	replaced["repoze.who.plugins.browserid:make_plugin"] = replacement{
		note:  "BrowserID (Mozilla Persona) is gone: Mozilla shut it down in 2016. Log users in with OpenID Connect instead: declare an oidc plugin where this one was, see docs/plugins/oidc.md",
		short: "BrowserID (Persona) is gone since 2016; gowho offers OpenID Connect, see docs/plugins/oidc.md",
	}
	tequila := replacement{
		note: "Tequila (EPFL's single sign-on): gowho has no Tequila plugin; EPFL's identity provider speaks OpenID Connect (Entra ID): " +
			"declare an oidc plugin where this one was, see docs/plugins/oidc.md",
		short: "Tequila: no gowho plugin; use OpenID Connect with an oidc plugin, see docs/plugins/oidc.md",
	}
	for _, u := range []string{
		"repoze.who.plugins.tequila:make_plugin",
		"turbotequila.lib.auth_plugin:make_plugin",
		"turbotequila.lib.auth_plugin:make_plugin_auth",
		"turbotequila.lib.auth_plugin:make_plugin_cl",
	} {
		replaced[u] = tequila
	}
	replaced["ckanext.oauth2.repozewho:make_plugin"] = replacement{
		note: "ckanext-oauth2's plugin logged users in with an OAuth 2.0 provider's profile: if the provider speaks OpenID Connect (FIWARE's Keyrock, Keycloak, Google, GitHub through a bridge), " +
			"declare an oidc plugin where this one was, see docs/plugins/oidc.md",
		short: "OAuth 2.0 login: declare an oidc plugin for the provider, see docs/plugins/oidc.md",
	}
}
