package who_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

// foldedValues returns every value of every header in h whose name folds
// to name, by exact key.
func foldedValues(h http.Header, name string) map[string][]string {
	out := map[string][]string{}
	for k, vs := range h {
		if who.HeaderNamesMatch(k, name) {
			out[k] = vs
		}
	}
	return out
}

// forgedSpellings are the ways a client spells the header a CGI or WSGI
// application reads as HTTP_REMOTE_USER.
var forgedSpellings = []string{"Remote_User", "remote_user", "REMOTE_USER", "REMOTE-USER", "Remote-User", "remote-user"}

func TestRemoteUserKeyRemovesEverySpelling(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		RemoteUserKey:  "Remote-User",
		Identifiers:    entries("i", cookieID()),
		Authenticators: entries("a", acceptLogin("")),
	})
	for _, login := range []string{"", "bob"} {
		for _, spelling := range forgedSpellings {
			t.Run(spelling+"/"+login, func(t *testing.T) {
				req := get("/")
				req.Header[spelling] = []string{"admin"} // as sent, not canonicalised
				if login != "" {
					req.Header.Set("X-Login", login)
				}
				var got map[string][]string
				do(m, func(w http.ResponseWriter, r *http.Request) { got = foldedValues(r.Header, "remote-user") }, req)
				want := map[string][]string{}
				if login != "" {
					want["Remote-User"] = []string{login}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("headers the handler saw (-want +got):\n%s", diff)
				}
				if req.Header[spelling][0] != "admin" {
					t.Error("the caller's request headers were changed")
				}
			})
		}
	}
}

// TestIdentityHeaderOnEveryPath: a trusted header and an outer chain also
// authenticate the request; the remote_user_key rule holds on those paths
// too (before, they passed a client's Remote_User through untouched).
func TestIdentityHeaderOnEveryPath(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		TrustedUserHeader: "X-Remote-User",
		RemoteUserKey:     "Remote-User",
		Identifiers:       entries("i", cookieID()),
		Authenticators:    entries("a", acceptLogin("")),
	})
	var got map[string][]string
	h := func(w http.ResponseWriter, r *http.Request) { got = foldedValues(r.Header, "remote-user") }
	req := get("/", "X-Remote-User", "proxyuser")
	req.Header["Remote_User"] = []string{"admin"}
	do(m, h, req)
	if diff := cmp.Diff(map[string][]string{"Remote-User": {"proxyuser"}}, got); diff != "" {
		t.Errorf("trusted header path (-want +got):\n%s", diff)
	}

	outer := mustNew(t, who.Config{Identifiers: entries("i", cookieID()), Authenticators: entries("a", acceptLogin(""))})
	inner := mustNew(t, who.Config{RemoteUserKey: "Remote-User"})
	req = get("/", "X-Login", "bob")
	req.Header["Remote_User"] = []string{"admin"}
	outer.Wrap(inner.Wrap(http.HandlerFunc(h))).ServeHTTP(httptest.NewRecorder(), req)
	if diff := cmp.Diff(map[string][]string{"Remote-User": {"bob"}}, got); diff != "" {
		t.Errorf("outer chain path (-want +got):\n%s", diff)
	}
}

