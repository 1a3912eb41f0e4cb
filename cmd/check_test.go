package whocmd

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
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

// checkProviderTOML is a chain with an oidc and a jwt plugin at issuer
// (a discovery document and a key set there); the jwt plugin's client
// secret is in the file, so a warning quoting it would show.
const checkProviderTOML = `
[plugin.auth_tkt]
use = "authtkt"
secret = "cmdtest-check-secret-0123456789abcdef"
[plugin.corp]
use = "oidc"
issuer = "%[1]s"
client_id = "gowho"
client_secret = "oidc-client-secret-in-the-file"
rememberer_name = "auth_tkt"
http_timeout = "2s"
[plugin.api]
use = "jwt"
issuer = "%[1]s"
audience = ["api"]
[identifiers]
plugins = ["corp", "api", "auth_tkt"]
[authenticators]
plugins = ["auth_tkt", "corp", "api"]
[challengers]
plugins = ["corp"]
`

// providerServer serves a discovery document and a key set (one Ed25519
// key) at its root, or, when down is closed, answers 503 to everything;
// stall makes every request wait until the client gives up.
func providerServer(t *testing.T, mode string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case mode == "503":
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		case mode == "stall":
			<-r.Context().Done()
		case r.URL.Path == "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","id_token_signing_alg_values_supported":["EdDSA"]}`, srv.URL)
		case r.URL.Path == "/keys":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","use":"sig","x":%q}]}`, base64.RawURLEncoding.EncodeToString(pub))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCheckProviders: `who check` asks every plugin that is a
// who.Checker (oidc's discovery, jwt's key set) whether its provider
// answers, in parallel and bounded: a provider down, failing or silent is
// one warning per plugin, naming it and what failed without the file's
// secrets, and exits 0 (1 with -strict); a provider up is no warning.
// Before, `who check` never contacted a provider, so one that was down
// went unreported until the first login.
func TestCheckProviders(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name, issuer string
		want         []string // per warning, in build order (corp, then api)
	}{
		{"up", providerServer(t, "up"), nil},
		{"down", closedURL, []string{
			`[plugin.corp] (use = "oidc", line 5): oidc: provider unavailable: discovery at ` + closedURL + "/.well-known/openid-configuration",
			`[plugin.api] (use = "jwt", line 12): jwt: discovery ` + closedURL + "/.well-known/openid-configuration",
		}},
		{"503", providerServer(t, "503"), []string{"503 Service Unavailable", "status 503"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := writeCheckFiles(t, fmt.Sprintf(checkProviderTOML, tc.issuer), nil)
			code, out, errs := runCmd("", "check", f)
			if code != 0 || !strings.Contains(out, "chain from") {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and the chain", code, out, errs)
			}
			if len(tc.want) == 0 {
				if errs != "" {
					t.Errorf("stderr:\n%s\nwant nothing", errs)
				}
			} else {
				lines := strings.Split(strings.TrimSpace(errs), "\n")
				if len(lines) != len(tc.want)+1 {
					t.Fatalf("%d lines on stderr, want %d warnings and the count:\n%s", len(lines), len(tc.want), errs)
				}
				for i, w := range tc.want {
					if !strings.HasPrefix(lines[i], "who check: warning: ") || !strings.Contains(lines[i], w) {
						t.Errorf("warning %d: want one with %q, stderr:\n%s", i+1, w, errs)
					}
				}
				if want := plural(len(tc.want), "warning", "warnings") + " (with -strict they exit 1)"; !strings.HasSuffix(lines[len(lines)-1], want) {
					t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
				}
			}
			if strings.Contains(errs, "oidc-client-secret-in-the-file") || strings.Contains(errs, "cmdtest-check-secret") {
				t.Errorf("stderr quotes a secret:\n%s", errs)
			}
			code, _, errs = runCmd("", "check", "-strict", f)
			if want := min(len(tc.want), 1); code != want {
				t.Errorf("-strict: exit %d, want %d; stderr:\n%s", code, want, errs)
			}
		})
	}
}

// TestCheckPluginsTimeout: a provider that never answers is a warning
// once checkPlugins' bound is over, even from a Check that ignores its
// context; the plugins are checked at once, not one after the other.
func TestCheckPluginsTimeout(t *testing.T) {
	t.Parallel()
	f := writeCheckFiles(t, fmt.Sprintf(checkProviderTOML, providerServer(t, "stall")), nil)
	chain, err := config.Load(f, config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	const bound = 300 * time.Millisecond
	start := time.Now()
	got := checkPlugins(chain, bound)
	if d := time.Since(start); d > 2*bound+time.Second {
		t.Errorf("checkPlugins took %v with two silent providers and a bound of %v each, want them checked in parallel", d, bound)
	}
	if len(got) != 2 || !strings.Contains(got[0], "[plugin.corp]") || !strings.Contains(got[1], "[plugin.api]") {
		t.Fatalf("warnings %q, want one for corp and one for api", got)
	}
	for _, w := range got {
		if !strings.Contains(w, "deadline exceeded") && !strings.Contains(w, "no answer within") && !strings.Contains(w, "Timeout") {
			t.Errorf("warning %q does not say the provider did not answer in time", w)
		}
	}
}
