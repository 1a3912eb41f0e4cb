package whocmd

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
)

// demoINI is REPOZE-WHO.md §7.1's who.ini with the secret, digest and IP
// binding of each case.
const demoINI = `[plugin:auth_tkt]
use = repoze.who.plugins.auth_tkt:make_plugin
secret = %s
cookie_name = auth_tkt
%s
[plugin:htpasswd]
use = repoze.who.plugins.htpasswd:make_plugin
filename = %%(here)s/passwd
check_fn = repoze.who.plugins.htpasswd:crypt_check

[plugin:redirector]
use = repoze.who.plugins.redirector:make_plugin
login_url = /login
came_from_param = came_from
reason_param = reason

[general]
request_classifier = repoze.who.classifiers:default_request_classifier
challenge_decider = repoze.who.classifiers:default_challenge_decider
remote_user_key = REMOTE_USER

[identifiers]
plugins = auth_tkt

[authenticators]
plugins =
    auth_tkt
    htpasswd

[challengers]
plugins = redirector;browser
`

// convertedServer writes who.ini and passwd into a temp dir, runs
// `who convert -o who.toml who.ini` (which must succeed with nothing to
// report) and serves the result as `who serve` does.
func convertedServer(t *testing.T, secret, extra string) http.Handler {
	t.Helper()
	dir := t.TempDir()
	// DES crypt of "wonderland" with salt "al" (REPOZE-WHO.md §7.1).
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte("alice:altJp3TAPK8AU\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "who.ini")
	if err := os.WriteFile(ini, fmt.Appendf(nil, demoINI, secret, extra), 0o600); err != nil {
		t.Fatal(err)
	}
	// The output goes to another folder: the passwd path must follow.
	outDir := filepath.Join(dir, "conf")
	if err := os.Mkdir(outDir, 0o700); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, "who.toml")
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"convert", "-o", out, ini}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("who convert: exit %d\n%s", code, stderr.String())
	}
	// A secret under 16 bytes, which gowho refuses, is kept with
	// allow_weak_secret = true and one note; nothing else is said.
	wantStderr := ""
	if len(secret) < 16 {
		wantStderr = fmt.Sprintf("who.ini:3: [plugin:auth_tkt] secret: note: the secret is %d bytes, under gowho's minimum of 16: "+
			"allow_weak_secret = true is written so existing tickets stay valid; move to a secret of 32 random bytes or more "+
			"(the short one in old_secrets until its tickets expire)\n", len(secret))
	}
	if stderr.String() != wantStderr || stdout.Len() != 0 {
		t.Fatalf("who convert -o printed:\nstdout %q\nstderr %q\nwant only %q", stdout.String(), stderr.String(), wantStderr)
	}
	toml, _ := os.ReadFile(out)
	if got := bytes.Contains(toml, []byte("\nallow_weak_secret = true")); got != (len(secret) < 16) {
		t.Fatalf("allow_weak_secret = true written: %v for a %d-byte secret:\n%s", got, len(secret), toml)
	}
	if !bytes.Contains(toml, []byte(`filename = "../passwd"`)) {
		t.Fatalf("%%(here)s/passwd not made relative to the output:\n%s", toml)
	}
	if code := Run([]string{"check", out}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("who check refuses the converted file:\n%s", stderr.String())
	}
	h, closeChain, err := newServer(out, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("who serve refuses the converted file: %v", err)
	}
	t.Cleanup(func() { _ = closeChain() })
	return h
}

// get requests /protected with the auth_tkt cookie (as repoze.who set it,
// quoted) from addr.
func get(h http.Handler, path, cookie, addr string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if addr != "" {
		req.RemoteAddr = addr
	}
	if cookie != "" {
		req.Header.Set("Cookie", `auth_tkt="`+cookie+`"`)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// longSecretTicket is alice's ticket at 1700000000 under the 32-byte
// secret 0123456789abcdef0123456789abcdef (md5).
const longSecretTicket = "0657859fd74376ba5ccb3ac2ebc8feef6553f100alice!"

// TestConvertedServesRepozeTickets: REPOZE-WHO.md §4.1's vectors (made by
// repoze.who's own code) are accepted by the converted configuration.
func TestConvertedServesRepozeTickets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, secret, extra, addr, cookie, user string
	}{
		{"1 md5", "s33kr1t", "", "", "aa9330a397e010c15f732ae177ed1f126553f100alice!", "alice"},
		{"1 sha1", "s33kr1t", "digest_algo = sha1", "", "5f4838081a2cf0a83d00d7849f9827cfafac670f6553f100alice!", "alice"},
		{"1 sha256", "s33kr1t", "digest_algo = sha256", "", "898f22cf8f1dd1d3dec4667a88ffe0e5d4f22204a5d627d94137346216b8214b6553f100alice!", "alice"},
		{"1 sha512", "s33kr1t", "digest_algo = sha512", "", "ebae21e5cfd21a3555190df03e48ac06f2deb7ffb76bf8b2a2856e369c80944d261c686bee0703c67fcf0bde1390fe650920bbed5f94525d9760da8ff5864f1a6553f100alice!", "alice"},
		{"2 md5 ip", "s33kr1t", "include_ip = True", "192.168.1.10:40000", "468dc346e595482389d311870a97daba499602d2bob%20smith!admin,editor!userid_type:int", "bob smith"},
		{"2 sha256 ip", "s33kr1t", "include_ip = true\ndigest_algo = sha256", "192.168.1.10:40000", "af193507bd00ebc2f542ad842bc2940f30ef737a4b7bdcb65a30b379bbb97d5d499602d2bob%20smith!admin,editor!userid_type:int", "bob smith"},
		{"3 md5", "secret", "", "", "b14c75739f1e4d066e54e3baf1cfeb596500000042!a!userid_type=int&lang=fr", "42"},
		{"3 sha512", "secret", "digest_algo = sha512", "", "fc29e6244fbccf6d54764c31dfdaabc910e3b59078188a969a424db9fdb38913e1b140359ca00b3c7e3d28cd59c5270b37a46cb3d1b4fe9909c80f38d8c3933d6500000042!a!userid_type=int&lang=fr", "42"},
		// A 32-byte secret: nothing to report (ticket made with
		// `who ticket make -secret 0123456789abcdef0123456789abcdef -time 1700000000 alice`).
		{"long secret", "0123456789abcdef0123456789abcdef", "", "", longSecretTicket, "alice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := convertedServer(t, tc.secret, tc.extra)
			rec := get(h, "/protected", tc.cookie, tc.addr)
			if rec.Code != http.StatusOK || rec.Body.String() != "protected: "+tc.user+"\n" {
				t.Fatalf("status %d, body %q; want 200 %q", rec.Code, rec.Body.String(), "protected: "+tc.user)
			}
			// The same ticket under another secret is refused, and the
			// browser is redirected as repoze.who's redirector did.
			other := convertedServer(t, tc.secret+"x", tc.extra)
			rec = get(other, "/protected", tc.cookie, tc.addr)
			if rec.Code != http.StatusFound {
				t.Fatalf("wrong secret: status %d, want 302", rec.Code)
			}
			loc, _ := url.Parse(rec.Header().Get("Location"))
			if loc.Path != "/login" || loc.Query().Get("came_from") == "" || loc.Query().Get("reason") != "login required" {
				t.Fatalf("Location %q: want /login with came_from and reason", rec.Header().Get("Location"))
			}
		})
	}
}

