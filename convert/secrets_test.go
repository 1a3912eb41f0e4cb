package convert_test

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/convert"
)

// convertString converts one who.ini given as text.
func convertString(t *testing.T, ini string) (string, string) {
	t.Helper()
	parsed, err := convert.ParseINI([]byte(ini), "/srv/app")
	if err != nil {
		t.Fatalf("ParseINI: %v", err)
	}
	out, probs := convert.Convert(parsed, convert.Options{Source: "who.ini", Here: "/srv/app", OutDir: "/srv/app"})
	var stderr strings.Builder
	for _, p := range probs {
		stderr.WriteString(p.String() + "\n")
	}
	return string(out), stderr.String()
}

// TestAuthTktSecretLength: a who.ini secret under 16 bytes, which gowho
// refuses, is converted with allow_weak_secret = true and a note, so the
// site's tickets stay valid and the file loads; longer secrets get no
// flag. The secret is never in a note.
func TestAuthTktSecretLength(t *testing.T) {
	t.Parallel()
	const tmpl = "[plugin:auth_tkt]\nuse = repoze.who.plugins.auth_tkt:make_plugin\nsecret = %s\n" +
		"[general]\nrequest_classifier = repoze.who.classifiers:default_request_classifier\n" +
		"challenge_decider = repoze.who.classifiers:default_challenge_decider\n[identifiers]\nplugins = auth_tkt\n"
	tests := []struct {
		name, secret string
		weak         bool // allow_weak_secret written, with a note
		comment      string
	}{
		{"7 bytes", "k3y-7by", true, "7 bytes: replace it"},
		{"15 bytes", "fifteen-bytes-x", true, "15 bytes: replace it"},
		{"16 bytes", "sixteen-bytes-xx", false, "gowho warns under 32"},
		{"32 bytes", "0123456789abcdef0123456789abcdef", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr := convertString(t, strings.Replace(tmpl, "%s", tt.secret, 1))
			if got := strings.Contains(out, "\nallow_weak_secret = true"); got != tt.weak {
				t.Errorf("allow_weak_secret written: %v, want %v:\n%s", got, tt.weak, out)
			}
			if got := strings.Contains(stderr, "allow_weak_secret = true is written"); got != tt.weak {
				t.Errorf("note: %v, want %v:\n%s", got, tt.weak, stderr)
			}
			if strings.Contains(stderr, tt.secret) {
				t.Errorf("the secret is in a note:\n%s", stderr)
			}
			if tt.comment != "" && !strings.Contains(out, tt.comment) {
				t.Errorf("no %q comment on the secret:\n%s", tt.comment, out)
			}
			chain, err := config.Parse(filepath.Join(t.TempDir(), "who.toml"), []byte(out), config.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatalf("the converted file does not load:\n%v\n%s", err, out)
			}
			_ = chain.Close()
		})
	}
}

// TestAuthTktPlaceholderSecret: a secret anyone knows (empty, the
// placeholders public who.ini files and docs ship, CKAN's "somesecret",
// a buildout ${section:option}) is never carried over: the output reads
// ${WHO_AUTH_TKT_SECRET}, and a not-converted problem names the line and
// says why, without quoting the value.
func TestAuthTktPlaceholderSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, use, secret, want string
	}{
		{"empty", "repoze.who.plugins.auth_tkt:make_plugin", "", "an empty secret: repoze.who signed with it, gowho refuses it"},
		{"repoze.who's docs", "repoze.who.plugins.auth_tkt:make_plugin", "s33kr1t", "the value is a publicly known placeholder"},
		{"secret", "repoze.who.plugins.auth_tkt:make_plugin", "secret", "the value is a publicly known placeholder"},
		{"CHANGEME", "repoze.who.plugins.auth_tkt:make_plugin", "CHANGEME", "the value is a publicly known placeholder"},
		{"somesecret, repoze.who", "repoze.who.plugins.auth_tkt:make_plugin", "somesecret", "the value is a publicly known placeholder"},
		{"somesecret, CKAN", "ckan.lib.auth_tkt:make_plugin", "somesecret", "CKAN replaced the placeholder"},
		{"somesecret, CKAN 2.9", "ckan.lib.repoze_plugins.auth_tkt:make_plugin", "somesecret", "CKAN replaced the placeholder"},
		{"empty, CKAN 1.x middleware", "ckan.config.middleware:ckan_auth_tkt_make_app", "", "an empty secret: ckan_auth_tkt_make_app replaced it with beaker.session.secret"},
		{"buildout", "repoze.who.plugins.auth_tkt:make_plugin", "${settings:auth-tkt-secret}", "a zc.buildout ${section:option} placeholder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr := convertString(t, "[plugin:auth_tkt]\nuse = "+tt.use+"\nsecret = "+tt.secret+"\n[identifiers]\nplugins = auth_tkt\n")
			if !strings.Contains(out, "\nsecret = \"${WHO_AUTH_TKT_SECRET}\"") {
				t.Errorf("the output does not read the secret from WHO_AUTH_TKT_SECRET:\n%s", out)
			}
			if tt.secret != "" && strings.Contains(out, "secret = \""+tt.secret) {
				t.Errorf("the placeholder is carried over:\n%s", out)
			}
			if !strings.Contains(stderr, "who.ini:3: [plugin:auth_tkt] secret: not converted: "+tt.want) {
				t.Errorf("no problem naming line 3 with %q:\n%s", tt.want, stderr)
			}
			if tt.secret != "" && strings.Contains(stderr, "= "+tt.secret) {
				t.Errorf("the value is quoted in a problem:\n%s", stderr)
			}
			if strings.Contains(out, "allow_weak_secret") {
				t.Errorf("allow_weak_secret written for a refused secret:\n%s", out)
			}
		})
	}
	// Not placeholders: kept (with allow_weak_secret when short).
	for _, secret := range []string{"vigilo-prod-2f9c", "0123456789abcdef0123456789abcdef"} {
		out, _ := convertString(t, "[plugin:auth_tkt]\nuse = repoze.who.plugins.auth_tkt:make_plugin\nsecret = "+secret+"\n")
		if !strings.Contains(out, "\nsecret = \""+secret+"\"") {
			t.Errorf("secret %q not kept:\n%s", secret, out)
		}
	}
}

