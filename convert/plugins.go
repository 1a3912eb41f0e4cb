package convert

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// spec converts the options of one repoze.who entry point.
type spec struct {
	target      string // gowho's use
	note        string // a remark about the mapping itself
	noteWarning bool
	unknown     string // why an unknown option is not converted
	opts        map[string]func(*optCtx)
	finish      func(o *optCtx, seen map[string]bool)
	// classes are the classifications the Python class declared, by
	// stage: repoze.who applied them to an entry listed without ";CLASS".
	classes map[string]string
}

// targetStages are the stages each gowho plugin implements.
var targetStages = map[string][]string{
	"authtkt":    {"identifiers", "authenticators"},
	"basicauth":  {"identifiers", "challengers"},
	"htpasswd":   {"authenticators"},
	"redirector": {"challengers"},
	"sqlauth":    {"authenticators", "mdproviders"},
	"ldap":       {"authenticators", "mdproviders"},
	"memcached":  {"authenticators", "mdproviders"},
	"form":       {"identifiers", "challengers"},
	"sessionid":  {"identifiers", "authenticators"},
}

// Option converters.

func str(to string) func(*optCtx) {
	return func(o *optCtx) { o.set(to, tomlString(o.val), "") }
}

// quotedNote reports whether v is wrapped in quotes, which repoze.who kept.
func quoted(v string) bool {
	return len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0]
}

// strKeepQuotes converts a string that repoze.who used verbatim, saying so
// when it is quoted.
func strKeepQuotes(to string) func(*optCtx) {
	return func(o *optCtx) {
		c := ""
		if quoted(o.val) {
			c = "repoze.who keeps the quotes: the value is " + o.val + " with its quotes; remove them if they were not meant"
			o.note("the value " + o.val + " keeps its quotes, as repoze.who kept them")
		}
		o.set(to, tomlString(o.val), c)
	}
}

func path(to string) func(*optCtx) {
	return func(o *optCtx) {
		v := o.val
		if v != "" && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "~") &&
			!strings.Contains(strings.ToLower(rawOf(o.c.ini, o.p.sec, o.key)), "%(here)s") {
			// repoze.who opened it relative to the process's working
			// directory; gowho reads it relative to who.toml.
			o.set(to, tomlString(v), "note: relative to this file now; repoze.who read it relative to the working directory")
			o.note("a relative path: repoze.who read it relative to the process's working directory, gowho relative to who.toml; check where it points")
			return
		}
		c := "relative to this file"
		if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "~") {
			c = ""
		}
		o.set(to, tomlString(v), c)
	}
}

// pyBool is repoze.who's auth_tkt _bool: only yes/true/1 are true.
func pyBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1":
		return true
	}
	return false
}

// iniBool is configparser's getboolean reading, the one a reader expects.
func iniBool(v string) (b, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// boolPy converts a flag read by repoze.who's _bool.
func boolPy(to string) func(*optCtx) {
	return func(o *optCtx) {
		b := pyBool(o.val)
		c := ""
		if want, ok := iniBool(o.val); !ok || want != b {
			c = fmt.Sprintf("repoze.who read %q as %v (only yes/true/1 are true)", o.val, b)
			o.note(c)
		}
		o.p.state()[to] = b
		o.set(to, strconv.FormatBool(b), c)
	}
}

// boolTruthy converts a flag the original tested as a Python string: any
// non-empty value, "False" included, is true.
func boolTruthy(to string) func(*optCtx) {
	return func(o *optCtx) {
		b := o.val != ""
		c := ""
		if want, ok := iniBool(o.val); !ok || want != b {
			c = fmt.Sprintf("the original read the string %q as %v (any non-empty string is true)", o.val, b)
			o.note(c + "; check that this is what you want")
		}
		o.set(to, strconv.FormatBool(b), c)
	}
}

// seconds converts an integer number of seconds (Python int()).
func seconds(to string) func(*optCtx) {
	return func(o *optCtx) {
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(o.val), "_", ""))
		if err != nil || n < 0 {
			o.drop("not a number of seconds (repoze.who's int() would fail at load)")
			return
		}
		o.p.state()[to] = n
		o.set(to, strconv.Itoa(n), "seconds")
	}
}

// words converts a whitespace-separated list.
func words(to string) func(*optCtx) {
	return func(o *optCtx) { o.set(to, tomlList(strings.Fields(o.val)), "") }
}

// commas converts a comma-separated list (split on \s*,\s*).
func commas(to string) func(*optCtx) {
	return func(o *optCtx) {
		var items []string
		for _, it := range strings.Split(o.val, ",") {
			items = append(items, strings.TrimSpace(it))
		}
		o.set(to, tomlList(items), "")
	}
}

