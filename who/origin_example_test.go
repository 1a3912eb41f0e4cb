package who_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/gowho/gowho/who"
)

// A TLS-terminating proxy on the same machine forwards a request: its
// headers are believed because 127.0.0.1 is listed; the same headers from
// anyone else are ignored.
func ExampleTrustedProxies_Resolve() {
	tp, err := who.ParseTrustedProxies([]string{"127.0.0.1/32", "::1/128"})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/account", nil)
	r.Host = "127.0.0.1:8080"
	r.Header.Set("Forwarded", `for="[2001:db8::17]:4711";proto=https;host=app.example`)

	r.RemoteAddr = "127.0.0.1:50000"
	o := tp.Resolve(r)
	fmt.Println(o.Scheme, o.Host, o.Client, o.Proxied)

	r.RemoteAddr = "192.0.2.1:50000"
	o = tp.Resolve(r)
	fmt.Println(o.Scheme, o.Host, o.Client, o.Proxied)
	// Output:
	// https app.example 2001:db8::17 true
	// http 127.0.0.1:8080 192.0.2.1 false
}
