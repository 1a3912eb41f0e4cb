package whocmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/gowho/gowho/convert"
)

// corpusDir is where the who.ini files public projects ship are kept
// (../shared/corpus/who-ini beside the checkout). They are other people's
// files: read from there, never copied into the project.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GOWHO_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus", "who-ini")
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		t.Skipf("no who.ini corpus at %s (set GOWHO_CORPUS): %v", dir, err)
	}
	return dir
}

// corpusResult is what `who convert` made of one corpus file.
type corpusResult struct {
	file   string
	code   int    // who convert's exit status
	stderr string // its report
	out    map[string]any
	ini    *convert.INI // nil when it does not parse
	toml   string       // the output, "" when none
	// pwIni: the ini lists an authenticator that checks a password;
	// pwOut: the output does.
	pwIni, pwOut bool
}

// What counts as checking a password (issue 16's goal: at most 25 of the
// 92 files lose every password-checking authenticator).
//
// The who.ini checks a password when its [authenticators] list an entry
// (not ;unused) that is given a login and a password and decides on them.
// An entry counts as such unless what it names is known to check none:
//   - notPasswordCheck: rememberers (auth_tkt, Beaker sessions: their
//     credential is a cookie the application set after a login) and single
//     sign-on (OpenID, OAuth 2, SAML, CAS, Shibboleth, Tequila, BrowserID,
//     external identities, tokens and IP lists: no password reaches them);
//   - checksNoPassword: entry points read from their source.
//
// Every other entry, application code included, counts as a password
// check: an unknown entry counts against the goal, never for it. Whether an
// identifier feeds it does not matter (Pyramid and TurboGears applications
// call the authenticators from their own login view, with no form plugin).
//
// The output checks a password when its [authenticators] list (not
// ;unused) a plugin whose gowho use checks one (passwordTargets; memcached
// and throttle wrap one, and are dropped when what they wrap is).
var notPasswordCheck = regexp.MustCompile(`(?i)auth_?tkt|use_beaker|openid|rememberer|shibboleth|saml|\bcas\b|\.cas|tequila|browserid|externalid|oauth2|token|plugin_ips`)

// checksNoPassword are entry points that match no pattern of
// notPasswordCheck but check no password, with why (from their source).
var checksNoPassword = map[string]string{
	// BBCF's copies of turbotequila: CustomAuthPlugin.authenticate is
	// "pass"; the cookie identifier (set after a Tequila login) and the
	// command-line key identifier give the userid.
	"biorepo.lib.auth_plugin:make_plugin_auth":     "authenticate is pass (Tequila login)",
	"joblauncher.lib.auth_plugin:make_plugin_auth": "authenticate is pass (Tequila login)",
	"pygdv.lib.auth_plugin:make_plugin_auth":       "authenticate is pass (Tequila login)",
}

// passwordTargets are gowho plugins that check a password.
var passwordTargets = map[string]bool{"htpasswd": true, "sqlauth": true, "ldap": true, "memcached": true, "throttle": true}

// iniChecksPassword reports whether the ini's [authenticators] list an
// entry that checks a password (see notPasswordCheck).
func iniChecksPassword(ini *convert.INI) bool {
	s := ini.Section("authenticators")
	if s == nil {
		return false
	}
	v, _, _ := ini.Get(s, "plugins")
	for _, tok := range strings.Fields(v) {
		name, class, _ := strings.Cut(tok, ";")
		if class == "unused" {
			continue
		}
		use := name
		if ps := ini.Section("plugin:" + name); ps != nil {
			use, _, _ = ini.Get(ps, "use")
			use = strings.TrimSpace(use)
		}
		if !notPasswordCheck.MatchString(use) && checksNoPassword[use] == "" {
			return true
		}
	}
	return false
}

