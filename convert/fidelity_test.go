package convert_test

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
)

// general is a [general] with repoze.who's default classifier and
// decider, so that a test's file reports only what it is about.
const general = "[general]\nrequest_classifier = repoze.who.classifiers:default_request_classifier\n" +
	"challenge_decider = repoze.who.classifiers:default_challenge_decider\n"

// TestCKANAuthTkt: CKAN's auth_tkt factories convert with CKAN's
// defaults (HttpOnly, SameSite=Lax, secure off, reissue_time a tenth of
// timeout), not repoze.who's; repoze.who's own keeps its defaults.
func TestCKANAuthTkt(t *testing.T) {
	t.Parallel()
	const secret = "secret = 0123456789abcdef0123456789abcdef\n"
	tests := []struct {
		name, use, extra string
		want, notWant    []string
		note             string
	}{
		{"CKAN <= 2.8", "ckan.lib.auth_tkt:make_plugin", "",
			[]string{"\nhttp_only = true  # CKAN's default", "\nsecure = false  # CKAN's default", "\nsame_site = \"Lax\"  # CKAN's default"},
			[]string{"as repoze.who", "http_only = false"}, "who.httponly"},
		{"CKAN 2.9", "ckan.lib.repoze_plugins.auth_tkt:make_plugin", "timeout = 3600\n",
			[]string{"\nhttp_only = true", "\nreissue_time = 360  # seconds; CKAN's default: a tenth of timeout"},
			[]string{"http_only = false"}, "who.reissue_time"},
		{"CKAN secure in who.ini", "ckan.lib.auth_tkt:make_plugin", "secure = true\n",
			[]string{"\nsecure = true", "\nhttp_only = true"}, nil, "CKAN ignored the who.ini's secure"},
		{"CKAN 1.x middleware", "ckan.config.middleware:ckan_auth_tkt_make_app", "",
			[]string{"\nhttp_only = false  # repoze.who sent HttpOnly only with secure", "\nsame_site = \"off\""}, nil, "ckan_auth_tkt_make_app"},
		{"repoze.who", "repoze.who.plugins.auth_tkt:make_plugin", "secure = true\n",
			[]string{"\nhttp_only = true  # repoze.who sent HttpOnly only with secure", "\nsame_site = \"off\""}, []string{"CKAN"}, ""},
		{"repoze.who timeout", "repoze.who.plugins.auth_tkt:make_plugin", "timeout = 3600\n",
			nil, []string{"reissue_time ="}, "timeout without reissue_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr := convertString(t, "[plugin:auth_tkt]\nuse = "+tt.use+"\n"+secret+tt.extra+general+"[identifiers]\nplugins = auth_tkt\n[authenticators]\nplugins = auth_tkt\n")
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if !strings.Contains(stderr, tt.note) {
				t.Errorf("report lacks %q:\n%s", tt.note, stderr)
			}
			loads(t, out)
		})
	}
}

// TestAuthTktSameSite: samesite (any case) becomes same_site, with a
// note that no make_plugin took it; it is never reported unknown and
// then written "off".
func TestAuthTktSameSite(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ use, in, want string }{
		{"ckan.lib.auth_tkt:make_plugin", "Lax", `"Lax"`},
		{"repoze.who.plugins.auth_tkt:make_plugin", "strict", `"Strict"`},
		{"repoze.who.plugins.auth_tkt:make_plugin", "NONE\nsecure = true", `"None"`},
	} {
		out, stderr := convertString(t, "[plugin:auth_tkt]\nuse = "+tt.use+"\nsecret = 0123456789abcdef0123456789abcdef\nsamesite = "+tt.in+"\n"+general+"[identifiers]\nplugins = auth_tkt\n")
		if !strings.Contains(out, "\nsame_site = "+tt.want+"  # samesite in the who.ini") || strings.Contains(out, `same_site = "off"`) {
			t.Errorf("samesite = %s: want same_site = %s:\n%s", tt.in, tt.want, out)
		}
		if strings.Contains(stderr, "not an option") || !strings.Contains(stderr, "does not accept samesite") {
			t.Errorf("samesite = %s: report:\n%s", tt.in, stderr)
		}
		loads(t, out)
	}
	out, stderr := convertString(t, "[plugin:auth_tkt]\nuse = repoze.who.plugins.auth_tkt:make_plugin\nsecret = 0123456789abcdef0123456789abcdef\nsamesite = sometimes\n")
	if !strings.Contains(stderr, "samesite: not converted: want Lax, Strict or None") || !strings.Contains(out, `same_site = "off"`) {
		t.Errorf("a bad samesite:\n%s\n%s", out, stderr)
	}
}

