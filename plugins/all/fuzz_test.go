package all_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
)

// chainTOML is a chain of every built-in plugin: the form and basic auth for
// logins, auth_tkt and sessions for staying logged in, htpasswd behind the
// memcached wrapper (whose memcached, like the LDAP directory, is a closed
// port: the backends fail as they do in an outage), SQL users in SQLite and
// the redirector for dav clients.
const chainTOML = `
[general]
remote_user_key = "Remote-User"

[plugin.form]
use = "form"
login_form_url = "/login"
login_handler_path = "/login_handler"
logout_handler_path = "/logout_handler"
post_login_url = "/"
rememberer_name = "auth_tkt"

[plugin.auth_tkt]
use = "authtkt"
secret = "fuzz-secret-of-thirty-two-bytes!!"
digest_algo = "sha256"
timeout = "1h"
reissue_time = "10m"

[plugin.basicauth]
use = "basicauth"
realm = "fuzz"

[plugin.htpasswd]
use = "htpasswd"
filename = "passwd"

[plugin.cache]
use = "memcached"
memcached_urls = ["127.0.0.1:1"]
authenticator_name = "htpasswd"
secret = "fuzz-cache-secret-of-32-bytes!!!"

[plugin.sql]
use = "sqlauth"
driver = "sqlite"
dsn = "users.db"
query = "SELECT id, password FROM users WHERE login = :login"

[plugin.directory]
use = "ldap"
url = "ldap://127.0.0.1:1"
base_dn = "ou=people,dc=example,dc=org"

[plugin.sessions]
use = "session"
store = "memory"

[plugin.sessionid]
use = "sessionid"
session_name = "sessions"

[plugin.redirector]
use = "redirector"
login_url = "/login"

[identifiers]
plugins = ["form;browser", "auth_tkt", "sessionid", "basicauth"]

[authenticators]
plugins = ["auth_tkt", "sessionid", "cache", "sql", "directory", "htpasswd;unused"]

[challengers]
plugins = ["form;browser", "redirector;dav", "basicauth"]
`

// csrfField finds the form's hidden CSRF token.
var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// knownUsers are the userids a request may end up authenticated as.
var knownUsers = map[string]bool{"alice": true, "1": true}

var (
	chainOnce sync.Once
	chainErr  error
	handler   http.Handler
	seeds     []fuzzRequest
)

type fuzzRequest struct {
	method, target, headers string
	body                    []byte
}

// buildChain writes the chain's files into a directory of its own and loads
// it; one chain serves every fuzz input, as one server serves every client.
func buildChain() {
	dir, err := os.MkdirTemp("", "gowho-fuzz-chain")
	if err != nil {
		chainErr = err
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("wonderland"), bcrypt.MinCost)
	if err != nil {
		chainErr = err
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte("alice:"+string(hash)+"\n"), 0o600); err != nil {
		chainErr = err
		return
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "users.db"))
	if err != nil {
		chainErr = err
		return
	}
	defer db.Close()
	carol, _ := bcrypt.GenerateFromPassword([]byte("carol-pass"), bcrypt.MinCost)
	for _, s := range []string{
		"CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT UNIQUE, password TEXT)",
		"INSERT INTO users VALUES (1, 'carol', '" + string(carol) + "')",
	} {
		if _, err := db.Exec(s); err != nil {
			chainErr = err
			return
		}
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	chain, err := config.Parse(filepath.Join(dir, "who.toml"), []byte(chainTOML), config.Options{Logger: logger})
	if err != nil {
		chainErr = err
		return
	}
	app := http.NewServeMux()
	report := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user=%q\n", who.UserID(r.Context()))
		for k, v := range r.Header {
			if who.HeaderNamesMatch(k, "Remote-User") {
				fmt.Fprintf(w, "header %s=%q\n", k, v)
			}
		}
	}
	app.HandleFunc("/", report)
	app.Handle("/protected/", who.Require(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "protected ")
		report(w, r)
	})))
	handler = chain.Handler(app)

	// Seeds: an anonymous browser, Basic, the form's POST, and the cookie
	// the form's login sets.
	basic := "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\nRemote_User: admin"
	seeds = []fuzzRequest{
		{"GET", "/protected/x", "Accept: text/html", nil},
		{"GET", "//evil.example/x", "Accept: text/html", nil},
		{"GET", "/protected/", basic, nil},
		{"PROPFIND", "/protected/", "Remote-User: admin", nil},
		{"POST", "/login_handler?came_from=%2F%2Fevil", "Content-Type: application/x-www-form-urlencoded\nSec-Fetch-Site: same-origin", []byte("login=alice&password=wonderland&remember=99999999999")},
		{"POST", "/login_handler", "Content-Type: application/x-www-form-urlencoded\nSec-Fetch-Site: same-origin", []byte("login=carol&password=carol-pass")},
		{"GET", "/logout_handler", "Sec-Fetch-Site: cross-site", nil},
	}
	// The form's own page first, for its CSRF cookie and token.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/login", nil)
	r.Header.Set("Accept", "text/html")
	handler.ServeHTTP(w, r)
	token := csrfField.FindStringSubmatch(w.Body.String())
	if token == nil {
		chainErr = fmt.Errorf("the form page has no CSRF field:\n%s", w.Body.String())
		return
	}
	post := "login=alice&password=wonderland&_csrf=" + url.QueryEscape(html.UnescapeString(token[1]))
	cookieLine := ""
	for _, c := range w.Result().Cookies() {
		cookieLine = "\nCookie: " + c.Name + "=" + c.Value
	}
	seeds = append(seeds, fuzzRequest{"POST", "/login_handler", "Content-Type: application/x-www-form-urlencoded\nSec-Fetch-Site: same-origin" + cookieLine, []byte(post)})
	r, _ = newRequest("POST", "/login_handler", "Content-Type: application/x-www-form-urlencoded\nSec-Fetch-Site: same-origin"+cookieLine, []byte(post))
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	var cookies []string
	for _, c := range w.Result().Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if len(cookies) > 0 {
		seeds = append(seeds, fuzzRequest{"GET", "/protected/", "Cookie: " + strings.Join(cookies, "; "), nil})
	}
}

