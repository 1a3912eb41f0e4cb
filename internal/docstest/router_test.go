package docstest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
)

// The functions below are README.md's Embedding example, word for word
// (TestRouterServeMux checks it): the chain in front of the whole
// ServeMux, who.Require on the private pages.

// routes is the application behind the chain. The chain wraps the whole
// mux, so the login form's own paths (login_form_url, login_handler_path,
// logout_handler_path) reach it; who.Require guards the private pages.
func routes(chain *config.Chain) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello,", who.UserID(r.Context())) // "" when anonymous
	})
	mux.Handle("GET /private", who.Require(nil)(http.HandlerFunc(private)))
	admin := who.Require(func(res *who.Result) bool { return res.UserID == "admin" })
	mux.Handle("/admin/", admin(http.HandlerFunc(private)))
	return chain.Handler(who.WithUserLoader(loadUser)(mux))
}

// User is the application's record of a user.
type User struct {
	ID, Name string
}

// loadUser gives handlers the application's user (in an application, a
// database query); who.User runs it at most once per request, and never
// for an anonymous one.
func loadUser(_ context.Context, res *who.Result) (any, error) {
	return &User{ID: res.UserID, Name: res.UserID}, nil
}

// private is a page for logged-in users only.
func private(w http.ResponseWriter, r *http.Request) {
	u, err := who.UserAs[*User](r.Context())
	if err != nil {
		http.Error(w, "user store unavailable", http.StatusServiceUnavailable)
		return
	}
	if u == nil { // the loader found no such user (or none is installed)
		http.Error(w, "unknown user", http.StatusForbidden)
		return
	}
	fmt.Fprintln(w, "private page of", u.Name)
}

// checkSameAsDoc fails the test unless each named func of this file is
// written identically in a ```go block of the Markdown file.
func checkSameAsDoc(t *testing.T, mdFile string, names ...string) {
	t.Helper()
	blocks, err := Read(filepath.Join(repoRoot, mdFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range blocks {
		blocks[i].File = mdFile
	}
	self, err := os.ReadFile("router_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, doc, err := FindFunc(blocks, name)
		if err != nil {
			t.Fatalf("%s: %v", mdFile, err)
		}
		mine, err := FuncSource(string(self), name)
		if err != nil {
			t.Fatal(err)
		}
		if doc != mine {
			t.Errorf("%s: func %s differs from its copy in router_test.go, which the test runs; make them the same.\nin the doc:\n%s\nin the test:\n%s", b, name, doc, mine)
		}
	}
}

// TestRouterServeMux runs README.md's Embedding example: with the chain
// in front of the whole ServeMux, the form's challenge, its POST /login
// and the private page with the cookie all work.
func TestRouterServeMux(t *testing.T) {
	checkSameAsDoc(t, "README.md", "routes", "loadUser", "private")
	chain := RouterChain(t, repoRoot)
	client, url := CheckLoginFlow(t, routes(chain), "/private", "private page of alice")

	// alice is logged in but is not the admin: Require's predicate refuses her.
	resp, err := client.Get(url + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET /admin/ as alice: %d, want 403", resp.StatusCode)
	}
}

// TestRouterServeMuxSubtree shows why the chain goes on the root: wrapping
// only the private handler leaves POST /login to the mux, a 404.
func TestRouterServeMuxSubtree(t *testing.T) {
	chain := RouterChain(t, repoRoot)
	mux := http.NewServeMux()
	mux.Handle("/private", chain.Handler(who.Require(nil)(http.HandlerFunc(private))))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("POST /login with the chain on /private only: %d, want 404 (if this changed, update README's Embedding section)", rec.Code)
	}
}

// TestPrivateAnswers checks README.md's private page (checkSameAsDoc in
// TestRouterServeMux holds it to the doc) for what a real loader returns:
// a user, no user (nil: a deleted account, no loader installed), or a
// failed store. Before, a nil user was a nil-pointer panic in u.Name.
func TestPrivateAnswers(t *testing.T) {
	tests := []struct {
		name     string
		load     who.UserLoader // nil: no WithUserLoader
		wantCode int
		wantBody string
	}{
		{"a user", loadUser, http.StatusOK, "private page of alice"},
		{"the loader finds no user", func(context.Context, *who.Result) (any, error) { return nil, nil }, http.StatusForbidden, "unknown user"},
		{"no loader installed", nil, http.StatusForbidden, "unknown user"},
		{"the store fails", func(context.Context, *who.Result) (any, error) { return nil, fmt.Errorf("db down") }, http.StatusServiceUnavailable, "user store unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = http.HandlerFunc(private)
			if tt.load != nil {
				h = who.WithUserLoader(tt.load)(h)
			}
			r := httptest.NewRequest("GET", "/private", nil)
			r = r.WithContext(who.NewContext(r.Context(), &who.Result{UserID: "alice"}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("private: %d %q, want %d with %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
		})
	}
}
