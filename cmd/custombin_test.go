package whocmd

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCustomBinary builds a team's own who binary (testdata/custombin:
// whocmd.Main, plugins/all and a greeter plugin of its own) next to the
// stock cmd/who, and runs both: the custom one checks and explains a chain
// that uses greeter; the stock one refuses that chain because no greeter
// is linked in. The custom binary links no SQL driver: a sqlauth plugin on
// "sqlite" is a load error on its driver key, not a panic.
func TestCustomBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds two binaries; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build the binaries with")
	}
	bin := t.TempDir()
	// From the module root, as a team would; testdata is left out of
	// ./... patterns but builds when named.
	build := exec.Command(goTool, "build", "-o", bin+string(filepath.Separator), "./cmd/testdata/custombin", "./cmd/who")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	custom, stock := filepath.Join(bin, "custombin"), filepath.Join(bin, "who")
	const (
		cfg    = "testdata/custombin/who.toml"
		sqlite = "testdata/custombin/sqlite.toml"
	)
	tests := []struct {
		name     string
		bin      string
		args     []string
		wantCode int
		wantOut  []string // each on stdout
		wantErr  []string // each on stderr
	}{
		{"check lists greeter", custom, []string{"check", cfg}, 0,
			[]string{"greeter", "basicauth"}, nil},
		{"explain a friend", custom, []string{"explain", "-config", cfg, "-H", "X-Greeter: alice", "GET", "/"}, 0,
			[]string{`greeter: found {greeter.name: "alice"}`, `winner: userid "alice" (identifier greeter, authenticator greeter)`}, nil},
		{"explain a stranger", custom, []string{"explain", "-config", cfg, "-status", "401", "-H", "X-Greeter: mallory", "GET", "/"}, 0,
			[]string{"greeter × greeter (rank 0,0): no", "winner: none", "challenger basicauth answers"}, nil},
		{"help", custom, []string{"serve", "-h"}, 0, nil, []string{"usage: who serve"}},
		{"stock refuses greeter", stock, []string{"check", cfg}, 1, nil,
			[]string{`unknown plugin "greeter"`, "no plugin is registered under that name in this program"}},
		{"stock has sqlite", stock, []string{"check", sqlite}, 0, []string{"users"}, nil},
		{"no sqlite driver: check", custom, []string{"check", sqlite}, 1, nil,
			[]string{`[plugin.users] (use = "sqlauth"): driver: `, `unknown driver "sqlite"`}},
		{"no sqlite driver: serve", custom, []string{"serve", "-addr", "127.0.0.1:0", "-config", sqlite}, 1, nil,
			[]string{`[plugin.users] (use = "sqlauth"): driver: `, `unknown driver "sqlite"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(tc.bin, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code := 0
			if err := cmd.Run(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatal(err)
				}
				code = exit.ExitCode()
			}
			out, errs := stdout.String(), stderr.String()
			if code != tc.wantCode {
				t.Fatalf("%s %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", filepath.Base(tc.bin), strings.Join(tc.args, " "), code, tc.wantCode, out, errs)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
			if strings.Contains(errs, "panic") {
				t.Errorf("stderr:\n%s", errs)
			}
		})
	}
}