// TestINIPercentSecret: a lone % in a value (baruwa2's secret), which
// configparser refused, is reported with its line and what to write,
// without quoting the value; the secret becomes ${WHO_AUTH_TKT_SECRET}.
func TestINIPercentSecret(t *testing.T) {
	t.Parallel()
	out, stderr := convertString(t, "[plugin:auth_tkt]\nuse = repoze.who.plugins.auth_tkt:make_plugin\n\nsecret = 9?_Apu-c4Kcu%tg\n[identifiers]\nplugins = auth_tkt\n")
	want := "who.ini:4: [plugin:auth_tkt] secret: not converted: a '%' (byte 13 of the value) not followed by '%' or '(NAME)s': configparser refused it (InterpolationSyntaxError), so repoze.who failed at load; write a literal % as %%"
	if !strings.Contains(stderr, want) {
		t.Errorf("problems lack %q:\n%s", want, stderr)
	}
	if strings.Contains(stderr, "%tg") || strings.Contains(stderr, "Apu") {
		t.Errorf("the secret is quoted in a problem:\n%s", stderr)
	}
	if !strings.Contains(out, "\nsecret = \"${WHO_AUTH_TKT_SECRET}\"") {
		t.Errorf("no ${WHO_AUTH_TKT_SECRET}:\n%s", out)
	}
}

// TestSQLAllowPlain: allow_plain = true is written only when the
// original compared clear text and nothing else (before, every
// authenticator got it, so a hash-shaped value could log in as clear
// text); default_password_compare gets a commented line and a note.
func TestSQLAllowPlain(t *testing.T) {
	t.Parallel()
	const head = "[plugin:sql]\nuse = repoze.who.plugins.sql:make_authenticator_plugin\n" +
		"query = SELECT id, password FROM users WHERE login = %(login)s\nconn_factory = x:y\n"
	tests := []struct {
		name, extra string
		plain       bool // allow_plain = true, uncommented
		commented   bool // "# allow_plain = true"
		note        string
	}{
		{"no compare_fn", "", false, true, "default_password_compare also accepted clear-text passwords"},
		{"default_password_compare", "compare_fn = repoze.who.plugins.sql:default_password_compare\n", false, true, "default_password_compare also accepted clear-text passwords"},
		{"plain_check", "compare_fn = repoze.who.plugins.htpasswd:plain_check\n", true, false, "compared as clear text: allow_plain = true is written"},
		{"unknown", "compare_fn = my.module:compare\n", false, false, "an unknown Python compare function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr := convertString(t, head+tt.extra)
			if got := strings.Contains(out, "\nallow_plain = true"); got != tt.plain {
				t.Errorf("allow_plain = true: %v, want %v:\n%s", got, tt.plain, out)
			}
			if got := strings.Contains(out, "\n# allow_plain = true"); got != tt.commented {
				t.Errorf("# allow_plain = true: %v, want %v:\n%s", got, tt.commented, out)
			}
			if !strings.Contains(stderr, tt.note) {
				t.Errorf("problems lack %q:\n%s", tt.note, stderr)
			}
		})
	}
	// The metadata plugin never compared passwords.
	out, _ := convertString(t, "[plugin:md]\nuse = repoze.who.plugins.sql:make_metadata_plugin\nname = groups\nquery = SELECT g FROM groups WHERE u = %(__userid)s\nconn_factory = x:y\n")
	if strings.Contains(out, "allow_plain") {
		t.Errorf("metadata plugin got allow_plain:\n%s", out)
	}
}