// FuzzMiddleware sends random requests (method, target, headers, cookies,
// body) through a chain of every built-in plugin and checks what must hold
// for any input: no panic, a valid status, no CR/LF/NUL in a response
// header, no redirect off the site, no client-chosen Remote-User reaching
// the application, and no user but a known one.
func FuzzMiddleware(f *testing.F) {
	chainOnce.Do(buildChain)
	if chainErr != nil {
		f.Fatal(chainErr)
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.headers, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte) {
		r, ok := newRequest(method, target, headers, body)
		if !ok {
			return
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		res := w.Result()
		if res.StatusCode < 100 || res.StatusCode > 599 {
			t.Fatalf("status %d", res.StatusCode)
		}
		for k, vs := range res.Header {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n\x00") {
					t.Fatalf("response header %q: %q holds CR, LF or NUL", k, v)
				}
			}
		}
		if loc := res.Header.Get("Location"); loc != "" {
			checkLocation(t, loc)
		}
		out := w.Body.String()
		user := ""
		for _, line := range strings.Split(out, "\n") {
			line, protected := strings.CutPrefix(line, "protected ")
			if u, ok := strings.CutPrefix(line, "user="); ok {
				checkUser(t, u, out)
				user = strings.Trim(u, `"`)
				if protected && user == "" {
					t.Fatalf("protected page served anonymously")
				}
			}
			if h, ok := strings.CutPrefix(line, "header "); ok {
				if user == "" || !strings.HasSuffix(h, `=["`+user+`"]`) {
					t.Fatalf("a Remote-User header reached the application that is not the userid %q: %s", user, h)
				}
			}
		}
	})
}

func checkUser(t *testing.T, quoted, out string) {
	u := strings.Trim(quoted, `"`)
	if u != "" && !knownUsers[u] {
		t.Fatalf("authenticated as %q, not a known user:\n%s", u, out)
	}
}

// checkLocation fails when a redirect leaves example.com, the test
// requests' host.
func checkLocation(t *testing.T, loc string) {
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", loc, err)
	}
	if strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) || strings.ContainsAny(loc, "\\\t") {
		t.Fatalf("Location %q may leave the site", loc)
	}
	if u.Host != "" && u.Host != "example.com" {
		t.Fatalf("Location %q leaves the site", loc)
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		t.Fatalf("Location %q has scheme %q", loc, u.Scheme)
	}
}

// newRequest builds the request a net/http server would hand the chain for
// the input, or false when such a server would refuse it before.
func newRequest(method, target, headers string, body []byte) (*http.Request, bool) {
	raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: example.com\r\n", method, target)
	sc := bufio.NewScanner(strings.NewReader(headers))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(strings.ToLower(line), "host:") ||
			strings.HasPrefix(strings.ToLower(line), "content-length:") ||
			strings.HasPrefix(strings.ToLower(line), "transfer-encoding:") {
			continue
		}
		raw += line + "\r\n"
	}
	raw += fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
	r, err := http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(raw), bytes.NewReader(body))))
	if err != nil {
		return nil, false
	}
	if r.URL == nil || (r.URL.Host != "" && r.URL.Host != "example.com") {
		return nil, false
	}
	r.RemoteAddr = net.JoinHostPort("192.0.2.1", "1234")
	return r, true
}

// TestFuzzChainWorks makes sure the fuzzed chain is a working one: its
// logins succeed, so the fuzzer explores authenticated paths too.
func TestFuzzChainWorks(t *testing.T) {
	chainOnce.Do(buildChain)
	if chainErr != nil {
		t.Fatal(chainErr)
	}
	if len(seeds) < 8 {
		t.Fatalf("the form login set no cookie (%d seeds)", len(seeds))
	}
	tests := []struct {
		name string
		req  fuzzRequest
		want string
	}{
		{"basic", seeds[2], `protected user="alice"`},
		{"cookie", seeds[len(seeds)-1], `protected user="alice"`},
		{"anonymous", fuzzRequest{"GET", "/", "", nil}, `user=""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := newRequest(tt.req.method, tt.req.target, tt.req.headers, tt.req.body)
			if !ok {
				t.Fatal("request refused")
			}
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			if !strings.Contains(w.Body.String(), tt.want) {
				t.Fatalf("%d %q, want %q", w.Code, w.Body.String(), tt.want)
			}
		})
	}
}