// TestFriendlyFormCharset: charset = utf-8 is gowho's behaviour and is
// converted; absent (ISO-8859-1 in the original) is a note; another
// charset is not converted. Never silently read as UTF-8.
func TestFriendlyFormCharset(t *testing.T) {
	t.Parallel()
	const head = "[plugin:ff]\nuse = repoze.who.plugins.friendlyform:FriendlyFormPlugin\nlogin_form_url = /login\nrememberer_name = tkt\n"
	const tail = "[plugin:tkt]\nuse = repoze.who.plugins.auth_tkt:make_plugin\nsecret = 0123456789abcdef0123456789abcdef\n" + general +
		"[identifiers]\nplugins = ff;browser tkt\n[authenticators]\nplugins = tkt\n"
	for _, tt := range []struct{ charset, want string }{
		{"charset = utf-8\n", ""},
		{"charset = UTF8\n", ""},
		{"", "charset: note: absent: FriendlyFormPlugin decoded a POST without a charset as ISO-8859-1"},
		{"charset = iso-8859-1\n", "charset: not converted: gowho reads login POSTs as UTF-8 only"},
	} {
		out, stderr := convertString(t, head+tt.charset+tail)
		switch {
		case tt.want == "" && strings.Contains(stderr, "charset"):
			t.Errorf("%q reported:\n%s", tt.charset, stderr)
		case tt.want != "" && !strings.Contains(stderr, tt.want):
			t.Errorf("%q: report lacks %q:\n%s", tt.charset, tt.want, stderr)
		}
		loads(t, out)
	}
}

// TestDeclaredClassifications: FriendlyFormPlugin declared
// classifications = {IIdentifier: ['browser'], IChallenger: ['browser']},
// which repoze.who applied to an entry without ";CLASS"; repoze.who's own
// plugins (form, redirecting form, basicauth, redirector, auth_tkt)
// declare none.
func TestDeclaredClassifications(t *testing.T) {
	t.Parallel()
	const ini = "[plugin:ff]\nuse = repoze.who.plugins.friendlyform:FriendlyFormPlugin\nlogin_form_url = /login\nrememberer_name = tkt\ncharset = utf-8\n" +
		"[plugin:rf]\nuse = repoze.who.plugins.form:make_redirecting_plugin\nlogin_form_url = /login\nrememberer_name = tkt\n" +
		"[plugin:basic]\nuse = repoze.who.plugins.basicauth:make_plugin\n" +
		"[plugin:tkt]\nuse = repoze.who.plugins.auth_tkt:make_plugin\nsecret = 0123456789abcdef0123456789abcdef\n" + general +
		"[identifiers]\nplugins = ff rf tkt basic\n[authenticators]\nplugins = tkt\n[challengers]\nplugins = ff;dav basic\n"
	out, _ := convertString(t, ini)
	for _, want := range []string{
		"[identifiers]  # [identifiers]\nplugins = [\n  \"ff;browser\",  # listed without a classifier: the Python class declared classifications",
		"\n  \"rf\",\n  \"tkt\",\n  \"basic\",\n]",
		"[challengers]  # [challengers]\nplugins = [\n  \"ff;dav\",\n  \"basic\",\n]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	loads(t, out)
}

// TestDeadEntries: an entry whose classification the converted chain's
// classifier never returns is reported, not left to never run; a
// [general] name that is a [plugin:] section is said to be one; a file
// that is no who.ini and an empty chain are not converted.
func TestDeadEntries(t *testing.T) {
	t.Parallel()
	const plugins = "[plugin:basicauth]\nuse = repoze.who.plugins.basicauth:make_plugin\n" +
		"[plugin:tkt]\nuse = repoze.who.plugins.auth_tkt:make_plugin\nsecret = 0123456789abcdef0123456789abcdef\n"
	tests := []struct{ name, ini, want string }{
		{"custom classifier", plugins + "[general]\nrequest_classifier = vigilo.turbogears.repoze.classifier:vigilo_classifier\n" +
			"challenge_decider = repoze.who.classifiers:default_challenge_decider\n[identifiers]\nplugins = tkt basicauth;vigilo-api\n",
			`[identifiers] plugins: not converted: entry "basicauth;vigilo-api": classification "vigilo-api" came from request_classifier = vigilo.turbogears.repoze.classifier:vigilo_classifier, which is not converted`},
		{"default classifier", plugins + general + "[identifiers]\nplugins = tkt basicauth;api\n",
			`entry "basicauth;api": classification "api" is never returned by the default request classifier`},
		{"decider plugin", plugins + "[plugin:decider]\nuse = saml2.s2repoze.plugins.challenge_decider:make_plugin\n" +
			"[general]\nrequest_classifier = repoze.who.classifiers:default_request_classifier\nchallenge_decider = decider\n[identifiers]\nplugins = tkt\n",
			`[general] challenge_decider: not converted: "decider" names [plugin:decider] (use = saml2.s2repoze.plugins.challenge_decider:make_plugin), a Python challenge decider`},
		{"not a who.ini", "[app:main]\nuse = egg:ckan\n[server:main]\nport = 5000\n", "who.ini: not converted: not a repoze.who who.ini"},
		{"empty chain", "[plugin:x]\nuse = my.module:Plugin\n" + general + "[identifiers]\nplugins = x\n[authenticators]\nplugins = x\n",
			"who.ini: not converted: the converted chain lists no identifier and no authenticator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr := convertString(t, tt.ini)
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("report lacks %q:\n%s", tt.want, stderr)
			}
			if strings.Contains(tt.name, "classifier") && strings.Contains(out, "\n  \"basicauth;") {
				t.Errorf("the dead entry is listed:\n%s", out)
			}
			if strings.Contains(stderr, "Python-only") && tt.name == "decider plugin" {
				t.Errorf("the decider plugin is called Python-only:\n%s", stderr)
			}
		})
	}
}