// ref converts an option naming another plugin.
func ref(to string) func(*optCtx) {
	return func(o *optCtx) {
		v := strings.TrimSpace(o.val)
		if v == "" {
			o.drop("empty plugin name")
			return
		}
		o.p.refs[o.key] = v
		o.set(to, tomlString(v), "")
	}
}

// pythonOnly drops an option whose value is a Python callable.
func pythonOnly(why string) func(*optCtx) {
	return func(o *optCtx) { o.drop(why) }
}

func (p *plugin) state() map[string]any {
	if p.st == nil {
		p.st = map[string]any{}
	}
	return p.st
}

// The entry points.

// replaced holds the repoze.who entry points (plugins and [general]
// names) that are not converted because the protocol they spoke is gone,
// with what gowho offers instead. `who convert` writes such a plugin as a
// commented section with a note (not a Python-only error) and such a
// [general] name as "default" with a note; a stage entry naming the
// plugin is still "not converted" (the login it gave needs a new plugin
// by hand), with the short pointer.
var replaced = map[string]replacement{
	"repoze.who.plugins.openid:make_identification_plugin":           openID,
	"repoze.who.plugins.openid.classifiers:openid_challenge_decider": openID,
}

// A replacement says what gowho offers instead of a gone entry point.
type replacement struct {
	note  string // the whole note, on the plugin's section
	short string // the pointer, on each line naming it
}

var openID = replacement{
	note: "OpenID 2.0 (repoze.who.plugins.openid) is gone: the providers turned it off; " +
		"gowho logs users in with OpenID Connect instead: declare an oidc plugin per provider (a client registered there) " +
		"and list it where this one was, see docs/plugins/oidc.md",
	short: "OpenID 2.0 is gone; gowho offers OpenID Connect, see docs/plugins/oidc.md",
}

var specs = map[string]*spec{}

func register(s *spec, uses ...string) {
	for _, u := range uses {
		specs[u] = s
	}
}

func init() {
	register(authTkt(tktRepoze), "repoze.who.plugins.auth_tkt:make_plugin")
	// CKAN <= 2.8 and CKAN 2.9 (ckan.lib.repoze_plugins) ship the same
	// CkanAuthTktCookiePlugin.
	register(authTkt(tktCKAN), "ckan.lib.auth_tkt:make_plugin", "ckan.lib.repoze_plugins.auth_tkt:make_plugin")
	register(authTkt(tktCKANMiddle), "ckan.config.middleware:ckan_auth_tkt_make_app")
	register(&spec{target: "basicauth", opts: map[string]func(*optCtx){
		"realm": func(o *optCtx) {
			if strings.ContainsFunc(o.val, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				o.drop("a realm with a control character (a multi-line value?) is refused by gowho")
				return
			}
			strKeepQuotes("realm")(o)
		},
	}}, "repoze.who.plugins.basicauth:make_plugin")
	register(htpasswd(), "repoze.who.plugins.htpasswd:make_plugin")
	register(redirector(), "repoze.who.plugins.redirector:make_plugin")
	register(sqlAuth(false), "repoze.who.plugins.sql:make_authenticator_plugin")
	register(sqlAuth(true), "repoze.who.plugins.sql:make_metadata_plugin")
	register(form("1x"), "repoze.who.plugins.form:make_plugin")
	register(form("redirecting"), "repoze.who.plugins.form:make_redirecting_plugin")
	register(form("friendly"), "repoze.who.plugins.friendlyform:FriendlyFormPlugin")
	register(memcached(), "repoze.who.plugins.memcached:make_plugin", "repoze.who.plugins.memcached:MemcachedPlugin")
	register(ldap("bind"), "repoze.who.plugins.ldap:LDAPAuthenticatorPlugin")
	register(ldap("search"), "repoze.who.plugins.ldap:LDAPSearchAuthenticatorPlugin")
	register(ldap("attrs"), "repoze.who.plugins.ldap:LDAPAttributesPlugin")
	register(useBeaker(), "repoze.who.plugins.use_beaker:make_plugin", "repoze.who.plugins.use_beaker:UseBeakerPlugin")
}