// TestTrustedUserHeaderOnlyExactSpelling: only the configured spelling,
// alone and once, is trusted; otherwise the header counts as absent, every
// spelling is removed and a warning is logged.
func TestTrustedUserHeaderOnlyExactSpelling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		headers  map[string][]string
		wantUser string
		wantSeen map[string][]string // spellings the handler sees
		wantLog  bool
	}{
		{"exact spelling", map[string][]string{"X-Remote-User": {"proxyuser"}},
			"proxyuser", map[string][]string{"X-Remote-User": {"proxyuser"}}, false},
		{"exact and underscore", map[string][]string{"X-Remote-User": {"proxyuser"}, "X_Remote_User": {"admin"}},
			"", map[string][]string{}, true},
		{"underscore only", map[string][]string{"X_remote_user": {"admin"}},
			"", map[string][]string{}, true},
		{"repeated", map[string][]string{"X-Remote-User": {"proxyuser", "admin"}},
			"", map[string][]string{}, true},
		{"repeated in another case", map[string][]string{"X-Remote-User": {"proxyuser"}, "x-remote-user": {"admin"}},
			"", map[string][]string{}, true},
		{"another case is the same spelling", map[string][]string{"x-remote-USER": {"proxyuser"}},
			"proxyuser", map[string][]string{"x-remote-USER": {"proxyuser"}}, false},
		{"ambiguous, the chain still runs", map[string][]string{"X-Remote-User": {"proxyuser"}, "X_Remote_User": {"admin"}, "X-Login": {"bob"}},
			"bob", map[string][]string{}, true},
		{"absent", map[string][]string{"X-Login": {"bob"}}, "bob", map[string][]string{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log, buf := logBuffer()
			m := mustNew(t, who.Config{
				Logger:            log,
				TrustedUserHeader: "X-Remote-User",
				Identifiers:       entries("i", cookieID()),
				Authenticators:    entries("a", acceptLogin("")),
			})
			req := get("/")
			for k, vs := range tc.headers {
				req.Header[k] = vs
			}
			var uid string
			var seen map[string][]string
			do(m, func(w http.ResponseWriter, r *http.Request) {
				uid, seen = who.UserID(r.Context()), foldedValues(r.Header, "x-remote-user")
			}, req)
			if uid != tc.wantUser {
				t.Errorf("user %q, want %q", uid, tc.wantUser)
			}
			if diff := cmp.Diff(tc.wantSeen, seen); diff != "" {
				t.Errorf("trusted header spellings the handler saw (-want +got):\n%s", diff)
			}
			logged := strings.Contains(buf.String(), "trusted user header ignored")
			if logged != tc.wantLog {
				t.Errorf("logged %v, want %v:\n%s", logged, tc.wantLog, buf)
			}
			if strings.Contains(buf.String(), "admin") {
				t.Errorf("the log shows a header value:\n%s", buf)
			}
			for k, vs := range tc.headers {
				if got := req.Header[k]; !slices.Equal(got, vs) {
					t.Errorf("the caller's request header %q is %q, want %q unchanged", k, got, vs)
				}
			}
		})
	}
}

// checkRemoteUserBackend sends forged Remote-User spellings through the
// middleware (remote_user_key = "Remote-User") to backend, a handler that
// answers "set:VALUE" with the backend's HTTP_REMOTE_USER or "unset", over
// real HTTP: the backend must see only the authenticated userid.
func checkRemoteUserBackend(t *testing.T, backend http.Handler) {
	t.Helper()
	m := mustNew(t, who.Config{
		RemoteUserKey:  "Remote-User",
		Identifiers:    entries("i", cookieID()),
		Authenticators: entries("a", acceptLogin("")),
	})
	front := httptest.NewServer(m.Wrap(backend))
	t.Cleanup(front.Close)
	client := front.Client()
	client.Timeout = 30 * time.Second // a hung CGI or WSGI backend fails the test, not the whole run
	for _, login := range []string{"", "bob"} {
		for _, spelling := range forgedSpellings {
			t.Run(spelling+"/"+login, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, front.URL+"/", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header[spelling] = []string{"admin"} // written as spelled
				if login != "" {
					req.Header.Set("X-Login", login)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := "unset"
				if login != "" {
					want = "set:" + login
				}
				if resp.StatusCode != 200 || string(body) != want {
					t.Errorf("backend answered %d %q, want %q", resp.StatusCode, body, want)
				}
			})
		}
	}
}

// requireBinary skips the test when the program at path is missing, or
// fails it when GOWHO_REQUIRE_SERVERS=1 (testserver.Missing).
func requireBinary(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		testserver.Missing(t, "%s not installed: %v", path, err)
	}
}

// TestRemoteUserKeyThroughCGI: net/http/cgi runs testdata/remote_user.cgi,
// a /bin/sh script; it reads every spelling as HTTP_REMOTE_USER.
func TestRemoteUserKeyThroughCGI(t *testing.T) {
	const sh = "/bin/sh"
	requireBinary(t, sh)
	script, err := filepath.Abs("testdata/remote_user.cgi")
	if err != nil {
		t.Fatal(err)
	}
	checkRemoteUserBackend(t, &cgi.Handler{Path: sh, Args: []string{script}})
}

// TestRemoteUserKeyThroughWSGI: a Python wsgiref application behind
// httputil.ReverseProxy behind the middleware.
func TestRemoteUserKeyThroughWSGI(t *testing.T) {
	const python = "/usr/bin/python3"
	requireBinary(t, python)
	cmd := exec.Command(python, "testdata/remote_user_app.py")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the WSGI app: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(60 * time.Second):
		t.Fatal("the WSGI app did not print its port within 60s")
	}
	if p == "" || strings.Trim(p, "0123456789") != "" {
		t.Fatalf("the WSGI app printed %q, not a port", p)
	}
	u, err := url.Parse("http://127.0.0.1:" + p)
	if err != nil {
		t.Fatal(err)
	}
	checkRemoteUserBackend(t, httputil.NewSingleHostReverseProxy(u))
}
