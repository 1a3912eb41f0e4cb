package convert_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/convert"
	"github.com/gowho/gowho/who"
)

// thirdPartyDir holds small who.ini files written for these tests in the
// shapes of the corpus's (CKAN 2.8 and 2.9, repoze.who.plugins.sa, the
// module:Class spellings, single sign-on), beside their goldens.
const thirdPartyDir = "testdata/thirdparty"

// TestThirdParty converts each fixture of testdata/thirdparty against
// its goldens (NAME.golden, NAME.stderr.golden; -update rewrites them),
// loads the output as `who check` would and compares the chains with the
// ini's, and checks what each file must say: the converted lines, and
// the notes (true) and "not converted" problems (false) by "section key".
func TestThirdParty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string        // in the who.toml
		probs map[string]bool // "section key" -> a note (true) or not converted (false), each with words
		words map[string]string
	}{
		{
			name: "ckan28",
			lines: []string{
				"[plugin.ckan_users]  # listed as ckan.lib.authenticator:UsernamePasswordAuthenticator, with no [plugin:] section",
				`use = "sqlauth"`,
				`query = "SELECT name, password FROM \"user\" WHERE name = :login AND state = 'active'"`,
				`dsn = "${WHO_SQL_DSN}"`, `driver = "${WHO_SQL_DRIVER}"`, "salted_hex = true",
				`  "ckan_users",`,
			},
			probs: map[string]bool{"plugin:ckan_users ": true},
			words: map[string]string{"plugin:ckan_users ": "review the query"},
		},
		{
			name: "ckan29",
			lines: []string{
				`use = "form"  # ckan.lib.repoze_plugins.friendly_form:FriendlyFormPlugin`,
				"ORDER BY e.created LIMIT 1), :login)",
				`  "ckan_users",`,
				`  # "ckan.lib.authenticator:OpenIDAuthenticator",  # not converted: [plugin:ckan_openid] was not converted: CKAN's OpenID 2.0 authenticator`,
			},
			probs: map[string]bool{"plugin:ckan_users ": true, "plugin:ckan_openid use": true, "authenticators plugins": false},
			words: map[string]string{"plugin:ckan_users ": "by e-mail", "plugin:ckan_openid use": "docs/plugins/oidc.md", "authenticators plugins": "OpenID Connect"},
		},
		{
			name: "classes",
			lines: []string{
				`use = "basicauth"  # repoze.who.plugins.basicauth:BasicAuthPlugin`,
				// The class tested the string "false": secure was on.
				`secure = true  # the original read the string "false" as true`,
				`check_fn = "auto"`,
				`use = "redirector"  # repoze.who.plugins.redirector:RedirectorPlugin`,
			},
			probs: map[string]bool{"plugin:tkt secure": true, "plugin:passwd check": true},
			words: map[string]string{"plugin:tkt secure": "non-empty", "plugin:passwd check": "a function"},
		},
		{
			name: "ldapcopies",
			lines: []string{`use = "ldap"  # nova.lib.auth:ReconnectingAuthenticatorPlugin`, `bind_dn_template = "uid=%s,ou=People,dc=example,dc=org"`,
				`use = "ldap"  # who_ldap:LDAPSearchAuthenticatorPlugin`, `url = "ldap://ldap.example.org"`, `search_scope = "subtree"`},
			probs: map[string]bool{"plugin:ldap_auth use": true},
			words: map[string]string{"plugin:ldap_auth use": "refused an empty password"},
		},
		{
			name: "sa",
			lines: []string{
				`query = "SELECT login_name, password FROM tg_user WHERE login_name = :login"`,
				`metadata_query = "SELECT * FROM tg_user WHERE user_name = :userid"`,
				`name = "user"`, "salted_hex = true",
			},
			probs: map[string]bool{"plugin:sa_auth user_class": false, "plugin:sa_md user_class": false},
			words: map[string]string{"plugin:sa_auth user_class": "myapp.model:User", "plugin:sa_md user_class": `identity["user"]`},
		},
		{
			name: "sso",
			lines: []string{
				"# [plugin.cas]", "# [plugin.saml2auth]", "# [plugin.shib]", "# [plugin.browserid]", "# [plugin.tequila]",
				`query = "SELECT user_name, password FROM vigilo_user WHERE user_name = :login"`,
				`  "vigilo_users",`,
				`metadata_query = "SELECT user_name, fullname, email, language FROM vigilo_user WHERE user_name = :userid"`, `  "vigilo_user_md",`,
			},
			probs: map[string]bool{
				"plugin:cas use": true, "plugin:saml2auth use": true, "plugin:shib use": true, "plugin:browserid use": true, "plugin:tequila use": true,
				"plugin:vigilo_users ": true, "plugin:vigilo_user_md ": true, "identifiers plugins": false, "authenticators plugins": false,
			},
			words: map[string]string{
				"plugin:cas use": "Apereo CAS", "plugin:saml2auth use": "mod_auth_mellon", "plugin:shib use": "Shibboleth IdP",
				"plugin:browserid use": "2016", "plugin:tequila use": "Tequila", "plugin:vigilo_users ": "use_kerberos",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(thirdPartyDir, tc.name+".ini")
			ini, out, probs := convertFile(t, f)
			var stderr bytes.Buffer
			for _, p := range probs {
				stderr.WriteString(p.String() + "\n")
			}
			golden(t, filepath.Join(thirdPartyDir, tc.name+".golden"), out)
			golden(t, filepath.Join(thirdPartyDir, tc.name+".stderr.golden"), stderr.Bytes())
			toml := string(out)
			for _, l := range tc.lines {
				if !strings.Contains(toml, l) {
					t.Errorf("the who.toml lacks %q:\n%s", l, toml)
				}
			}
			seen := map[string]bool{}
			for _, p := range probs {
				if strings.Contains(p.Msg, "Python-only") {
					t.Errorf("%v: called Python-only, want what to do instead", p)
				}
				if p.Line == 0 {
					t.Errorf("%v names no line", p)
				}
				k := p.Section + " " + p.Key
				note, ok := tc.probs[k]
				if !ok {
					continue
				}
				if p.Warning == note {
					seen[k] = true
				}
				if w := tc.words[k]; w != "" && p.Warning == note && !strings.Contains(p.Msg, w) {
					t.Errorf("%s: %q lacks %q", k, p.Msg, w)
				}
			}
			for k, note := range tc.probs {
				if !seen[k] {
					t.Errorf("no problem %q (a note: %v); got:\n%s", k, note, stderr.String())
				}
			}
			chain, err := config.Parse(filepath.Join(loadDir(t), "who.toml"), out, config.Options{LookupEnv: lookupEnv, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatalf("the converted file does not load (who check would refuse it):\n%v\n%s", err, toml)
			}
			defer chain.Close()
			checkSameChain(t, inlinedINI(t, f, ini, out), chain, probs)
		})
	}
}

