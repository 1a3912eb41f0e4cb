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
