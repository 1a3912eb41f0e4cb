package form_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/gowho/gowho/plugins/form"
)

func ExampleSafeRedirect() {
	r := httptest.NewRequest("GET", "http://good.example/login_handler", nil)
	for _, v := range []string{"/protected?x=1", "//evil.example", "https://good.example/a", "https://evil.example/"} {
		fmt.Println(form.SafeRedirect(r, v, nil, "/"))
	}
	// Output:
	// /protected?x=1
	// /
	// https://good.example/a
	// /
}
