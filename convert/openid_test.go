package convert_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/convert"
)

// TestOpenID: a who.ini logging in with repoze.who.plugins.openid (its
// identifier and its challenge decider) converts with notes pointing to
// docs/plugins/oidc.md, not Python-only errors: the plugin's section is
// commented out under a note saying OpenID 2.0 is gone and OpenID Connect
// is what gowho offers, the decider becomes "default" with a note; the
// stage entries naming the plugin are still "not converted" (a login
// method is missing until an oidc plugin is declared by hand, so who
// convert exits 2), with the pointer. The rest converts and loads.
// Before, the plugin and the decider were "Python-only: no gowho plugin
// implements it" errors that said nothing of OpenID Connect.
func TestOpenID(t *testing.T) {
	t.Parallel()
	_, out, probs := convertFile(t, "testdata/openid/who.ini")
	want := map[string]bool{ // "section key" -> a note (true) or not converted (false)
		"plugin:openid use": true, "general challenge_decider": true,
		"identifiers plugins": false, "challengers plugins": false,
	}
	seen := map[string]bool{}
	for _, p := range probs {
		k := p.Section + " " + p.Key
		note, ok := want[k]
		if !ok {
			t.Errorf("unexpected problem %v", p)
			continue
		}
		seen[k] = true
		if p.Warning != note || !strings.Contains(p.Msg, "docs/plugins/oidc.md") || !strings.Contains(p.Msg, "OpenID Connect") || strings.Contains(p.Msg, "Python-only") {
			t.Errorf("%s: %q (a note: %v), want a note %v pointing to docs/plugins/oidc.md", k, p.Msg, p.Warning, note)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("nothing said about %s; problems: %v", k, probs)
		}
	}
	if !convert.Failed(probs) {
		t.Error("Failed = false: the stage entries that logged users in were dropped, want exit 2")
	}
	toml := string(out)
	for _, w := range []string{
		"# not converted: use = repoze.who.plugins.openid:make_identification_plugin: OpenID 2.0 (repoze.who.plugins.openid) is gone",
		"# [plugin.openid]",
		`challenge_decider = "default"  # repoze.who.plugins.openid.classifiers:openid_challenge_decider: OpenID 2.0 is gone; gowho offers OpenID Connect, see docs/plugins/oidc.md`,
		`  # "openid;browser",  # not converted: [plugin:openid] was not converted: OpenID 2.0 is gone; gowho offers OpenID Connect, see docs/plugins/oidc.md`,
		"[plugin.auth_tkt]",
	} {
		if !strings.Contains(toml, w) {
			t.Errorf("the who.toml lacks %q:\n%s", w, toml)
		}
	}
	// What converted loads (with no challenger left: the oidc plugin is
	// the user's to declare).
	f := filepath.Join(t.TempDir(), "who.toml")
	must(t, os.WriteFile(f, out, 0o600))
	chain, err := config.Load(f, config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the converted file does not load: %v\n%s", err, toml)
	}
	chain.Close()
}