// outChecksPassword reports whether the converted who.toml lists a
// password-checking plugin under [authenticators].
func outChecksPassword(out map[string]any) bool {
	st, _ := out["authenticators"].(map[string]any)
	list, _ := st["plugins"].([]any)
	plugins, _ := out["plugin"].(map[string]any)
	for _, e := range list {
		s, _ := e.(string)
		name, class, _ := strings.Cut(s, ";")
		if class == "unused" {
			continue
		}
		p, _ := plugins[name].(map[string]any)
		if use, _ := p["use"].(string); passwordTargets[use] {
			return true
		}
	}
	return false
}

func convertCorpus(t *testing.T) []corpusResult {
	t.Helper()
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.ini"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .ini files in %s: %v", dir, err)
	}
	var res []corpusResult
	for _, f := range files {
		r := corpusResult{file: filepath.Base(f)}
		outFile := filepath.Join(t.TempDir(), "who.toml")
		var stdout, stderr bytes.Buffer
		r.code = Run([]string{"convert", "-o", outFile, f}, nil, &stdout, &stderr)
		r.stderr = stderr.String()
		if data, err := os.ReadFile(f); err == nil {
			if ini, err := convert.ParseINI(data, dir); err == nil {
				r.ini = ini
				r.pwIni = iniChecksPassword(ini)
			}
		}
		if data, err := os.ReadFile(outFile); err == nil {
			r.toml = string(data)
			if err := toml.Unmarshal(data, &r.out); err != nil {
				t.Errorf("%s: the output is not TOML: %v", r.file, err)
			}
			r.pwOut = outChecksPassword(r.out)
		}
		res = append(res, r)
	}
	return res
}

// reportLine is a line of who convert's report about a section of the
// who.ini: "FILE:LINE: [SECTION] ..." (LINE is what must be there).
var reportLine = regexp.MustCompile(`^(\S+?\.ini)(:\d+)?: \[`)

// unconverted lists, for the table of docs/migration.md, the entry points
// of r's who.ini that the output does not run: the use of each
// [plugin:NAME] missing from the output, and each dotted name a stage
// lists that is reported "not converted". kind says whether the report
// offers a replacement (a note naming what to use) or not.
func unconverted(r corpusResult) map[string]string {
	got := map[string]string{}
	if r.ini == nil || r.out == nil {
		return got
	}
	plugins, _ := r.out["plugin"].(map[string]any)
	for _, s := range r.ini.Sections {
		name, ok := strings.CutPrefix(s.Name, "plugin:")
		if !ok {
			continue
		}
		use, _, _ := r.ini.Get(s, "use")
		use = strings.TrimSpace(use)
		if _, conv := plugins[name]; conv || use == "" {
			continue
		}
		switch {
		case strings.Contains(r.stderr, "["+s.Name+"] use: note: "):
			got[use] = kindReplaced
		case strings.Contains(r.stderr, "["+s.Name+"] use: not converted: "):
			got[use] = kindApplication
		default:
			got[use] = kindDropped
		}
	}
	for _, st := range []string{"identifiers", "authenticators", "challengers", "mdproviders"} {
		s := r.ini.Section(st)
		if s == nil {
			continue
		}
		v, _, _ := r.ini.Get(s, "plugins")
		for _, tok := range strings.Fields(v) {
			name, _, _ := strings.Cut(tok, ";")
			if r.ini.Section("plugin:"+name) != nil || !strings.Contains(name, ":") {
				continue
			}
			msg := "[" + st + "] plugins: not converted: entry \"" + tok + "\": "
			i := strings.Index(r.stderr, msg)
			if i < 0 {
				continue
			}
			rest, _, _ := strings.Cut(r.stderr[i+len(msg):], "\n")
			switch {
			case strings.Contains(rest, "was not converted: "):
				got[name] = kindReplaced
			case strings.Contains(rest, "Python-only"):
				got[name] = kindApplication
			case got[name] == "":
				got[name] = kindDropped
			}
		}
	}
	return got
}

// The kinds of unconverted entry points.
const (
	kindApplication = "Python code (the application's or a package's)"
	kindReplaced    = "a protocol gowho lacks: the note names what to use"
	kindDropped     = "converter exists; dropped for the reason on its line"
)

