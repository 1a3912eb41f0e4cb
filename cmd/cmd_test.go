package whocmd

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/plugins/htpasswd"
)

func runCmd(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckExample(t *testing.T) {
	t.Parallel()
	code, out, errs := runCmd("", "check", "../examples/who.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"basicauth", "htpasswd", "browser", "identifiers", "challengers"} {
		if !strings.Contains(out, want) {
			t.Errorf("who check output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckGoldenErrors runs `who check` on every golden error file of the
// config package and compares what it prints with the expected message.
func TestCheckGoldenErrors(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../config/testdata/errors/*.toml")
	if len(files) == 0 {
		t.Fatal("no golden error files in config/testdata/errors")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(strings.TrimSuffix(f, ".toml") + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			// The goldens name files as the config test (run in config/)
			// sees them.
			cmd, out, errs := runCmd("", "check", f)
			if cmd != 1 || out != "" {
				t.Fatalf("exit %d, stdout %q; want exit 1 and nothing on stdout", cmd, out)
			}
			got := strings.ReplaceAll(errs, "../config/", "")
			// The config package knows no [gateway]; the who command
			// registers it (package gateway), so its known sections list it.
			got = strings.ReplaceAll(got, ", [gateway])", ")")
			if strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
				t.Errorf("who check %s printed:\n%s\nwant:\n%s", f, got, want)
			}
		})
	}
}

func TestHtpasswdCommand(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"bcrypt", "apr1", "sha", "sha256", "sha512", "plain"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runCmd("s3cret: pass\n", "htpasswd", "-scheme", scheme, "carol")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			line := strings.TrimSpace(out)
			user, hash, ok := strings.Cut(line, ":")
			if !ok || user != "carol" {
				t.Fatalf("line %q", line)
			}
			if scheme != "plain" {
				if ok, err := htpasswd.Verify(hash, "s3cret: pass"); !ok || err != nil {
					t.Errorf("Verify(%q) = %v, %v", hash, ok, err)
				}
			}
			apacheVerifies(t, line, "carol", "s3cret: pass", scheme)
		})
	}
	if code, _, _ := runCmd("", "htpasswd", "carol"); code != 2 {
		t.Errorf("no password: exit %d, want 2", code)
	}
	if code, _, _ := runCmd("x\n", "htpasswd", "-scheme", "rot13", "carol"); code != 2 {
		t.Errorf("unknown scheme: exit %d, want 2", code)
	}
	if code, _, _ := runCmd("x\n", "htpasswd", "a:b"); code != 2 {
		t.Errorf("user with a colon: exit %d, want 2", code)
	}
}

// apacheVerifies checks the line with Apache's own htpasswd -v.
func apacheVerifies(t *testing.T, line, user, password, scheme string) {
	t.Helper()
	bin := testserver.Find(t, "htpasswd", "apache2-utils")
	if scheme == "plain" {
		return // Apache on Linux reads unknown lines as crypt(3), never as plain text
	}
	f := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(f, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-vb", f, user, password).CombinedOutput(); err != nil {
		t.Errorf("Apache htpasswd -v rejects %q: %v\n%s", line, err, out)
	}
}

// TestUnknownCommand: an unknown command exits 2 with the usage, and a
// did-you-mean when a command is close (before, none).
func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ cmd, want string }{
		{"frobnicate", `who: unknown command "frobnicate"` + "\n"},
		{"chek", `who: unknown command "chek" (did you mean "check"?)`},
		{"explian", `(did you mean "explain"?)`},
		{"htpaswd", `(did you mean "htpasswd"?)`},
		{"verison", `(did you mean "version"?)`},
	} {
		if code, _, errs := runCmd("", tc.cmd); code != 2 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "usage: who COMMAND") {
			t.Errorf("who %s: exit %d, stderr:\n%s\nwant exit 2, %q and the usage", tc.cmd, code, errs, tc.want)
		}
	}
	if code, _, errs := runCmd(""); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("exit %d, %q", code, errs)
	}
}

// TestCheckMasksSecrets: `who check` never prints a URL password, a value
// from the environment or the value of a secret-named key (before, it
// printed the Redis URL with its password, the env-expanded duration and
// bind_password's value).
func TestCheckMasksSecrets(t *testing.T) {
	t.Setenv("GOWHO_TEST_DURATION", "env-leak-1")
	f := filepath.Join(t.TempDir(), "who.toml")
	data := `
[plugin.htpasswd]
use = "htpasswd"
filename = "` + filepath.Join(t.TempDir(), "passwd") + `"
reload_interval = "${GOWHO_TEST_DURATION}"

[plugin.sessions]
use = "session"
store = "redis"
redis_url = "redis://app:url-leak-2@127.0.0.1:port/0"

[plugin.ldap]
use = "ldap"
url = "ldap://127.0.0.1:389"
bind_password = 12345678

[identifiers]
plugins = ["sessions"]
[authenticators]
plugins = ["htpasswd"]
[challengers]
plugins = []
`
	if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd("", "check", f)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, leak := range []string{"leak-", "12345678"} {
		if strings.Contains(errs, leak) {
			t.Errorf("who check printed %q:\n%s", leak, errs)
		}
	}
	for _, want := range []string{`key "reload_interval"`, "redis://app:xxxxx@127.0.0.1:port/0", `key "bind_password" must be a string`} {
		if !strings.Contains(errs, want) {
			t.Errorf("who check lost %q:\n%s", want, errs)
		}
	}
}

// TestHelpExitsZero: every command's -h (and -help, --help) prints that
// command's usage on stderr and exits 0; before, every command but ticket
// exited 2, as for a mistake. A bad flag still exits 2.
func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args      []string
		wantUsage string
	}{
		{[]string{"-h"}, "usage: who COMMAND"},
		{[]string{"help"}, "usage: who COMMAND"},
		{[]string{"serve", "-h"}, "usage: who serve"},
		{[]string{"gateway", "-h"}, "usage: who gateway"},
		{[]string{"check", "-h"}, "usage: who check"},
		{[]string{"convert", "-h"}, "usage: who convert"},
		{[]string{"convert", "who.ini", "-h"}, "usage: who convert"},
		{[]string{"explain", "-h"}, "usage: who explain"},
		{[]string{"htpasswd", "-h"}, "usage: who htpasswd"},
		{[]string{"ticket", "-h"}, "who ticket make"},
		{[]string{"ticket", "make", "-h"}, "who ticket make"},
		{[]string{"ticket", "read", "-h"}, "who ticket read"},
		{[]string{"version", "-h"}, "usage: who version"},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.args[0]] = true
		spellings := []string{"-h", "-help", "--help"}
		if !slices.Contains(tc.args, "-h") {
			spellings = spellings[:1] // "who help"
		}
		for _, help := range spellings {
			args := slices.Clone(tc.args)
			if i := slices.Index(args, "-h"); i >= 0 {
				args[i] = help
			}
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				code, out, errs := runCmd("", args...)
				if code != 0 || out != "" || !strings.Contains(errs, tc.wantUsage) {
					t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 0, nothing on stdout and %q on stderr", code, out, errs, tc.wantUsage)
				}
				if strings.Contains(errs, "flag provided but not defined") {
					t.Errorf("%s read as an unknown flag:\n%s", help, errs)
				}
			})
		}
	}
	for name := range commands {
		if !covered[name] {
			t.Errorf("command %q has no -h case", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		args := []string{name, "-no-such-flag"}
		if name == "ticket" {
			args = []string{name, "make", "-no-such-flag"}
		}
		if code, _, errs := runCmd("", args...); code != 2 || !strings.Contains(errs, "-no-such-flag") {
			t.Errorf("who %s: exit %d, stderr:\n%s\nwant exit 2 naming the flag", strings.Join(args, " "), code, errs)
		}
	}
}

// TestUsageListsEveryFlag: each command's -h lists every flag the command
// defines (before, check's and explain's usage lines left flags out, and
// serve's -debug was missing).
func TestUsageListsEveryFlag(t *testing.T) {
	// Not parallel: flagSetHook sees every FlagSet of the process.
	for _, args := range [][]string{
		{"check"}, {"convert"}, {"explain"}, {"htpasswd"}, {"ticket", "make"}, {"ticket", "read"}, {"version"}, {"serve"},
	} {
		name := strings.Join(args, " ")
		t.Run(name, func(t *testing.T) {
			var flags []string
			hook := func(fs *flag.FlagSet) {
				fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f.Name) })
			}
			flagSetHook.Store(&hook)
			defer flagSetHook.Store(nil)
			code, _, errs := runCmd("", append(args, "-h")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if len(flags) == 0 && name != "version" {
				t.Fatal("the command parsed no flags")
			}
			for _, f := range flags {
				if !strings.Contains(errs, "-"+f+" ") && !strings.Contains(errs, "-"+f+"\n") && !strings.Contains(errs, "-"+f+"=") {
					t.Errorf("who %s -h does not list -%s:\n%s", name, f, errs)
				}
			}
		})
	}
}

// TestVersion: who version prints gowho's module version (the main
// module's, the dependency's in a team's binary, a replacement's, or
// "(devel)") and the Go version.
func TestVersion(t *testing.T) {
	code, out, errs := runCmd("", "version")
	if code != 0 || !strings.HasPrefix(out, "github.com/gowho/gowho ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, _, _ := runCmd("", "version", "extra"); code != 2 {
		t.Errorf("who version extra: exit %d, want 2", code)
	}
	defer func() { readBuildInfo = debug.ReadBuildInfo }()
	goos := " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "github.com/gowho/gowho (devel) (" + runtime.Version() + goos},
		{"cmd/who installed", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/gowho/gowho", Version: "v1.4.0"}},
			"github.com/gowho/gowho v1.4.0 (go1.26.1" + goos},
		{"checkout", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/gowho/gowho", Version: "(devel)"}},
			"github.com/gowho/gowho (devel) (go1.26.1" + goos},
		{"team binary", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "example.com/team/who", Version: "v9.9.9"},
			Deps: []*debug.Module{{Path: "golang.org/x/sys", Version: "v0.49.0"}, {Path: "github.com/gowho/gowho", Version: "v1.3.2"}}},
			"github.com/gowho/gowho v1.3.2 (go1.26.1" + goos},
		{"replaced by a fork", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "example.com/team/who"},
			Deps: []*debug.Module{{Path: "github.com/gowho/gowho", Version: "v1.3.2", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.3.3-fork"}}}},
			"github.com/gowho/gowho v1.3.3-fork (go1.26.1" + goos},
		{"replaced by a directory", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "example.com/team/who"},
			Deps: []*debug.Module{{Path: "github.com/gowho/gowho", Version: "v1.3.2", Replace: &debug.Module{Path: "../gowho"}}}},
			"github.com/gowho/gowho (devel) (go1.26.1" + goos},
	}
	for _, tc := range tests {
		readBuildInfo = func() (*debug.BuildInfo, bool) { return tc.bi, tc.bi != nil }
		if got := versionLine(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