var digests = map[string]string{"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}

// The auth_tkt factories: repoze.who's own and the ones wrapping it.
const (
	tktRepoze     = ""                // repoze.who.plugins.auth_tkt:make_plugin
	tktCKAN       = "ckan"            // CKAN's CkanAuthTktCookiePlugin (ckan.lib[.repoze_plugins].auth_tkt)
	tktCKANMiddle = "ckan-middleware" // CKAN 1.x's ckan.config.middleware:ckan_auth_tkt_make_app
)

// authTkt converts an auth_tkt factory of the given kind: the options are
// repoze.who's, the defaults written out are the kind's own.
func authTkt(kind string) *spec {
	s := &spec{
		target: "authtkt",
		opts: map[string]func(*optCtx){
			"secret":      authTktSecret(kind),
			"secretfile":  path("secretfile"),
			"cookie_name": str("cookie_name"),
			"secure":      boolPy("secure"),
			"include_ip":  boolPy("include_ip"),
			"timeout":     seconds("timeout"),
			"reissue_time": func(o *optCtx) {
				seconds("reissue_time")(o)
			},
			"digest_algo": func(o *optCtx) {
				d, ok := digests[strings.ToLower(strings.TrimSpace(o.val))]
				if !ok {
					o.drop("gowho reads md5, sha1, sha256 and sha512 tickets only")
					return
				}
				o.p.state()["digest_algo"] = d
				o.set("digest_algo", tomlString(d), "")
			},
			"samesite":       authTktSameSite(kind),
			"userid_checker": pythonOnly("a Python callable; set authtkt.Options.UserIDChecker from Go instead"),
		},
		finish: func(o *optCtx, seen map[string]bool) { authTktFinish(kind, o, seen) },
	}
	switch kind {
	case tktCKAN:
		s.note = "CKAN's subclass of repoze.who's auth_tkt, converted as auth_tkt with CKAN's defaults (HttpOnly, SameSite=Lax, secure off); " +
			"CKAN read who.httponly, who.secure, who.samesite, who.timeout and who.reissue_time from ckan.ini: carry those you set over by hand"
		s.noteWarning = true
		s.opts["secure"] = func(o *optCtx) {
			boolPy("secure")(o)
			o.note("CKAN ignored the who.ini's secure: who.secure in ckan.ini decided (default false); the who.ini's value is written, check it against ckan.ini")
		}
	case tktCKANMiddle:
		s.note = "CKAN 1.x's ckan_auth_tkt_make_app: repoze.who's auth_tkt make_plugin, with an empty or \"somesecret\" secret replaced by beaker.session.secret"
		s.noteWarning = true
	}
	return s
}

// authTktSameSite converts samesite, which no factory's make_plugin took.
func authTktSameSite(kind string) func(*optCtx) {
	return func(o *optCtx) {
		v, ok := map[string]string{"lax": "Lax", "strict": "Strict", "none": "None"}[strings.ToLower(strings.TrimSpace(o.val))]
		if !ok {
			o.drop("want Lax, Strict or None")
			return
		}
		o.p.state()["same_site"] = v
		o.p.state()["same_site_own"] = o.own
		who := "repoze.who's make_plugin (2.2 and 3.x) does not accept samesite (only the class does): the original failed at load with a TypeError"
		if kind == tktCKAN {
			who = "CKAN's make_plugin does not accept samesite (CKAN read who.samesite from ckan.ini): the original failed at load with a TypeError, unless a patched CKAN took it"
		}
		o.note(who + "; converted as meant, same_site = " + strconv.Quote(v))
	}
}

func authTktFinish(kind string, o *optCtx, seen map[string]bool) {
	st := o.p.state()
	switch {
	case st["refused:secret"] == true: // a placeholder or an unreadable value
		o.setDefault("secret", tomlEnv("${WHO_AUTH_TKT_SECRET}"), "set WHO_AUTH_TKT_SECRET (32 random bytes or more)")
	case !seen["secret"] && !seen["secretfile"]:
		why := "no secret or secretfile (repoze.who refused that at load): written as ${WHO_AUTH_TKT_SECRET}"
		comment := "not converted: the who.ini has no secret; set WHO_AUTH_TKT_SECRET"
		if kind != tktRepoze {
			why = "no secret or secretfile: CKAN used beaker.session.secret from ckan.ini; written as ${WHO_AUTH_TKT_SECRET}: set it to that value to keep the site's tickets valid"
			comment = "not converted: the who.ini has no secret (CKAN used beaker.session.secret); set WHO_AUTH_TKT_SECRET"
		}
		o.setDefault("secret", tomlEnv("${WHO_AUTH_TKT_SECRET}"), comment)
		o.c.problem(o.p.sec, "secret", why, false)
	}
	if _, ok := st["digest_algo"]; !ok && !seen["digest_algo"] {
		o.setDefault("digest_algo", `"md5"`, "repoze.who's default, written out so tickets stay valid")
	}
	secure, _ := st["secure"].(bool)
	if kind == tktCKAN {
		if !seen["secure"] {
			o.setDefault("secure", "false", "CKAN's default (who.secure in ckan.ini, default false)")
		}
		o.setDefault("http_only", "true", "CKAN's default (who.httponly in ckan.ini, default true)")
	} else {
		o.setDefault("http_only", strconv.FormatBool(secure), "repoze.who sent HttpOnly only with secure")
	}
	switch ss, _ := st["same_site"].(string); {
	case ss != "":
		c := "samesite in the who.ini"
		if own, _ := st["same_site_own"].(bool); !own {
			c = "from [DEFAULT]; samesite"
		}
		o.setDefault("same_site", tomlString(ss), c)
	case kind == tktCKAN:
		o.setDefault("same_site", `"Lax"`, "CKAN's default (who.samesite in ckan.ini, default lax; CKAN releases without it sent none, which browsers read as Lax)")
	default:
		o.setDefault("same_site", `"off"`, "repoze.who sent no SameSite; \"Lax\" is gowho's default")
	}
	o.setDefault("repoze_domains", "true", "repoze.who's three cookies: host-only, Domain=HOST and Domain=.HOST")
	t, hasT := st["timeout"].(int)
	r, hasR := st["reissue_time"].(int)
	switch {
	case hasT && !hasR && kind == tktCKAN:
		// CKAN: reissue_time = ceil(timeout * 0.1).
		o.setDefault("reissue_time", strconv.Itoa((t+9)/10), "seconds; CKAN's default: a tenth of timeout, rounded up")
	case hasT && !hasR:
		o.c.problem(o.p.sec, "timeout", "timeout without reissue_time: repoze.who refused it at load; gowho makes it a fixed expiry", true)
	case hasT && hasR && r > t:
		o.c.problem(o.p.sec, "reissue_time", "reissue_time above timeout: repoze.who refused it at load, and so does gowho", false)
	}
}

// Secret lengths of gowho's authtkt (authtkt.MinSecretBytes and
// GoodSecretBytes; not imported, so that convert stays free of plugins).
const (
	minTktSecret  = 16
	goodTktSecret = 32
)

// placeholderSecrets are auth_tkt secrets that the corpus of public
// who.ini files, repoze.who's documentation and framework templates ship
// (lower-cased): anyone can sign tickets with them. CKAN's "somesecret"
// is among them: CKAN replaced it with beaker.session.secret.
var placeholderSecrets = map[string]bool{
	"secret": true, "secrets": true, "somesecret": true, "some_secret": true, "mysecret": true, "my_secret": true,
	"yoursecret": true, "your_secret": true, "your-secret": true, "thesecret": true, "supersecret": true, "super_secret": true,
	"s3cret": true, "s3cr3t": true, "secr3t": true, "s33kr1t": true, "s33kr3t": true, "seekrit": true, "seekr1t": true,
	"seeeecrit": true, "sup3rs33kr1t": true, "sekrit": true,
	"changeme": true, "change_me": true, "change-me": true, "changethis": true, "change_this": true, "changeit": true,
	"xxx": true, "xxxx": true, "xxxxx": true, "xxxxxx": true, "something": true, "blinketyblink": true, "w00t": true,
	"password": true, "test": true, "foo": true, "foobar": true, "replace_me": true, "replaceme": true,
	"to-be_randomly--generated": true, "this_is_insecure_do_not_use": true, "auth_specific_token": true,
}

// placeholderSecret reports why v is a secret not to sign with, or "".
func placeholderSecret(kind, v string) string {
	switch {
	case v == "" && kind == tktCKANMiddle:
		return "an empty secret: ckan_auth_tkt_make_app replaced it with beaker.session.secret from the application's ini; written as ${WHO_AUTH_TKT_SECRET}: set it to that value to keep the site's tickets valid"
	case v == "":
		return fmt.Sprintf("an empty secret: repoze.who signed with it, gowho refuses it; written as ${WHO_AUTH_TKT_SECRET}: set a secret of %d random bytes or more", goodTktSecret)
	case v == "somesecret" && kind != tktRepoze:
		return "CKAN replaced the placeholder \"somesecret\" with beaker.session.secret from ckan.ini; written as ${WHO_AUTH_TKT_SECRET}: set it to that value to keep the site's tickets valid (better: a new secret of 32 random bytes)"
	case placeholderSecrets[strings.ToLower(v)]:
		return fmt.Sprintf("the value is a publicly known placeholder (shipped in public who.ini files and documentation): anyone could sign tickets with it; "+
			"written as ${WHO_AUTH_TKT_SECRET}: set a new secret of %d random bytes or more (users log in again)", goodTktSecret)
	}
	return ""
}

// authTktSecret converts the secret. A publicly known placeholder is
// refused (${WHO_AUTH_TKT_SECRET}). gowho refuses one under minTktSecret
// bytes unless allow_weak_secret is set: a converted secret keeps the
// tickets of the running site valid, so the flag is written, with a note.
func authTktSecret(kind string) func(*optCtx) {
	return func(o *optCtx) {
		if why := placeholderSecret(kind, o.val); why != "" {
			o.p.lines = append(o.p.lines, line{note: true, comment: "not converted: " + o.from() + "secret: " + why})
			o.setDefault("secret", tomlEnv("${WHO_AUTH_TKT_SECRET}"), "set WHO_AUTH_TKT_SECRET (32 random bytes or more)")
			o.c.problem(o.p.sec, o.key, why, false)
			return
		}
		n := len(o.val)
		switch {
		case n < minTktSecret:
			o.set("secret", tomlString(o.val), fmt.Sprintf("%d bytes: replace it (%d random bytes or more), keeping this one in old_secrets while tickets live", n, goodTktSecret))
			o.setDefault("allow_weak_secret", "true", fmt.Sprintf("gowho refuses secrets under %d bytes; kept so the site's tickets stay valid", minTktSecret))
			o.note(fmt.Sprintf("the secret is %d bytes, under gowho's minimum of %d: allow_weak_secret = true is written so existing tickets stay valid; "+
				"move to a secret of %d random bytes or more (the short one in old_secrets until its tickets expire)", n, minTktSecret, goodTktSecret))
		case n < goodTktSecret:
			o.set("secret", tomlString(o.val), fmt.Sprintf("%d bytes: gowho warns under %d at load; a longer one is better", n, goodTktSecret))
		default:
			o.set("secret", tomlString(o.val), "")
		}
	}
}

var checkFns = map[string]string{
	"repoze.who.plugins.htpasswd:crypt_check":     "auto",
	"repoze.who.plugins.htpasswd:sha1_check":      "auto",
	"bcrypt:checkpw":                              "auto",
	"repoze.who.plugins.htpasswd:plain_check":     "plain",
	"repoze.who.plugins.htpasswd:cleartext_check": "plain",
}

func htpasswd() *spec {
	return &spec{
		target: "htpasswd",
		opts: map[string]func(*optCtx){
			"filename": path("filename"),
			"check_fn": func(o *optCtx) {
				v := strings.TrimSpace(o.val)
				g, ok := checkFns[v]
				if !ok {
					o.drop("an unknown Python check function; gowho detects each line's scheme (check_fn = \"auto\", or \"plain\" for clear text)")
					return
				}
				c := "was " + v + "; gowho detects every Apache scheme per line"
				if g == "plain" {
					c = "was " + v + "; clear-text lines are read (hashed lines too)"
				}
				o.set("check_fn", tomlString(g), c)
			},
		},
	}
}

func redirector() *spec {
	return &spec{
		target: "redirector",
		opts: map[string]func(*optCtx){
			"login_url":       str("login_url"),
			"came_from_param": str("came_from_param"),
			"reason_param":    str("reason_param"),
			"reason_header":   str("reason_header"),
		},
		finish: func(o *optCtx, seen map[string]bool) {
			if !seen["came_from_param"] {
				o.setDefault("came_from_param", `""`, "make_plugin's default None: no came_from in the query")
			}
			if !seen["reason_param"] {
				o.setDefault("reason_param", `""`, "make_plugin's default None: no reason in the query")
			}
			if seen["reason_header"] && !seen["reason_param"] {
				o.c.problem(o.p.sec, "reason_header", "reason_header without reason_param: repoze.who refused it at load, and so does gowho", false)
			}
			if !seen["login_url"] {
				o.c.problem(o.p.sec, "login_url", "missing: repoze.who refused that at load, and so does gowho", false)
			}
		},
	}
}

var pyformat = regexp.MustCompile(`%%|%\(([^)]*)\)s|%`)
var paramName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// sqlQuery turns a DB-API pyformat query into gowho's :name parameters.
func sqlQuery(q string) (string, string) {
	var bad string
	out := pyformat.ReplaceAllStringFunc(q, func(m string) string {
		switch {
		case m == "%%":
			return "%"
		case m == "%":
			if bad == "" {
				bad = "a % that is no %(name)s parameter"
			}
			return m
		}
		name := m[2 : len(m)-2]
		if !paramName.MatchString(name) {
			if bad == "" {
				bad = "parameter " + m + " is not letters, digits and _"
			}
			return m
		}
		return ":" + name
	})
	return out, bad
}

func sqlAuth(metadata bool) *spec {
	query := func(to string) func(*optCtx) {
		return func(o *optCtx) {
			v := strings.TrimSpace(o.val)
			wasQuoted := quoted(v)
			if wasQuoted {
				// repoze.who kept the quotes, which made the query a SQL
				// syntax error; gowho would not even find its parameters.
				v = v[1 : len(v)-1]
			}
			q, bad := sqlQuery(v)
			if bad != "" {
				o.drop(bad)
				return
			}
			c := ""
			if q != v {
				c = "pyformat %(name)s parameters written as :name"
			}
			if wasQuoted {
				c = strings.TrimPrefix(c+"; ", "; ") + "the quotes around it are removed: repoze.who kept them, and the database refused the query"
				o.note("the query was quoted; repoze.who kept the quotes (a SQL syntax error at every login): they are removed")
			}
			o.p.state()["query"] = true
			o.set(to, tomlString(q), c)
		}
	}
	s := &spec{
		target:  "sqlauth",
		unknown: "repoze.who passed it to conn_factory; put what it means into WHO_SQL_DSN",
		opts: map[string]func(*optCtx){
			"conn_factory": func(o *optCtx) {
				o.p.state()["conn_factory"] = strings.TrimSpace(o.val)
			},
		},
	}
	if metadata {
		s.opts["query"] = query("metadata_query")
		s.opts["name"] = str("name")
		s.opts["filter"] = pythonOnly("a Python filter of the rows; gowho stores them as they are (one column: []string)")
	} else {
		s.opts["query"] = query("query")
		s.opts["compare_fn"] = func(o *optCtx) {
			switch strings.TrimSpace(o.val) {
			case "repoze.who.plugins.sql:default_password_compare":
				o.p.state()["compare"] = "default"
			case "repoze.who.plugins.htpasswd:plain_check", "repoze.who.plugins.htpasswd:cleartext_check":
				o.p.state()["compare"] = "plain"
			default:
				o.p.state()["compare"] = "unknown"
				o.drop("an unknown Python compare function; gowho reads {SHA} hex, bcrypt, apr1, md5-crypt, {SSHA} and (with allow_plain) clear text")
			}
		}
	}
	s.finish = func(o *optCtx, seen map[string]bool) {
		st := o.p.state()
		cf, _ := st["conn_factory"].(string)
		switch {
		case cf == "":
			o.c.problem(o.p.sec, "conn_factory", "missing: repoze.who refused that at load; driver and dsn are written as ${WHO_SQL_DRIVER} and ${WHO_SQL_DSN}", false)
		default:
			why := "conn_factory = " + cf + " is Python: driver and dsn are written as ${WHO_SQL_DRIVER} and ${WHO_SQL_DSN}; set them (and import the driver)"
			o.p.lines = append(o.p.lines, line{key: "conn_factory", val: tomlString(cf), commented: true, comment: "not converted: a Python connection factory"})
			o.c.problem(o.p.sec, "conn_factory", why, false)
		}
		o.setDefault("driver", tomlEnv("${WHO_SQL_DRIVER}"), "e.g. pgx for PostgreSQL (the program must import the driver)")
		o.setDefault("dsn", tomlEnv("${WHO_SQL_DSN}"), "the database/sql data source name")
		if strings.Contains(cf, "psycopg") {
			o.setDefault("placeholder", `"$1"`, "PostgreSQL's positional parameters (psycopg)")
		}
		if !metadata {
			switch c, _ := st["compare"].(string); c {
			case "plain":
				// The original compared nothing but clear text.
				o.setDefault("allow_plain", "true", "compare_fn compared clear text only; store hashes instead")
				o.c.problem(o.p.sec, "compare_fn", "the passwords were compared as clear text: allow_plain = true is written; store hashes (bcrypt) and remove it", true)
			case "", "default":
				// default_password_compare read {SHA}<hex> and, failing
				// that, clear text. gowho reads only hashes unless told:
				// the ini cannot say which the table holds.
				o.p.lines = append(o.p.lines, line{key: "allow_plain", val: "true", commented: true,
					comment: "default_password_compare also took a value without {SHA} as clear text; uncomment only if the table holds clear-text passwords"})
				o.c.problem(o.p.sec, "compare_fn", "default_password_compare also accepted clear-text passwords; gowho reads hashes only ({SHA}, bcrypt, crypt…): "+
					"if the table holds clear text, set allow_plain = true (better: rehash)", true)
			}
		}
		if _, ok := st["query"]; !ok {
			o.c.problem(o.p.sec, "query", "missing: repoze.who refused that at load, and so does gowho", false)
		}
	}
	// Every other key went to conn_factory as **kw.
	return s
}

func form(kind string) *spec {
	s := &spec{
		target: "form",
		opts: map[string]func(*optCtx){
			"rememberer_name": ref("rememberer_name"),
		},
	}
	switch kind {
	case "1x":
		s.opts["login_form_qs"] = str("login_form_qs")
		s.opts["form"] = path("form")
		s.opts["formcallable"] = pythonOnly("a Python callable; use form = a html/template file")
		s.note = "repoze.who 1.x FormPlugin: gowho's form in form-on-challenge mode; its page posts login, password and a CSRF token"
		s.noteWarning = true
	case "redirecting", "friendly":
		s.opts["login_form_url"] = str("login_form_url")
		s.opts["login_handler_path"] = str("login_handler_path")
		s.opts["logout_handler_path"] = str("logout_handler_path")
		if kind == "friendly" {
			s.opts["post_login_url"] = str("post_login_url")
			s.opts["post_logout_url"] = str("post_logout_url")
			s.opts["login_counter_name"] = str("login_counter_name")
			s.opts["charset"] = formCharset
			s.opts["query_strings"] = pythonOnly("no gowho equivalent")
			// FriendlyFormPlugin's class attribute; repoze.who's own
			// FormPlugin and RedirectingFormPlugin declare none.
			s.classes = map[string]string{"identifiers": "browser", "challengers": "browser"}
		}
		s.finish = func(o *optCtx, seen map[string]bool) {
			o.setDefault("serve_form", "false", "the application serves its own page at login_form_url, as with repoze.who; "+
				"its POST logs in without a CSRF token when the browser says it is same-origin (Sec-Fetch-Site, or Origin), a cross-site one is refused; "+
				"a Go page can add form.CSRFField")
			o.c.problem(o.p.sec, "", "the application's own login page posts to login_handler_path: gowho accepts it when the browser says the POST is same-origin "+
				"(Sec-Fetch-Site: same-origin, or a same-host Origin) and refuses cross-site ones (login CSRF); a Go page can add form.CSRFField for browsers that send neither", true)
			if kind == "friendly" && !seen["charset"] {
				o.c.problem(o.p.sec, "charset", "absent: FriendlyFormPlugin decoded a POST without a charset as ISO-8859-1, gowho reads UTF-8 (what browsers send from a UTF-8 page): "+
					"ASCII logins and passwords are the same; a non-ASCII one typed on a page that is not UTF-8 no longer matches", true)
			}
			if !seen["login_form_url"] {
				o.c.problem(o.p.sec, "login_form_url", "missing: the original required it", false)
			}
		}
	}
	return s
}

// formCharset converts FriendlyFormPlugin's charset: UTF-8 is what gowho
// reads; another one is reported, never silently read as UTF-8.
func formCharset(o *optCtx) {
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(o.val), "_", "-")) {
	case "utf-8", "utf8":
		o.p.lines = append(o.p.lines, line{note: true, comment: "charset = " + o.val + ": gowho reads login POSTs as UTF-8, as this form did"})
	default:
		o.drop("gowho reads login POSTs as UTF-8 only; the original decoded them as " + o.val + ": non-ASCII logins and passwords would no longer match")
	}
}

