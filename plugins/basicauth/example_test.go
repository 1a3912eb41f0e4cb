package basicauth_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/gowho/gowho/plugins/basicauth"
)

func Example() {
	p, err := basicauth.New(basicauth.Options{Realm: "My app"})
	if err != nil {
		panic(err)
	}

	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("alice", "s3cr:t")
	id, _ := p.Identify(r)
	fmt.Println(id.Str("login"), id.Str("password"))

	w := httptest.NewRecorder()
	p.Challenge(r, 401, nil, nil).ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// alice s3cr:t
	// 401 Basic realm="My app"
}

func ExampleParse() {
	login, password, ok := basicauth.Parse("Basic Ym9iOmh1bnRlcjI=")
	fmt.Println(login, password, ok)
	_, _, ok = basicauth.Parse("Bearer abc")
	fmt.Println(ok)
	// Output:
	// bob hunter2 true
	// false
}
