package whocmd

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCheckFiles writes who.toml (with toml) and, when passwd is not
// nil, the htpasswd file "passwd" next to it, and returns who.toml's path.
func writeCheckFiles(t *testing.T, toml string, passwd []byte) string {
	t.Helper()
	dir := t.TempDir()
	if passwd != nil {
		if err := os.WriteFile(filepath.Join(dir, "passwd"), passwd, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := filepath.Join(dir, "who.toml")
	if err := os.WriteFile(f, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

const checkBasic = `
[plugin.basicauth]
use = "basicauth"
[plugin.htpasswd]
use = "htpasswd"
filename = "passwd"
[identifiers]
plugins = ["basicauth"]
[authenticators]
plugins = ["htpasswd"]
`

// TestCheckWarnings: `who check` warns, once each and with a count, about
// chains that cannot work (no plugin, no challenger for a classification,
// an htpasswd file of random bytes without a user) and exits 0, or 1 with
// -strict. Before, it exited 0 without a word for the empty file and the
// missing challengers, and printed one warning per unreadable line of the
// random file (116,267 for 30 MB).
func TestCheckWarnings(t *testing.T) {
	t.Parallel()
	random := make([]byte, 1<<20)
	r := rand.NewChaCha8([32]byte{12})
	_, _ = r.Read(random)
	users, err := os.ReadFile("../examples/passwd")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		toml   string
		passwd []byte
		want   []string // the warnings, in order; none: exit 0 and a quiet stderr
	}{
		{"working chain", checkBasic + "[challengers]\nplugins = [\"basicauth\"]\n", users, nil},
		{"empty file", "", nil, []string{"declares no plugin: every request stays anonymous"}},
		{"only comments", "# nothing yet\n\n", nil, []string{"declares no plugin"}},
		{"no challenger", checkBasic, users, []string{"no challenger for any classification: every challenge (a 401 from the application) answers 500"}},
		{"no challenger for two", checkBasic + "[challengers]\nplugins = [\"basicauth;browser\"]\n", users,
			[]string{"no challenger for 2 of 3 classifications (dav, xmlpost)"}},
		{"custom classifier", checkBasic + `[general]
request_classifier = "classify"
[plugin.classify]
use = "cmdtest-apiclassifier"
[challengers]
plugins = ["basicauth;api,browser"]
`, users, []string{"no challenger for 2 of 4 classifications (dav, xmlpost)"}},
		{"random htpasswd", checkBasic + "[challengers]\nplugins = [\"basicauth\"]\n", random,
			[]string{"lines could not be read, skipped (first at line 1: ", "the file holds no user: nobody can log in"}},
		{"empty htpasswd", checkBasic + "[challengers]\nplugins = [\"basicauth\"]\n", []byte{},
			[]string{"the file holds no user"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := writeCheckFiles(t, tc.toml, tc.passwd)
			code, out, errs := runCmd("", "check", f)
			if code != 0 || !strings.Contains(out, "chain from") {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and the chain", code, out, errs)
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if len(tc.want) == 0 {
				if errs != "" {
					t.Errorf("stderr:\n%s\nwant nothing", errs)
				}
			} else if len(lines) != len(tc.want)+1 {
				t.Errorf("%d lines on stderr, want %d warnings and the count:\n%s", len(lines), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if i >= len(lines) || !strings.Contains(lines[i], w) || !strings.Contains(lines[i], "WARN") && !strings.Contains(lines[i], "warning:") {
					t.Errorf("warning %d: want one with %q, stderr:\n%s", i+1, w, errs)
				}
			}
			if len(tc.want) > 0 {
				wantCount := plural(len(tc.want), "warning", "warnings") + " (with -strict they exit 1)"
				if !strings.HasSuffix(lines[len(lines)-1], wantCount) {
					t.Errorf("last line %q, want the count %q", lines[len(lines)-1], wantCount)
				}
			}

			code, _, errs = runCmd("", "check", "-strict", f)
			if want := min(len(tc.want), 1); code != want {
				t.Errorf("-strict: exit %d, want %d; stderr:\n%s", code, want, errs)
			}
		})
	}
}

// TestCheckArguments: who check takes the file as -config FILE or as its
// argument, with -strict before or after it; before, -config was
// "flag provided but not defined" and a flag after the file was an
// argument.
func TestCheckArguments(t *testing.T) {
	t.Parallel()
	const cfg = "../examples/who.toml"
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"check", cfg}, 0, ""},
		{[]string{"check", "-config", cfg}, 0, ""},
		{[]string{"check", "-config=" + cfg, "-strict"}, 0, ""},
		{[]string{"check", cfg, "-strict"}, 0, ""},
		{[]string{"check", "-strict", "--", cfg}, 0, ""},
		{[]string{"check"}, 2, "give the configuration file: -config FILE, or FILE as the first argument"},
		{[]string{"check", "-config", cfg, cfg}, 2, "want the configuration file and 0 more arguments, got 2"},
		{[]string{"check", cfg, cfg}, 2, "got 2 arguments"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			code, _, errs := runCmd("", tc.args...)
			if code != tc.wantCode || !strings.Contains(errs, tc.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errs, tc.wantCode, tc.wantErr)
			}
		})
	}
}