func memcached() *spec {
	return &spec{
		target: "memcached",
		opts: map[string]func(*optCtx){
			"memcached_urls":     words("memcached_urls"),
			"authenticator_name": ref("authenticator_name"),
			"mdprovider_name":    ref("mdprovider_name"),
			"key_items": func(o *optCtx) {
				o.p.state()["key_items"] = strings.Fields(o.val)
				words("key_items")(o)
			},
			"value_items": words("value_items"),
			"secret":      str("secret"),
			"ttl":         seconds("ttl"),
		},
		finish: func(o *optCtx, seen map[string]bool) {
			if refused, _ := o.p.state()["refused:secret"].(bool); refused {
				o.setDefault("secret", tomlEnv("${WHO_MEMCACHED_SECRET}"), "the who.ini's value is not converted (see the report); set WHO_MEMCACHED_SECRET")
			} else if !seen["secret"] {
				o.setDefault("secret", tomlEnv("${WHO_MEMCACHED_SECRET}"), "the original used a random secret per process; gowho requires one")
				o.c.problem(o.p.sec, "secret", "no secret (the original made a random one per process, so no cache was shared): written as ${WHO_MEMCACHED_SECRET}", false)
			}
			if ki, ok := o.p.state()["key_items"].([]string); ok && seen["authenticator_name"] && !contains(ki, "password") {
				o.setDefault("allow_passwordless_keys", "true", "as the original: a cached success logs in without the password for ttl; add \"password\" to key_items")
				o.c.problem(o.p.sec, "key_items", "key_items without password makes the cache a password-less login for ttl (kept as the original, with allow_passwordless_keys = true)", true)
			}
		},
	}
}

