package docstest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/plugins/authtkt"
	_ "github.com/gowho/gowho/plugins/form"
	_ "github.com/gowho/gowho/plugins/htpasswd"
)

// RouterTOML is the chain of the router tests: the login form served at
// /login, which also receives its POST, remembered by an auth_tkt cookie,
// checked against examples/passwd (alice / wonderland). %s is the
// passwd file's path.
const RouterTOML = `
[plugin.form]
use = "form"
login_form_url = "/login"
login_handler_path = "/login"
logout_handler_path = "/logout"
rememberer_name = "auth_tkt"

[plugin.auth_tkt]
use = "authtkt"
secret = "docstest-router-secret-0123456789abcdef"
digest_algo = "sha256"

[plugin.htpasswd]
use = "htpasswd"
filename = %s

[identifiers]
plugins = ["form;browser", "auth_tkt"]
[authenticators]
plugins = ["auth_tkt", "htpasswd"]
[challengers]
plugins = ["form;browser"]
`

// RouterChain loads RouterTOML; repoRoot is the repository's directory
// seen from the calling test. The chain is closed when the test ends.
func RouterChain(t testing.TB, repoRoot string) *config.Chain {
	t.Helper()
	passwd, err := filepath.Abs(filepath.Join(repoRoot, "examples", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(passwd); err != nil {
		t.Fatalf("the router test's users: %v", err)
	}
	toml := strings.Replace(RouterTOML, "%s", strconv.Quote(passwd), 1)
	chain, err := config.Parse("router.toml", []byte(toml), config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("loading the router test's chain: %v", err)
	}
	t.Cleanup(func() { chain.Close() })
	return chain
}

// csrfField finds the form's hidden CSRF token in the login page.
var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// CheckLoginFlow serves h (an application with RouterChain in front of it)
// and walks a browser through it: GET private anonymous is a challenge (a
// redirect to /login), GET /login is the form, POST /login with alice's
// password is a 302 that sets the auth_tkt cookie, and GET private with
// that cookie is a 200 whose body contains wantBody. It returns the
// logged-in client (its cookie jar holds the ticket) and the server's URL.
func CheckLoginFlow(t *testing.T, h http.Handler, private, wantBody string) (*http.Client, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/html")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	resp, _ := do("GET", private, nil)
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/login" {
		t.Fatalf("anonymous GET %s: %d Location %q, want the form's challenge: 302 to /login", private, resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := do("GET", "/login", nil)
	m := csrfField.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET /login: %d, CSRF field found: %v; want 200 and the login form (is the chain in front of the whole router?)\n%s", resp.StatusCode, m != nil, page)
	}
	resp, page = do("POST", "/login", url.Values{"login": {"alice"}, "password": {"wonderland"}, "_csrf": {m[1]}, "came_from": {private}})
	var ticket bool
	for _, c := range resp.Cookies() {
		ticket = ticket || (c.Name == "auth_tkt" && c.Value != "")
	}
	if resp.StatusCode != http.StatusFound || !ticket {
		t.Fatalf("POST /login: %d, auth_tkt cookie set: %v; want 302 and the cookie (is the chain in front of the whole router?)\n%s", resp.StatusCode, ticket, page)
	}
	resp, page = do("GET", private, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, wantBody) {
		t.Fatalf("GET %s logged in: %d %q, want 200 with %q", private, resp.StatusCode, page, wantBody)
	}
	return client, srv.URL
}
