package whocmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	// pwIni: the ini lists an authenticator that checks a password;
	// pwOut: the output does.
	pwIni, pwOut bool
}

// notPasswordCheck matches the uses and dotted names of authenticators
// that check no password (rememberers, single sign-on, test doubles).
var notPasswordCheck = regexp.MustCompile(`(?i)auth_?tkt|use_beaker|openid|rememberer|shibboleth|saml|\bcas\b|\.cas|tequila|browserid|externalid|oauth2|token|ips`)

// passwordTargets are gowho plugins that check a password.
var passwordTargets = map[string]bool{"htpasswd": true, "sqlauth": true, "ldap": true, "memcached": true, "throttle": true}

// iniChecksPassword reports whether the ini's [authenticators] list an
// entry that checks a password.
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
		}
		if !notPasswordCheck.MatchString(use) {
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
				r.pwIni = iniChecksPassword(ini)
			}
		}
		if data, err := os.ReadFile(outFile); err == nil {
			if err := toml.Unmarshal(data, &r.out); err != nil {
				t.Errorf("%s: the output is not TOML: %v", r.file, err)
			}
			r.pwOut = outChecksPassword(r.out)
		}
		res = append(res, r)
	}
	return res
}

// TestCorpus converts every who.ini of the corpus and holds issue 16's
// goals: every output is TOML, every file converts or is refused with a
// report naming a line, and at most 25 of the files lose every
// password-checking authenticator. With -v it prints the figures.
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
	if path := os.Getenv("GOWHO_CORPUS_REPORT"); path != "" {
		var b strings.Builder
		for _, r := range res {
			fmt.Fprintf(&b, "=== %s exit %d pwIni=%v pwOut=%v\n%s\n", r.file, r.code, r.pwIni, r.pwOut, r.stderr)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
