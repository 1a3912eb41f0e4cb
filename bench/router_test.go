package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/docstest"
	"github.com/gowho/gowho/who"
)

// chiRoutes is docs/concepts.md's chi example, word for word (the ```go
// bench block there; internal/docstest checks that they are the same).

// chiRoutes is README.md's routes with chi. The chain goes on the root
// router, where r.Use runs for every request (the form's /login included)
// before chi looks for a route; who.Require goes on the groups of pages
// that need a user.
func chiRoutes(chain *config.Chain) http.Handler {
	r := chi.NewRouter()
	r.Use(chain.Handler)
	r.Use(who.WithUserLoader(loadUser))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello,", who.UserID(r.Context())) // "" when anonymous
	})
	r.Group(func(r chi.Router) {
		r.Use(who.Require(nil))
		r.Get("/private", private)
	})
	return r
}

// User, loadUser and private are README.md's.

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

// TestRouterChi runs docs/concepts.md's chi example: with the chain on
// the root router, the form's challenge, its POST /login and the private
// group with the cookie all work.
func TestRouterChi(t *testing.T) {
	checkSameAsDoc(t, "../README.md", "loadUser", "private")
	checkSameAsDoc(t, "../docs/concepts.md", "chiRoutes")
	chain := docstest.RouterChain(t, "..")
	docstest.CheckLoginFlow(t, chiRoutes(chain), "/private", "private page of alice")
}

// TestRouterChiGroup shows why the chain goes on the root router: used on
// a group, it wraps only the group's routes, and POST /login is chi's 404.
func TestRouterChiGroup(t *testing.T) {
	chain := docstest.RouterChain(t, "..")
	r := chi.NewRouter()
	r.Group(func(r chi.Router) {
		r.Use(chain.Handler)
		r.Use(who.Require(nil))
		r.Get("/private", private)
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("POST /login with the chain on a group: %d, want chi's 404 (if this changed, update docs/concepts.md)", rec.Code)
	}
}

// checkSameAsDoc fails the test unless each named func of this file is
// written identically in a ```go block of the Markdown file.
func checkSameAsDoc(t *testing.T, mdFile string, names ...string) {
	t.Helper()
	blocks, err := docstest.Read(mdFile)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("router_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, doc, err := docstest.FindFunc(blocks, name)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(mdFile), err)
		}
		mine, err := docstest.FuncSource(string(self), name)
		if err != nil {
			t.Fatal(err)
		}
		if doc != mine {
			t.Errorf("%s: func %s differs from its copy in bench/router_test.go, which the test runs; make them the same.\nin the doc:\n%s\nin the test:\n%s", b, name, doc, mine)
		}
	}
}
