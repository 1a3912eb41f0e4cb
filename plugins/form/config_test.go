package form_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/plugins/form"
	"github.com/gowho/gowho/plugins/htpasswd"
	"github.com/gowho/gowho/who"

	_ "github.com/gowho/gowho/plugins/authtkt"
)

const tomlOK = `
[plugin.form]
use = "repoze.who.plugins.friendlyform:FriendlyFormPlugin"
login_form_url = "/login"
rememberer_name = "auth_tkt"

[plugin.auth_tkt]
use = "auth_tkt"
secret = "form-test-secret-0123456789abcdef"

[identifiers]
plugins = ["form;browser", "auth_tkt"]
[authenticators]
plugins = ["auth_tkt"]
[challengers]
plugins = ["form;browser"]
`

// TestLoadResolvesRememberer: rememberer_name is resolved when who.toml
// loads, and a wrong name is a load error naming the key.
func TestLoadResolvesRememberer(t *testing.T) {
	t.Parallel()
	chain, err := config.Parse("who.toml", []byte(tomlOK), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	p, ok := chain.Plugin("form")
	if !ok {
		t.Fatal("no form plugin")
	}
	if err := p.(*form.Plugin).Validate(); err != nil {
		t.Fatalf("rememberer not resolved at load: %v", err)
	}
	for _, tt := range []struct{ from, to, want string }{
		{`rememberer_name = "auth_tkt"`, `rememberer_name = "auth_tk"`, "rememberer_name"},
		{`rememberer_name = "auth_tkt"`, ``, "rememberer_name"},
	} {
		_, err := config.Parse("who.toml", []byte(strings.Replace(tomlOK, tt.from, tt.to, 1)), config.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want one naming %s", tt.to, err, tt.want)
		}
	}
}

// TestLoadBounds: max_body_bytes, max_password_bytes and max_remember are
// read from who.toml; a max_remember under a second is a load error
// naming the key.
func TestLoadBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ opts, wantErr string }{
		{"max_body_bytes = 4096\nmax_password_bytes = 256\nmax_remember = \"1h\"", ""},
		{"max_remember = 86400", ""},
		{"max_remember = \"10ms\"", "max_remember"},
		{"max_remember = \"soon\"", "max_remember"},
		{"max_remember = \"-1h\"", "max_remember"},
		{"max_body_bytes = -1", "max_body_bytes"},
		{"max_password_bytes = -5", "max_password_bytes"},
	} {
		src := strings.Replace(tomlOK, `login_form_url = "/login"`, `login_form_url = "/login"`+"\n"+tt.opts, 1)
		chain, err := config.Parse("who.toml", []byte(src), config.Options{})
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.opts, err)
				continue
			}
			chain.Close()
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: err = %v, want one naming %s", tt.opts, err, tt.wantErr)
		}
		if chain != nil {
			chain.Close()
		}
	}
}

// TestLoadLoginUnderItsName: a form plugin declared under a name of its
// own ([plugin.site_login]) logs in under that name (who.API.LoginAs
// finds the plugin itself), also while another user is logged in: alice switches
// to bob with a fresh ticket. Without the fix the second login answered
// "Wrong login or password.".
func TestLoadLoginUnderItsName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var lines string
	for _, u := range [][2]string{{"alice", "wonderland"}, {"bob", "builder"}} {
		h, err := htpasswd.Hash(htpasswd.SchemeAPR1, u[1])
		if err != nil {
			t.Fatal(err)
		}
		lines += u[0] + ":" + h + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer(
		"[plugin.form]", "[plugin.site_login]\nserve_form = false",
		`"form;browser"`, `"site_login;browser"`,
		`plugins = ["auth_tkt"]`, `plugins = ["auth_tkt", "htpasswd"]`,
	).Replace(tomlOK) + "\n[plugin.htpasswd]\nuse = \"htpasswd\"\nfilename = \"users\"\n"
	chain, err := config.Parse(filepath.Join(dir, "who.toml"), []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	h := chain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "user=", who.UserID(r.Context()))
	}))
	var cookie *http.Cookie
	for _, u := range [][2]string{{"alice", "wonderland"}, {"bob", "builder"}} {
		req := httptest.NewRequest("POST", "/login_handler", strings.NewReader(url.Values{"login": {u[0]}, "password": {u[1]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Accept", "text/html")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		cookie = nil
		for _, c := range rec.Result().Cookies() {
			if c.Name == "auth_tkt" {
				cookie = c
			}
		}
		if rec.Code != 302 || cookie == nil {
			t.Fatalf("login as %s: %d, Set-Cookie %q", u[0], rec.Code, rec.Header()["Set-Cookie"])
		}
		req = httptest.NewRequest("GET", "/", nil)
		req.AddCookie(cookie)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Body.String() != "user="+u[0] {
			t.Fatalf("after logging in as %s: %q", u[0], rec.Body)
		}
	}
}
