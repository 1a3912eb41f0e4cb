package gateway_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/gateway"
	_ "github.com/gowho/gowho/plugins/all"
)

// A forward-auth gateway from a who.toml, asked as nginx asks: a public
// path is allowed anonymously, another one gets the 401 that nginx's
// `error_page 401` turns into the login page, and alice gets through with
// her identity.
func Example() {
	const file = `
[general]
trusted_proxies = ["192.0.2.10"]   # the nginx in front

[gateway]
[[gateway.rule]]
path = "/public"
access = "public"

[plugin.basicauth]
use = "basicauth"
[plugin.htpasswd]
use = "htpasswd"
filename = "testdata/passwd"
[identifiers]
plugins = ["basicauth"]
[authenticators]
plugins = ["htpasswd"]
[challengers]
plugins = ["basicauth"]
`
	chain, err := config.Parse("who.toml", []byte(file), config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer chain.Close()
	g, err := gateway.FromChain(chain, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ask := func(uri, auth string) {
		req := httptest.NewRequest("GET", "/_who/auth", nil)
		req.RemoteAddr = "192.0.2.10:41000"
		req.Header.Set("X-Original-URI", uri)
		req.Header.Set("X-Remote-User", "mallory") // a client's: stripped
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		fmt.Printf("%s: %d %q\n", uri, rec.Code, rec.Header().Get("X-Remote-User"))
	}
	ask("/public/index.html", "")
	ask("/reports", "")
	ask("/reports", "Basic YWxpY2U6d29uZGVybGFuZA==") // alice:wonderland
	// Output:
	// /public/index.html: 200 ""
	// /reports: 401 ""
	// /reports: 200 "alice"
}