// TestConvertedAcceptsPythonTicket: a ticket minted now by repoze.who's
// own AuthTicket with the who.ini's secret logs in on the converted
// configuration; a login through it (htpasswd, DES crypt) sets cookies
// that repoze.who's parse_ticket reads back.
func TestConvertedAcceptsPythonTicket(t *testing.T) {
	t.Parallel()
	py := testserver.PythonRepoze(t)
	h := convertedServer(t, "demo-secret", "")
	now := time.Now().Unix()
	script := fmt.Sprintf(`from repoze.who._auth_tkt import AuthTicket
print(AuthTicket('demo-secret', 'alice', '0.0.0.0', tokens=('admin', 'dev'), time=%d).cookie_value())`, now)
	out, err := exec.Command(py, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	ticket := strings.TrimSpace(string(out))
	rec := get(h, "/protected", ticket, "")
	if rec.Code != http.StatusOK || rec.Body.String() != "protected: alice\n" {
		t.Fatalf("Python's ticket %q: status %d, body %q", ticket, rec.Code, rec.Body.String())
	}

	// Log in through htpasswd; the three repoze.who cookies come back.
	req := httptest.NewRequest("POST", "/login", strings.NewReader("login=alice&password=wonderland&came_from=/protected"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = "example.com:8080"
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	if rr.Code != http.StatusFound {
		t.Fatalf("login: status %d, body %q", rr.Code, rr.Body.String())
	}
	cookies := rr.Header().Values("Set-Cookie")
	if len(cookies) != 3 || !strings.Contains(cookies[1], "Domain=example.com") || !strings.Contains(cookies[2], "Domain=.example.com") {
		t.Fatalf("want repoze.who's three cookies, got %q", cookies)
	}
	if strings.Contains(cookies[0], "HttpOnly") || strings.Contains(cookies[0], "SameSite") {
		t.Fatalf("repoze.who sent neither HttpOnly (without secure) nor SameSite: %q", cookies[0])
	}
	val := strings.TrimPrefix(strings.SplitN(cookies[0], ";", 2)[0], "auth_tkt=")
	val = strings.Trim(val, `"`)
	check := fmt.Sprintf(`from repoze.who._auth_tkt import parse_ticket
ts, userid, tokens, user_data = parse_ticket('demo-secret', %q, '0.0.0.0')
print(userid)`, val)
	out, err = exec.Command(py, "-c", check).CombinedOutput()
	if err != nil {
		t.Fatalf("repoze.who refuses gowho's ticket %q: %v\n%s", val, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "alice" {
		t.Fatalf("repoze.who read userid %q from gowho's ticket, want alice", got)
	}
}

// TestConvertExitStatus: 2 with the problems on stderr when something is
// not converted, 1 for an unreadable ini, 2 for bad usage.
func TestConvertExitStatus(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.ini")
	if err := os.WriteFile(bad, []byte("no section\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     string // prefix
		stderrPart string
	}{
		{"reference", []string{"convert", "../config/testdata/convert/reference.ini"}, 2, "# who.toml converted by `who convert` from reference.ini", "reference.ini:35: [plugin:sqlusers] conn_factory: not converted"},
		{"does not load", []string{"convert", "../config/testdata/convert/demo.ini"}, 2, "# who.toml converted", "the converted file does not load yet"},
		{"standalone", []string{"convert", "../config/testdata/convert/standalone.ini"}, 0, "# who.toml converted by `who convert` from standalone.ini", "secret: note: the secret is 7 bytes"},
		{"bad ini", []string{"convert", bad}, 1, "", "comes before any [section] header"},
		{"missing", []string{"convert", "nosuch.ini"}, 1, "", "no such file"},
		{"usage", []string{"convert"}, 2, "", "usage: who convert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := Run(tc.args, nil, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tc.stdout) {
				t.Errorf("stdout starts %.80q, want %q", stdout.String(), tc.stdout)
			}
			if tc.stderrPart == "" && stderr.Len() != 0 || !strings.Contains(stderr.String(), tc.stderrPart) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tc.stderrPart)
			}
		})
	}
}