// inlined matches a plugin declared for a dotted name a stage listed.
var inlined = regexp.MustCompile(`(?m)^\[plugin\.(\S+)\]  # listed as (\S+), with no \[plugin:\] section$`)

// inlinedINI is the who.ini of path with the dotted names that Convert
// declared as plugins replaced by those plugins' names, as the chain
// lists them (ini itself when there are none).
func inlinedINI(t *testing.T, path string, ini *convert.INI, out []byte) *convert.INI {
	t.Helper()
	m := inlined.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return ini
	}
	data, err := os.ReadFile(path)
	must(t, err)
	for _, g := range m {
		data = bytes.ReplaceAll(data, g[2], g[1])
	}
	r, err := convert.ParseINI(data, filepath.Dir(path))
	must(t, err)
	return r
}

// TestThirdPartyInlineNamesUnique: a who.ini that already has a plugin
// named like the one an inline entry declares keeps both, and the stage
// lists the declared one.
func TestThirdPartyInlineNamesUnique(t *testing.T) {
	t.Parallel()
	src := "[plugin:ckan_users]\nuse = repoze.who.plugins.htpasswd:make_plugin\nfilename = /etc/passwd\n\n" +
		"[general]\nrequest_classifier = repoze.who.classifiers:default_request_classifier\nchallenge_decider = repoze.who.classifiers:default_challenge_decider\n\n" +
		"[authenticators]\nplugins =\n    ckan_users\n    ckan.lib.authenticator:UsernamePasswordAuthenticator\n"
	ini, err := convert.ParseINI([]byte(src), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, _ := convert.Convert(ini, convert.Options{})
	for _, w := range []string{"[plugin.ckan_users]  # [plugin:ckan_users]", "[plugin.ckan_users2]  # listed as ckan.lib.authenticator:UsernamePasswordAuthenticator", `  "ckan_users",` + "\n" + `  "ckan_users2",`} {
		if !strings.Contains(string(out), w) {
			t.Errorf("the who.toml lacks %q:\n%s", w, out)
		}
	}
}

// passlibHash is pbkdf2_sha512.hash("ckan-pass-1"), made by Debian's
// python3-passlib 1.7.4: what CKAN 2.1 and later store.
const passlibHash = "$pbkdf2-sha512$25000$LOXcO.ccI8TYO2dMaS3l3A$plfXftfdUtyWCEJqi5r2Ou58X68MbsEnFT7Yt31JogAWyXd/B/ws8ikw66YKWLMBkP/IpjTlbopDsObri63QKA"

// ckanSaltedSHA1 is what CKAN before 2.1 stored: 40 hex of salt, then
// sha1(password + salt) in hex.
func ckanSaltedSHA1(password, salt string) string {
	sum := sha1.Sum([]byte(password + salt))
	return salt + hex.EncodeToString(sum[:])
}

// TestCKANUsersLogIn loads the who.toml converted from a CKAN 2.8 and a
// datagovau who.ini against SQLite holding a CKAN-shaped "user" table, and
// logs in as CKAN did: active users only, by name (and by e-mail with
// datagovau's authenticator), with passlib's pbkdf2 and the salted sha1
// hex of CKAN before 2.1.
func TestCKANUsersLogIn(t *testing.T) {
	t.Parallel()
	salt := strings.Repeat("5a1f", 10)
	rows := [][]string{ // name, password, state, email, created
		{"alice", passlibHash, "active", "alice@example.org", "2019-01-01"},
		{"bob", ckanSaltedSHA1("old-pass", salt), "active", "bob@example.org", "2012-01-01"},
		{"carol", passlibHash, "deleted", "carol@example.org", "2019-01-01"},
		{"dave", passlibHash, "active", "shared@example.org", "2015-01-01"},
		{"erin", passlibHash, "active", "shared@example.org", "2020-01-01"},
	}
	for _, tc := range []struct {
		fixture string
		logins  map[[2]string]string // login, password -> userid ("" no)
	}{
		{"ckan28", map[[2]string]string{
			{"alice", "ckan-pass-1"}: "alice", {"alice", "wrong"}: "",
			{"bob", "old-pass"}: "bob", {"bob", "old-pass "}: "",
			{"carol", "ckan-pass-1"}:             "", // deleted: CKAN's is_active()
			{"alice@example.org", "ckan-pass-1"}: "",
			{"nobody", "ckan-pass-1"}:            "",
		}},
		{"ckan29", map[[2]string]string{
			{"alice", "ckan-pass-1"}:              "alice",
			{"alice@example.org", "ckan-pass-1"}:  "alice",
			{"bob@example.org", "old-pass"}:       "bob",
			{"carol@example.org", "ckan-pass-1"}:  "",
			{"shared@example.org", "ckan-pass-1"}: "dave", // the oldest account with that e-mail
		}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			dir := t.TempDir()
			db, err := sql.Open("sqlite", filepath.Join(dir, "ckan.db"))
			must(t, err)
			defer db.Close()
			_, err = db.Exec(`CREATE TABLE "user" (name TEXT, password TEXT, state TEXT, email TEXT, created TEXT)`)
			must(t, err)
			for _, r := range rows {
				_, err := db.Exec(`INSERT INTO "user" VALUES (?, ?, ?, ?, ?)`, r[0], r[1], r[2], r[3], r[4])
				must(t, err)
			}
			_, out, _ := convertFile(t, filepath.Join(thirdPartyDir, tc.fixture+".ini"))
			env := map[string]string{"WHO_SQL_DRIVER": "sqlite", "WHO_SQL_DSN": filepath.Join(dir, "ckan.db"), "WHO_AUTH_TKT_SECRET": testEnv["WHO_AUTH_TKT_SECRET"]}
			chain, err := config.Parse(filepath.Join(dir, "who.toml"), out, config.Options{
				LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
				Logger:    slog.New(slog.DiscardHandler),
			})
			must(t, err)
			defer chain.Close()
			p, ok := chain.Plugin("ckan_users")
			if !ok {
				t.Fatalf("no plugin ckan_users in:\n%s", out)
			}
			auth := p.(who.Authenticator)
			for lp, want := range tc.logins {
				got, err := auth.Authenticate(httptest.NewRequest("POST", "/login_generic", nil), who.Identity{who.KeyLogin: lp[0], who.KeyPassword: lp[1]})
				if err != nil || got != want {
					t.Errorf("login %q password %q: %q, %v; want %q", lp[0], lp[1], got, err, want)
				}
			}
		})
	}
}

