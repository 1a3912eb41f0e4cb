package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of who explain")

// TestExplainGolden runs who explain on testdata/explain/who.toml for a
// Basic request, an auth_tkt request and an anonymous 401, and compares
// the output with the golden files.
func TestExplainGolden(t *testing.T) {
	t.Parallel()
	const cfg = "testdata/explain/who.toml"
	tests := []struct {
		name string
		args []string
	}{
		{"basic", []string{"-H", "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==", "-H", "Accept: application/json", "GET", "/whoami"}},
		{"authtkt", []string{"-H", "Cookie: auth_tkt=7de1f699295695a00aaa3e0198db629b7dfe8808b544af49c1f758560bf2f4d16b03f361alice!editors!", "GET", "/protected"}},
		{"anonymous-401", []string{"-status", "401", "GET", "http://app.example/protected?x=1"}},
		{"bad-password-401", []string{"-status", "401", "-H", "Authorization: Basic YWxpY2U6bm9wZQ==", "-H", "User-Agent: curl/8", "PROPFIND", "/dav/"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runCmd("", append([]string{"explain", "-config", cfg}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if strings.Contains(out, "wonderland") || strings.Contains(out, "YWxpY2U6") {
				t.Errorf("a password leaked:\n%s", out)
			}
			golden := filepath.Join("testdata/explain", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/who -run TestExplainGolden -update)", err)
			}
			if out != string(want) {
				t.Errorf("who explain printed:\n%s\nwant (%s):\n%s", out, golden, want)
			}
		})
	}
}

func TestExplainUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"explain"},
		{"explain", "-config", "testdata/explain/who.toml", "GET"},
		{"explain", "-config", "testdata/explain/who.toml", "-H", "NoColon", "GET", "/"},
	} {
		if code, _, _ := runCmd("", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := runCmd("", "explain", "-config", "nosuch.toml", "GET", "/"); code != 1 || !strings.Contains(errs, "nosuch.toml") {
		t.Errorf("missing config: exit %d %q", code, errs)
	}
}