func ldap(kind string) *spec {
	s := &spec{
		target: "ldap",
		opts: map[string]func(*optCtx){
			"ldap_connection": str("url"),
			"base_dn":         str("base_dn"),
			"start_tls":       boolTruthy("start_tls"),
			"bind_dn":         str("bind_dn"),
			"bind_pass":       str("bind_password"),
		},
	}
	switch kind {
	case "bind", "search":
		s.opts["naming_attribute"] = func(o *optCtx) {
			o.p.state()["naming_attribute"] = strings.TrimSpace(o.val)
			str("naming_attribute")(o)
		}
		s.opts["returned_id"] = func(o *optCtx) {
			o.p.state()["returned_id"] = true
			str("returned_id")(o)
		}
		s.opts["base_dn"] = func(o *optCtx) {
			o.p.state()["base_dn"] = o.val
			str("base_dn")(o)
		}
		if kind == "search" {
			s.opts["search_scope"] = func(o *optCtx) {
				v := strings.ToLower(strings.TrimSpace(o.val))
				switch {
				case strings.HasPrefix(v, "sub"):
					o.set("search_scope", `"subtree"`, "")
				case strings.HasPrefix(v, "one"):
					o.set("search_scope", `"onelevel"`, "")
				default:
					o.drop("neither sub… nor one… (the original refused it at load)")
				}
			}
			s.opts["restrict"] = str("restrict")
			s.opts["filterstr"] = pythonOnly("the original's search plugin ignored filterstr; gowho's filter would apply it")
		}
		s.finish = func(o *optCtx, seen map[string]bool) {
			st := o.p.state()
			if _, ok := st["returned_id"]; !ok {
				o.setDefault("returned_id", `"dn"`, "the original's default")
			}
			if kind == "bind" {
				na, _ := st["naming_attribute"].(string)
				if na == "" {
					na = "uid"
				}
				if bd, ok := st["base_dn"].(string); ok && bd != "" {
					o.setDefault("bind_dn_template", tomlString(na+"=%s,"+strings.ReplaceAll(bd, "%", "")), "the original bound as NAMING_ATTRIBUTE=LOGIN,BASE_DN (gowho escapes the login)")
				}
			}
		}
	case "attrs":
		s.opts["attributes"] = commas("attributes")
		s.opts["filterstr"] = str("filterstr")
	}
	return s
}