// TestSALogIn loads the who.toml converted from repoze.who.plugins.sa's
// who.ini against SQLite holding TurboGears 2's quickstart tg_user (with
// the login column user_name_translation names) and logs in with the
// quickstart's salted sha256 hex; the metadata provider puts the row
// under "user".
func TestSALogIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "tg.db"))
	must(t, err)
	defer db.Close()
	salt := strings.Repeat("0123456789abcdef", 4)
	sum := sha256.Sum256([]byte("tg-pass" + salt))
	_, err = db.Exec(`CREATE TABLE tg_user (login_name TEXT, user_name TEXT, password TEXT)`)
	must(t, err)
	_, err = db.Exec(`INSERT INTO tg_user VALUES ('manager', 'manager', ?)`, salt+hex.EncodeToString(sum[:]))
	must(t, err)
	_, out, _ := convertFile(t, filepath.Join(thirdPartyDir, "sa.ini"))
	env := map[string]string{"WHO_SQL_DRIVER": "sqlite", "WHO_SQL_DSN": filepath.Join(dir, "tg.db")}
	chain, err := config.Parse(filepath.Join(dir, "who.toml"), out, config.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Logger:    slog.New(slog.DiscardHandler),
	})
	must(t, err)
	defer chain.Close()
	p, _ := chain.Plugin("sa_auth")
	auth := p.(who.Authenticator)
	r := httptest.NewRequest("POST", "/login_handler", nil)
	for pw, want := range map[string]string{"tg-pass": "manager", "tg-pass2": ""} {
		if got, err := auth.Authenticate(r, who.Identity{who.KeyLogin: "manager", who.KeyPassword: pw}); err != nil || got != want {
			t.Errorf("password %q: %q, %v; want %q", pw, got, err, want)
		}
	}
	m, _ := chain.Plugin("sa_md")
	id := who.Identity{who.KeyUserID: "manager"}
	must(t, m.(who.MetadataProvider).AddMetadata(r, id))
	if rows, _ := id["user"].([]map[string]any); len(rows) != 1 || rows[0]["user_name"] != "manager" {
		t.Errorf(`identity["user"] = %#v, want the one row of manager`, id["user"])
	}
}
