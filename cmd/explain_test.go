package whocmd

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of who explain and who check")

// checkGolden compares got with the golden file path (with -update it
// writes got there first) and returns the golden content.
func checkGolden(t *testing.T, path, got string) string {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -run '%s' -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant (%s):\n%s", got, path, want)
	}
	return string(want)
}

// ticket is an auth_tkt value for alice (tokens editors) signed with the
// secret of testdata/explain/who.toml:
//
//	who ticket make -secret explain-secret-0123456789abcdef-0123456789 -digest sha256 -tokens editors -time 1795421025 alice
const ticket = "a685cbfa75f7c76bf2d6ac3bde8b98dac607658b939bc9b6ffb174755f9f6ae26b03f361alice!editors!"

// TestExplainGolden runs who explain on testdata/explain/who.toml for a
// Basic request, an auth_tkt request, an anonymous 401 and requests full
// of credentials, and compares the output with the golden files. No
// cookie value, credential or secret is ever printed (before, explain
// printed cookie values, the reissued ticket, Proxy-Authorization and
// X-API-Key).
func TestExplainGolden(t *testing.T) {
	t.Parallel()
	const cfg = "testdata/explain/who.toml"
	tests := []struct {
		name string
		cfg  string // default cfg
		args []string
	}{
		{"basic", "", []string{"-H", "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==", "-H", "Accept: application/json", "GET", "/whoami"}},
		{"authtkt", "", []string{"-H", "Cookie: auth_tkt=" + ticket, "GET", "/protected"}},
		{"anonymous-401", "", []string{"-status", "401", "GET", "http://app.example/protected?x=1"}},
		{"bad-password-401", "", []string{"-status", "401", "-H", "Authorization: Basic YWxpY2U6bm9wZQ==", "-H", "User-Agent: curl/8", "PROPFIND", "/dav/"}},
		{"credentials", "", []string{
			"-H", "Cookie: theme=dark; sessionid=sess-leak-1; auth_tkt=" + ticket,
			"-H", "Proxy-Authorization: Basic cHJveHk6cHJveHktbGVhay0y",
			"-H", "X-API-Key: api-leak-3",
			"-H", "X-Auth-Token: token-leak-4",
			"-H", "X-Client-Secret: secret-leak-5",
			"-H", "X-Csrf-Token: csrf-leak-6",
			"-H", "Accept: text/html",
			"GET", "http://user:url-leak-7@127.0.0.1/protected"}},
		{"reissued-ticket", "testdata/explain/rotated.toml", []string{"-H", "Cookie: auth_tkt=" + ticket, "GET", "/protected"}},
	}
	leaks := []string{"wonderland", "YWxpY2U6", "cHJveHk6", ticket[:16], "leak-", "explain-secret", "explain-rotated"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := cfg
			if tc.cfg != "" {
				c = tc.cfg
			}
			code, out, errs := runCmd("", append([]string{"explain", "-config", c}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, leak := range leaks {
				if strings.Contains(out, leak) {
					t.Errorf("%q leaked:\n%s", leak, out)
				}
			}
			checkGolden(t, filepath.Join("testdata/explain", tc.name+".golden"), out)
		})
	}
}

// TestMaskHeaderLine: the masking rules of explain's header lines.
func TestMaskHeaderLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Authorization: Bearer abc.def", "Authorization: Bearer ********"},
		{"proxy-authorization: Basic eA==", "proxy-authorization: Basic ********"},
		{"Cookie: a=1; b=2", "Cookie: a=********; b=********"},
		{"Cookie: flag", "Cookie: ********"},
		{"Set-Cookie: auth_tkt=\"v\"; Path=/; HttpOnly", "Set-Cookie: auth_tkt=********; Path=/; HttpOnly"},
		{"Set-Cookie: auth_tkt=\"\"; Max-Age=0", "Set-Cookie: auth_tkt=\"\"; Max-Age=0"},
		{"X-API-Key: k", "X-API-Key: ********"},
		{"X-Session: s", "X-Session: ********"},
		{"Private-Token: s", "Private-Token: ********"},
		{"X-Amz-Security-Token: s", "X-Amz-Security-Token: ********"},
		{"WWW-Authenticate: Basic realm=\"x\"", "WWW-Authenticate: Basic realm=\"x\""},
		{"Location: http://u:p@h/x", "Location: http://u:xxxxx@h/x"},
		{"Accept: text/html", "Accept: text/html"},
	} {
		if got := maskHeaderLine(tc.in); got != tc.want {
			t.Errorf("maskHeaderLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
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

// TestExplainBadTargetMasksPassword: a target explain cannot use is
// reported with its URL password masked, as the request line is.
func TestExplainBadTargetMasksPassword(t *testing.T) {
	t.Parallel()
	code, _, errs := runCmd("", "explain", "-config", "testdata/explain/who.toml", "GET", "http://u:hunter2pw@h/%zz")
	if code != 2 || strings.Contains(errs, "hunter2pw") || !strings.Contains(errs, "bad request target") {
		t.Errorf("exit %d, stderr %q: want 2, the error without the password", code, errs)
	}
}

// TestExplainBadArguments: a -status the recorder cannot write and a
// method that is no HTTP token are usage mistakes that say what to give.
// Before, -status 99 or 1000 panicked with a stack trace, and "BR@"
// was reported as a bad request target.
func TestExplainBadArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"status under 100", []string{"-status", "99", "GET", "/"}, "who explain: -status 99: want the application's final status, 200 to 599"},
		{"status over 999", []string{"-status", "1000", "GET", "/"}, "who explain: -status 1000: want"},
		{"status negative", []string{"-status", "-1", "GET", "/"}, "who explain: -status -1: want"},
		{"informational status", []string{"-status", "103", "GET", "/"}, "who explain: -status 103: want"},
		{"method not a token", []string{"BR@", "/"}, `who explain: method "BR@": want an HTTP method such as GET or POST`},
		{"method with a space", []string{"GE T", "/"}, `who explain: method "GE T": want`},
		{"bad target", []string{"GET", "http://[::1"}, `who explain: bad request target "http://[::1": give a URL (http://host/path?query) or a path (/path)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runCmd("", append([]string{"explain", "testdata/explain/who.toml"}, tc.args...)...)
			if code != 2 || !strings.Contains(errs, tc.want) || strings.Contains(errs, "goroutine") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errs, tc.want)
			}
		})
	}
}
