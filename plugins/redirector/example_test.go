package redirector_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gowho/gowho/plugins/redirector"
)

func ExamplePlugin_Location() {
	p, _ := redirector.New(redirector.Options{LoginURL: "/login"})
	r := httptest.NewRequest("GET", "http://example.com/protected", nil)
	fmt.Println(p.Location(r, http.Header{"X-Authorization-Failure-Reason": {"login required"}}))
	// Output: /login?reason=login+required&came_from=http%3A%2F%2Fexample.com%2Fprotected
}
