package whocmd

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/who"
)

// barkey is a test plugin that declares its identity keys secret
// (who.SecretKeyer): it identifies "X-Bar: user pin apikey" and lets in
// the user whose pin is 4242.
type barkey struct{}

func (barkey) SecretKeys() []string { return []string{"barkey.pin", "barkey.key"} }

func (barkey) Identify(r *http.Request) (who.Identity, error) {
	f := strings.Fields(r.Header.Get("X-Bar"))
	if len(f) != 3 {
		return nil, nil
	}
	return who.Identity{"barkey.user": f[0], "barkey.pin": f[1], "barkey.key": f[2]}, nil
}

func (barkey) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	if id["barkey.pin"] == "4242" {
		return id["barkey.user"].(string), nil
	}
	return "", nil
}

func init() {
	who.Register("cmdtest-barkey", func(spec who.PluginSpec) (any, error) {
		return barkey{}, spec.Decode(&struct{}{})
	})
}

// writeBarkeyChain writes a who.toml whose one plugin is a barkey and
// returns its path.
func writeBarkeyChain(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "who.toml")
	const cfg = `
[plugin.barkey]
use = "cmdtest-barkey"
[identifiers]
plugins = ["barkey"]
[authenticators]
plugins = ["barkey"]
`
	if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestExplainMasksDeclaredKeys: who explain masks every identity key the
// chain's plugins declare secret. Before, it printed a custom plugin's
// credential in full (`found {barkey.pin: "4242", ...}`): only the
// password and secret-sounding names were masked.
func TestExplainMasksDeclaredKeys(t *testing.T) {
	t.Parallel()
	f := writeBarkeyChain(t)
	for _, args := range [][]string{
		{"explain", "-config", f, "-H", "X-Bar: carol 4242 k-leak-1", "GET", "/"},
		{"explain", f, "GET", "/", "-H", "X-Bar: carol 4242 k-leak-1"}, // the positional form
	} {
		code, out, errs := runCmd("", args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errs)
		}
		want := `barkey: found {barkey.key: "********", barkey.pin: "********", barkey.user: "carol"}`
		if !strings.Contains(out, want) || !strings.Contains(out, `winner: userid "carol"`) {
			t.Errorf("%q printed:\n%s\nwant %s and carol as the winner", args, out, want)
		}
		// The request's own header is echoed as given; after it, no
		// declared secret shows.
		_, after, _ := strings.Cut(out, "classification:")
		if strings.Contains(after, "4242") || strings.Contains(after, "leak") {
			t.Errorf("%q printed a declared secret:\n%s", args, out)
		}
	}
}

// TestDemoWhoamiMasksDeclaredKeys: the demo's /whoami masks the identity
// keys the chain's plugins declare secret; it printed a custom plugin's
// pin in full (Identity.Public hides only the password).
func TestDemoWhoamiMasksDeclaredKeys(t *testing.T) {
	t.Parallel()
	f := writeBarkeyChain(t)
	h, closeChain, err := newServer(f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeChain() }()
	req := httptest.NewRequest("GET", "/whoami", nil)
	req.Header.Set("X-Bar", "carol 4242 k-leak-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if !strings.Contains(body, `"carol"`) || strings.Contains(body, "4242") || strings.Contains(body, "leak") {
		t.Errorf("/whoami = %s, want carol with barkey.pin and barkey.key masked", body)
	}
}
