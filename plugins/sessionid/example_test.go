package sessionid_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gowho/gowho/plugins/sessionid"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
)

func Example() {
	m, _ := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	sid, _ := sessionid.New(sessionid.Options{Manager: m, DeleteOnLogout: true})
	mw, _ := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "sessionid", Plugin: sid}},
		Authenticators: []who.Entry{{Name: "sessionid", Plugin: sid}, {Name: "pw", Plugin: testAuth{}}},
	})
	app := m.Wrap(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			who.APIFrom(r).Login(who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice"}, "sessionid")
		}
		fmt.Fprintln(w, "user:", who.UserID(r.Context()))
	})))

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	fmt.Print(rec.Body)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	rec = httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	fmt.Print(rec.Body)
	// Output:
	// user: alice
	// user: alice
}
