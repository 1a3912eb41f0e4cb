package form_test

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/plugins/form"
	"github.com/gowho/gowho/who"
)

// ownPageChain is a chain whose form plugin does not serve the form
// (serve_form = false): the application renders /login itself.
func ownPageChain() *who.Middleware {
	tkt, err := authtkt.New(authtkt.Options{Secret: "example-secret-of-thirty-two-bytes!!"})
	if err != nil {
		panic(err)
	}
	serveForm := false
	login, err := form.New(form.Options{LoginFormURL: "/login", ServeForm: &serveForm, Rememberer: tkt})
	if err != nil {
		panic(err)
	}
	chain, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "form", Plugin: login}, {Name: "auth_tkt", Plugin: tkt}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: tkt}},
		Challengers:    []who.Entry{{Name: "form", Plugin: login}},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	return chain
}

// An application's own login page, rendered with html/template, carries
// the form plugin's CSRF field.
func ExampleCSRFField() {
	page := template.Must(template.New("login").Parse(`<form method="post" action="/login_handler">
{{.CSRF}}
<input name="login"> <input type="password" name="password">
</form>`))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Before the page is written: it may set the CSRF cookie.
		data := struct{ CSRF template.HTML }{form.CSRFField(w, r)}
		if err := page.Execute(w, data); err != nil {
			http.Error(w, "the login page failed", http.StatusInternalServerError)
		}
	})

	rec := httptest.NewRecorder()
	ownPageChain().Wrap(app).ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	// The token differs for every browser; the cookie it belongs to is set.
	fmt.Println(regexp.MustCompile(`value="[^"]+"`).ReplaceAllString(rec.Body.String(), `value="TOKEN"`))
	fmt.Println(rec.Result().Cookies()[0].Name)
	// Output:
	// <form method="post" action="/login_handler">
	// <input type="hidden" name="_csrf" value="TOKEN">
	// <input name="login"> <input type="password" name="password">
	// </form>
	// who_csrf
}

// A page built without html/template (a script posting the login, say)
// takes the bare token, the value of the form's "_csrf" field.
func ExampleCSRFToken() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := form.CSRFToken(w, r)
		fmt.Fprintf(w, "%s is %d characters", form.FieldCSRF, len(token))
	})
	rec := httptest.NewRecorder()
	ownPageChain().Wrap(app).ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	fmt.Println(rec.Body.String())
	// Output:
	// _csrf is 43 characters
}
