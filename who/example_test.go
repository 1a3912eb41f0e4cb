package who_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gowho/gowho/who"
)

// headerID identifies requests by an X-User header (a stand-in for a real
// identifier such as basicauth).
type headerID struct{}

func (headerID) Identify(r *http.Request) (who.Identity, error) {
	if u := r.Header.Get("X-User"); u != "" {
		return who.Identity{who.KeyLogin: u}, nil
	}
	return nil, nil
}

// allowList authenticates the logins it knows.
type allowList map[string]bool

func (a allowList) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	if l := id.Str(who.KeyLogin); a[l] {
		return l, nil
	}
	return "", nil
}

// basicChallenge answers challenges with a Basic 401.
type basicChallenge struct{}

func (basicChallenge) Challenge(_ *http.Request, status int, _, _ http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="example"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

func Example() {
	chain, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "header", Plugin: headerID{}}},
		Authenticators: []who.Entry{{Name: "allow", Plugin: allowList{"alice": true}}},
		Challengers:    []who.Entry{{Name: "basic", Plugin: basicChallenge{}}},
	})
	if err != nil {
		panic(err)
	}
	app := chain.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := who.UserID(r.Context())
		if user == "" {
			w.WriteHeader(http.StatusUnauthorized) // the chain challenges
			return
		}
		fmt.Fprintf(w, "hello, %s", user)
	}))

	for _, u := range []string{"alice", "mallory"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-User", u)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		fmt.Println(u, rec.Code, rec.Header().Get("WWW-Authenticate"), string(body))
	}
	// Output:
	// alice 200  hello, alice
	// mallory 401 Basic realm="example"
}

func ExampleAPI_Login() {
	chain, _ := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "header", Plugin: headerID{}}},
		Authenticators: []who.Entry{{Name: "allow", Plugin: allowList{"alice": true}}},
	})
	login := chain.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, headers := who.APIFrom(r).Login(who.Identity{who.KeyLogin: r.FormValue("login")}, "")
		for k, vs := range headers {
			w.Header()[k] = append(w.Header()[k], vs...)
		}
		if res == nil {
			fmt.Fprint(w, "bad login")
			return
		}
		fmt.Fprintf(w, "welcome, %s (now %q)", res.UserID, who.UserID(r.Context()))
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("POST", "/login?login=alice", nil))
	fmt.Println(rec.Body)
	// Output: welcome, alice (now "alice")
}

func ExampleResultFrom() {
	chain, _ := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "header", Plugin: headerID{}}},
		Authenticators: []who.Entry{{Name: "allow", Plugin: allowList{"alice": true}}},
	})
	h := chain.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := who.ResultFrom(r.Context())
		fmt.Printf("%s found by %s, checked by %s\n", res.UserID, res.Identifier, res.Authenticator)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-User", "alice")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output: alice found by header, checked by allow
}

// ExampleNewContext tests a handler without a chain: the context carries
// the result a chain would have found.
func ExampleNewContext() {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", who.UserID(r.Context()))
	})
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(who.NewContext(r.Context(), &who.Result{UserID: "alice"}))
	rec := httptest.NewRecorder()
	who.Require(nil)(hello).ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 hello, alice
}
