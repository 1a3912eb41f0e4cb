package oidc_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"

	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/plugins/oidc"
	"github.com/gowho/gowho/who"
)

// provider serves a discovery document only: enough for a challenge.
func provider() *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"issuer":                 srv.URL,
			"authorization_endpoint": srv.URL + "/authorize",
			"token_endpoint":         srv.URL + "/token",
			"jwks_uri":               srv.URL + "/keys",
		})
	}))
	return srv
}

// A chain that logs in with one provider and keeps the login in an
// auth_tkt ticket: a protected page redirects to the provider's
// authorization endpoint with PKCE, a state and a nonce.
func Example() {
	idp := provider()
	defer idp.Close()

	tkt, err := authtkt.New(authtkt.Options{Secret: "example-secret-of-thirty-two-bytes!!"})
	if err != nil {
		panic(err)
	}
	login, err := oidc.New(oidc.Options{Issuer: idp.URL, ClientID: "gowho", ClientSecret: "s3cret", Rememberer: tkt})
	if err != nil {
		panic(err)
	}
	chain, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "oidc", Plugin: login}, {Name: "auth_tkt", Plugin: tkt}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: tkt}, {Name: "oidc", Plugin: login}},
		Challengers:    []who.Entry{{Name: "oidc", Plugin: login}},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	app := chain.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who.UserID(r.Context()) == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "http://site.example/protected", nil))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Println(rec.Code, strings.TrimPrefix(loc.String()[:strings.Index(loc.String(), "?")], idp.URL))
	q := loc.Query()
	fmt.Println(slices.Sorted(maps.Keys(q)))
	fmt.Println(q.Get("code_challenge_method"), q.Get("redirect_uri"))
	fmt.Println(strings.HasPrefix(rec.Header().Get("Set-Cookie"), oidc.DefaultCookiePrefix+q.Get("state")+"="))
	// Output:
	// 302 /authorize
	// [client_id code_challenge code_challenge_method nonce redirect_uri response_type scope state]
	// S256 http://site.example/oidc/callback
	// true
}

// Two providers, and a page to choose between them: an application that
// shows its own "log in with" page serves oidc.Chooser.
func ExampleChooser() {
	corp, _ := oidc.New(oidc.Options{Issuer: "https://login.corp.example", ClientID: "gowho", RemembererName: "auth_tkt", Label: "Corp"})
	social, _ := oidc.New(oidc.Options{Issuer: "https://accounts.social.example", ClientID: "gowho", RemembererName: "auth_tkt",
		CallbackPath: "/oidc/social/callback", LoginPath: "/oidc/social/login", LogoutPath: "/oidc/social/logout"})

	rec := httptest.NewRecorder()
	oidc.Chooser("/reports?y=2026", corp, social).ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "<li>") {
			fmt.Print(line)
		}
	}
	// Output:
	// <li><a class="provider" id="provider-0" href="/oidc/login?came_from=%2Freports%3Fy%3D2026">Corp</a></li>
	// <li><a class="provider" id="provider-1" href="/oidc/social/login?came_from=%2Freports%3Fy%3D2026">accounts.social.example</a></li>
}
