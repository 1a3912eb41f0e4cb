package session_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
)

func Example() {
	m, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		panic(err)
	}
	app := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r)
		if r.URL.Path == "/add" {
			_ = s.Set("cart", []string{"sku-1"})
			_ = s.Flash("info", "added")
			http.Redirect(w, r, "/", http.StatusSeeOther) // saved before the redirect leaves
			return
		}
		fmt.Fprintln(w, s.Get("cart"), s.Flashes())
	}))

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/add", nil))
	cookie := rec.Result().Cookies()[0]
	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(cookie)
		rec = httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		fmt.Print(rec.Body)
	}
	// Output:
	// [sku-1] [{info added}]
	// [sku-1] []
}

func ExampleFrom_noMiddleware() {
	s := session.From(httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(s.Set("k", "v"))
	// Output: session: the request did not go through the session middleware
}

// A plugin keeps its tokens and claims under one key; a later request
// reads the claims alone, without decoding the tokens.
func ExampleSession_LookupIn() {
	m, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		panic(err)
	}
	app := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r)
		if r.URL.Path == "/login" {
			_ = s.Set("oidc", map[string]any{
				"id_token": "eyJ...a long token...",
				"claims":   map[string]any{"email": "alice@example.org"},
			})
			return
		}
		v, _ := s.LookupIn("oidc", "claims")
		claims, _ := v.(map[string]any)
		email, _ := claims["email"].(string)
		_, has := s.LookupIn("oidc", "refresh_token")
		fmt.Println(email, has)
	}))

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	app.ServeHTTP(httptest.NewRecorder(), req)
	// Output: alice@example.org false
}