// notConvertedTable is the Markdown table of the entry points not
// converted, with the number of files naming each, most first.
func notConvertedTable(res []corpusResult) string {
	type row struct {
		name, kind string
		n          int
	}
	count := map[[2]string]int{}
	for _, r := range res {
		for name, kind := range unconverted(r) {
			count[[2]string{name, kind}]++
		}
	}
	var rows []row
	for k, n := range count {
		rows = append(rows, row{k[0], k[1], n})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].n != rows[j].n {
			return rows[i].n > rows[j].n
		}
		return rows[i].name < rows[j].name
	})
	var b strings.Builder
	b.WriteString("| entry point | files | what it is |\n|---|---|---|\n")
	var single []string // Python code named by one file each: one row
	for _, r := range rows {
		if r.n == 1 && r.kind == kindApplication {
			single = append(single, "`"+r.name+"`")
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s |\n", r.name, r.n, r.kind)
	}
	if len(single) > 0 {
		fmt.Fprintf(&b, "| %d more, one file each: %s | %d | %s |\n", len(single), strings.Join(single, ", "), len(single), kindApplication)
	}
	return b.String()
}

// Markers around the generated table in docs/migration.md.
const (
	tableBegin = "<!-- corpus-table: generated by TestCorpus (cmd/corpus_test.go); GOWHO_CORPUS_REPORT=FILE writes it -->\n"
	tableEnd   = "<!-- /corpus-table -->"
)