func useBeaker() *spec {
	return &spec{
		target:      "sessionid",
		note:        "use_beaker kept the identity in a Beaker session; gowho's sessionid keeps it in a gowho session manager, declared below",
		noteWarning: true,
		opts: map[string]func(*optCtx){
			"key_name":         str("key_name"),
			"session_name":     func(o *optCtx) { o.p.state()["session_name"] = o.val },
			"delete_on_logout": boolTruthy("delete_on_logout"),
			"alsopersist":      commas("alsopersist"),
		},
		finish: func(o *optCtx, seen map[string]bool) {
			name := "beaker_session"
			for i := 2; o.c.used[name]; i++ {
				name = fmt.Sprintf("beaker_session%d", i)
			}
			o.c.used[name] = true
			env, _ := o.p.state()["session_name"].(string)
			if env == "" {
				env = "beaker.session"
			}
			o.setDefault("session_name", tomlString(name), "was the environ key "+env)
			o.p.extra = append(o.p.extra, fmt.Sprintf("\n[plugin.%s]  # replaces Beaker's SessionMiddleware (configured outside who.ini)\nuse = \"session\"\nstore = \"memory\"  # Beaker's default store; see docs/sessions.md for cookie, file, memcached and redis\n", name))
			o.c.problem(o.p.sec, "session_name", "Beaker's session settings live in the application's configuration, not in who.ini: review [plugin."+name+"] (store, cookie, timeouts)", false)
		},
	}
}
