package sessionid_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/testserver"
	_ "github.com/gowho/gowho/plugins/basicauth"
	_ "github.com/gowho/gowho/plugins/htpasswd"
	_ "github.com/gowho/gowho/plugins/redirector"
	"github.com/gowho/gowho/who"
)

// TestExamples loads examples/sessions*.toml and logs in through them
// (alice / wonderland from examples/passwd).
func TestExamples(t *testing.T) {
	env := map[string]string{"WHO_SESSION_SECRET": strings.Repeat("s", 40)}
	tests := []struct {
		file    string
		rewrite func(t *testing.T, src string) string
	}{
		{"sessions.toml", nil},
		{"sessions-memcached.toml", func(t *testing.T, src string) string {
			return strings.Replace(src, "127.0.0.1:11211", testserver.Memcached(t).Addr, 1)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := "../../examples/" + tc.file
			src, err := readFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.rewrite != nil {
				src = tc.rewrite(t, src)
			}
			c, err := config.Parse(path, []byte(src), config.Options{LookupEnv: func(k string) (string, bool) {
				v, ok := env[k]
				return v, ok
			}})
			if err != nil {
				t.Fatalf("load %s: %v", tc.file, err)
			}
			defer c.Close()
			mux := http.NewServeMux()
			mux.HandleFunc("GET /protected", func(w http.ResponseWriter, r *http.Request) {
				if who.UserID(r.Context()) == "" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				fmt.Fprint(w, "protected: ", who.UserID(r.Context()))
			})
			mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "login form") })
			mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
				res, h := who.APIFrom(r).Login(who.Identity{who.KeyLogin: r.FormValue("login"), who.KeyPassword: r.FormValue("password")}, "")
				for k, vs := range h {
					w.Header()[k] = append(w.Header()[k], vs...)
				}
				if res == nil {
					http.Error(w, "bad login", http.StatusForbidden)
					return
				}
				http.Redirect(w, r, "/protected", http.StatusFound)
			})
			srv := httptest.NewServer(c.Handler(mux))
			defer srv.Close()
			jar, _ := cookiejar.New(nil)
			cl := &http.Client{Jar: jar}
			resp, err := cl.Get(srv.URL + "/protected")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "login form" {
				t.Fatalf("anonymous /protected: %q; want the redirect to the login form", b)
			}
			resp, err = cl.PostForm(srv.URL+"/login", url.Values{"login": {"alice"}, "password": {"wonderland"}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "protected: alice" {
				t.Fatalf("after login: %q", b)
			}
		})
	}
}

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