// checkMigrationDoc holds docs/migration.md's section "The who.ini files
// people have" to the corpus: its table of what is not converted is
// table, and it names each handChecked file by its MANIFEST repository
// and path ("REPO: `PATH`").
func checkMigrationDoc(t *testing.T, table string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "migration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), tableBegin)
	inDoc, _, ok2 := strings.Cut(rest, tableEnd)
	switch {
	case !ok || !ok2:
		t.Errorf("docs/migration.md has no table between %q and %q", tableBegin, tableEnd)
	case inDoc != table:
		t.Errorf("docs/migration.md's table of what is not converted is out of step with the corpus; put this between its markers:\n%s", table)
	}
	manifest, err := os.ReadFile(filepath.Join(corpusDir(t), "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]string{}
	for _, l := range strings.Split(string(manifest), "\n") {
		if f := strings.Split(l, "\t"); len(f) >= 3 {
			where[f[0]] = f[1] + ": `" + f[2] + "`"
		}
	}
	for _, h := range handChecked {
		if w := where[h.file]; w == "" || !strings.Contains(string(doc), "| "+w+" |") {
			t.Errorf("docs/migration.md does not list %s (%q) among the files checked by hand", h.file, w)
		}
	}
}

// handChecked are the corpus files whose conversion was read by hand
// against the original plugins' source (docs/migration.md, "The who.ini
// files people have", lists them by repository and path, with what each
// converts to and what needs review). The test holds what the page says
// of each: who convert's exit status, the output's [authenticators]
// (NAME=gowho use, in order) and lines the output must have.
var handChecked = []struct {
	file string
	code int
	auth []string
	has  []string
}{
	{"ckan__ckan__ckan__config__who.ini", 2, []string{"ckan_users=sqlauth"},
		[]string{`secret = "${WHO_AUTH_TKT_SECRET}"`, `query = "SELECT name, password FROM \"user\" WHERE name = :login AND state = 'active'"`, "# [plugin.openid]", "# [plugin.ckan_openid]"}},
	{"AndreaFinazzi__ckan__ckan__config__who.ini", 2, []string{"auth_tkt=authtkt", "ckan_users=sqlauth"}, []string{"http_only = true", "salted_hex = true"}},
	{"GSA__catalog.data.gov__config__who.ini", 2, []string{"auth_tkt=authtkt", "ckan_users=sqlauth"},
		[]string{`use = "authtkt"  # ckan.lib.repoze_plugins.auth_tkt:make_plugin`, `use = "form"  # ckan.lib.repoze_plugins.friendly_form:FriendlyFormPlugin`}},
	{"datagovau__ckanext-datagovau__config__who.ini", 2, []string{"auth_tkt=authtkt", "ckan_users=sqlauth"}, []string{"e.email = :login"}},
	{"euopendataportal__source__conf__who.ini", 2, []string{"ckan_users=sqlauth", "auth_tkt=authtkt"}, []string{`use = "authtkt"  # ckan.config.middleware:ckan_auth_tkt_make_app`}},
	{"908Inc__ckan__ckan__config__who.ini", 2, []string{"auth_tkt=authtkt"}, []string{`# "ckanext.dgua.authenticator:EmailPasswordAuthenticator",  # not converted`}},
	{"vrk-kpa__opendata__who.ini", 2, []string{"ckan_users=sqlauth"}, []string{`# "friendlyform;browser",  # not converted`}},
	{"Pylons__cluegun__who.ini", 2, []string{"htpasswd=htpasswd"}, []string{`check_fn = "plain"`, `secret = "${WHO_AUTH_TKT_SECRET}"`}},
	{"hathawsh__yasso__who.ini", 2, []string{"htpasswd=htpasswd"}, []string{`realm = "'sample'"`, `check_fn = "auto"`}},
	{"collective__plone4wsgi.buildout__etc__who.ini", 2, []string{"auth_tkt=authtkt", "htpasswd=htpasswd"}, []string{`realm = "'Zope'"`}},
	{"knzm__PyramidBasic__who.ini", 2, []string{"auth_tkt=authtkt", "sa_auth=sqlauth"},
		[]string{`query = "SELECT username, password FROM tg_user WHERE username = :login"`, `name = "user"`}},
	{"baruwaproject__baruwa2__who.ini", 2, []string{"sa_auth=sqlauth"}, []string{`# [plugin.baruwa_radius_auth]`}},
	{"rebeccaframework__shirly__who.ini", 2, []string{"sa=sqlauth", "auth_tkt=authtkt"}, []string{`metadata_query = "SELECT * FROM tg_user WHERE user_name = :userid"`}},
	{"dbaty__Yait__who.ini", 2, []string{"ldap_auth=ldap"}, []string{"# [plugin.ldap_attributes]"}},
	{"ralphbean__nova__who.ini", 2, []string{"ldap_auth=ldap"}, []string{`use = "ldap"  # nova.lib.auth:ReconnectingAuthenticatorPlugin`}},
	{"razorlabs__occams__who.ini", 2, []string{"auth_tkt=authtkt", "ldapusers=ldap"}, []string{`use = "ldap"  # who_ldap:LDAPSearchAuthenticatorPlugin`}},
	{"vigilo__turbogears__who.ini", 2, []string{"vigilo_users=sqlauth", "auth_tkt=authtkt"}, []string{"FROM vigilo_user", "# [plugin.externalid]"}},
	{"microcomp__ckan__ckan__config__who.ini", 2, nil, []string{"# [plugin.casauth]"}},
	{"jayenashar__ckanext-datansw__config__who.ini", 2, []string{"auth_tkt=authtkt", "ckan_users=sqlauth"}, []string{"# [plugin.saml2auth]"}},
	{"dmayle__DVDev__who.ini", 2, nil, []string{"# [plugin.openid]"}},
	{"Pylons__shootout__who.ini", 2, nil, []string{"# [plugin.sqlusers]"}},
	{"UCSB-VRL__bisqueUCSB__config-defaults__who.ini.default.ini", 1, nil, nil},
}

// outAuthenticators lists the output's [authenticators] as NAME=use.
func outAuthenticators(out map[string]any) []string {
	st, _ := out["authenticators"].(map[string]any)
	list, _ := st["plugins"].([]any)
	plugins, _ := out["plugin"].(map[string]any)
	var got []string
	for _, e := range list {
		s, _ := e.(string)
		name, _, _ := strings.Cut(s, ";")
		p, _ := plugins[name].(map[string]any)
		use, _ := p["use"].(string)
		got = append(got, name+"="+use)
	}
	return got
}

// TestCorpus converts every who.ini of the corpus and holds issue 16's
// goals: every output is TOML; every file converts or is refused with a
// report naming a line, and every report line about a section names its
// line; no stage entry is dropped without a report; at most 25 of the
// files lose every password-checking authenticator (see
// notPasswordCheck for what counts); the files checked by hand
// (handChecked) convert as docs/migration.md says. With -v it prints the
// figures and the table of what is not converted; GOWHO_CORPUS_REPORT=FILE
// writes the table and every file's report to FILE.
func TestCorpus(t *testing.T) {
	res := convertCorpus(t)
	var whole, review, refused, lostAll int
	var lost []string
	for _, r := range res {
		switch r.code {
		case 0:
			whole++
		case 2:
			review++
		default:
			refused++
			if !regexp.MustCompile(`:\d+:|line \d+`).MatchString(r.stderr) {
				t.Errorf("%s: refused (exit %d) without naming a line:\n%s", r.file, r.code, r.stderr)
			}
		}
		// Every entry a stage lists is in the output's list, or reported
		// with its line: nothing is dropped silently.
		if r.ini != nil && r.out != nil {
			for _, st := range []string{"identifiers", "authenticators", "challengers", "mdproviders"} {
				s := r.ini.Section(st)
				if s == nil {
					continue
				}
				v, _, _ := r.ini.Get(s, "plugins")
				out, _ := r.out[st].(map[string]any)
				list, _ := out["plugins"].([]any)
				for _, tok := range strings.Fields(v) {
					if !slices.ContainsFunc(list, func(e any) bool { return e == tok }) &&
						!strings.Contains(r.stderr, "["+st+"] plugins: not converted: entry \""+tok+"\"") &&
						!strings.Contains(r.toml, "listed as "+strings.SplitN(tok, ";", 2)[0]+",") {
						t.Errorf("%s: [%s] entry %q is neither in the output nor reported", r.file, st, tok)
					}
				}
			}
		}
		// Every report line about a section of the who.ini names its line.
		for _, l := range strings.Split(r.stderr, "\n") {
			if m := reportLine.FindStringSubmatch(l); m != nil && m[2] == "" {
				t.Errorf("%s: a report line names no line of the who.ini: %s", r.file, l)
			}
		}
		if r.pwIni && !r.pwOut {
			lostAll++
			lost = append(lost, r.file)
		}
	}
	t.Logf("%d files: %d convert whole, %d with review notes, %d refused; %d lose every password-checking authenticator",
		len(res), whole, review, refused, lostAll)
	sort.Strings(lost)
	for _, f := range lost {
		t.Logf("  loses every password check: %s", f)
	}
	if lostAll > 25 {
		t.Errorf("%d files lose every password-checking authenticator; the goal is at most 25", lostAll)
	}
	byFile := map[string]corpusResult{}
	for _, r := range res {
		byFile[r.file] = r
	}
	for _, h := range handChecked {
		r, ok := byFile[h.file]
		if !ok {
			t.Errorf("%s: checked by hand, but not in the corpus", h.file)
			continue
		}
		if r.code != h.code {
			t.Errorf("%s: exit %d, want %d (docs/migration.md):\n%s", h.file, r.code, h.code, r.stderr)
		}
		if got := outAuthenticators(r.out); !slices.Equal(got, h.auth) {
			t.Errorf("%s: [authenticators] %q, want %q (docs/migration.md)", h.file, got, h.auth)
		}
		for _, l := range h.has {
			if !strings.Contains(r.toml, l) {
				t.Errorf("%s: the who.toml lacks %q (docs/migration.md):\n%s", h.file, l, r.toml)
			}
		}
	}
	table := notConvertedTable(res)
	t.Logf("not converted:\n%s", table)
	checkMigrationDoc(t, table)
	if path := os.Getenv("GOWHO_CORPUS_REPORT"); path != "" {
		var b strings.Builder
		b.WriteString(tableBegin + table + tableEnd + "\n\n")
		for _, r := range res {
			fmt.Fprintf(&b, "=== %s exit %d pwIni=%v pwOut=%v\n%s\n", r.file, r.code, r.pwIni, r.pwOut, r.stderr)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