// TestBuildoutPlaceholder: a buildout ${section:option} is refused with a
// report naming the line, never written as a gowho ${NAME}.
func TestBuildoutPlaceholder(t *testing.T) {
	t.Parallel()
	out, stderr := convertString(t, "[plugin:htpasswd]\nuse = repoze.who.plugins.htpasswd:make_plugin\nfilename = ${buildout:directory}/etc/passwd\n")
	if !strings.Contains(stderr, "who.ini:3: [plugin:htpasswd] filename: not converted: a zc.buildout ${section:option} placeholder") {
		t.Errorf("report:\n%s", stderr)
	}
	if strings.Contains(out, "\nfilename =") {
		t.Errorf("the placeholder is written as a value:\n%s", out)
	}
}

// loads fails the test when out does not load as a who.toml (with the
// ${NAME}s `who convert` writes set).
func loads(t *testing.T, out string) {
	t.Helper()
	chain, err := config.Parse(filepath.Join(t.TempDir(), "who.toml"), []byte(out), config.Options{LookupEnv: lookupEnv, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the converted file does not load:\n%v\n%s", err, out)
	}
	_ = chain.Close()
}

// TestDollarBraceKept: a ${NAME} that is no buildout placeholder was
// text to repoze.who; it is kept as text ($${), with a note saying so.
func TestDollarBraceKept(t *testing.T) {
	t.Parallel()
	out, stderr := convertString(t, "[plugin:r]\nuse = repoze.who.plugins.redirector:make_plugin\nlogin_url = /login?x=${HOME}\n")
	if !strings.Contains(out, `login_url = "/login?x=$${HOME}"`) {
		t.Errorf("not kept as text:\n%s", out)
	}
	if !strings.Contains(stderr, "who.ini:3: [plugin:r] login_url: note: the value holds \"${\"") {
		t.Errorf("no note:\n%s", stderr)
	}
}

// TestMemcachedRefusedSecret: a memcached secret that cannot be
// converted (a lone %, a buildout placeholder) becomes
// ${WHO_MEMCACHED_SECRET}, so the output still loads.
func TestMemcachedRefusedSecret(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"50%off", "${cache:secret}"} {
		out, stderr := convertString(t, "[plugin:htpasswd]\nuse = repoze.who.plugins.htpasswd:make_plugin\nfilename = /etc/passwd\n"+
			"[plugin:cache]\nuse = repoze.who.plugins.memcached:make_plugin\nmemcached_urls = 127.0.0.1:11211\nauthenticator_name = htpasswd\nsecret = "+v+"\n"+
			general+"[authenticators]\nplugins = cache htpasswd;unused\n")
		if !strings.Contains(out, "\nsecret = \"${WHO_MEMCACHED_SECRET}\"") || !strings.Contains(stderr, "who.ini:8: [plugin:cache] secret: not converted") {
			t.Errorf("secret = %s:\n%s\n%s", v, out, stderr)
		}
		loads(t, out)
	}
}
