package config_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/plugins/all" // registers every built-in plugin
	"github.com/gowho/gowho/who"
)

func Example() {
	lookup := func(name string) (string, bool) {
		if name == "WHO_REALM" {
			return "demo", true
		}
		return os.LookupEnv(name)
	}
	chain, err := config.Load("testdata/who.toml", config.Options{
		LookupEnv: lookup,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err) // every mistake, one per line: file:line: [section]: message
		return
	}
	defer chain.Close()

	app := chain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who.UserID(r.Context()) == "" {
			w.WriteHeader(http.StatusUnauthorized) // the default decider: a challenge
			return
		}
		fmt.Fprintf(w, "hello %s", who.UserID(r.Context()))
	}))

	rw := httptest.NewRecorder()
	app.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(rw.Code, rw.Header().Get("WWW-Authenticate"))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth("alice", "alice-pass")
	rw = httptest.NewRecorder()
	app.ServeHTTP(rw, req)
	fmt.Println(rw.Code, rw.Body.String())
	// Output:
	// 401 Basic realm="demo"
	// 200 hello alice
}

func ExampleParse_errors() {
	_, err := config.Parse("who.toml", []byte(`
[plugin.basicauth]
use = "basicauth"
reaml = "demo"

[identifiers]
plugins = ["basicuath"]
`), config.Options{})
	fmt.Println(err)
	// Output:
	// who.toml:4: [plugin.basicauth] (use = "basicauth"): unknown key "reaml" (did you mean "realm"?)
	// who.toml:7: [identifiers]: unknown plugin "basicuath" (did you mean "basicauth"?)
}

// Stages and Plugins tell what the file built, as `who check` prints it.
func ExampleChain_Stages() {
	chain, err := config.Parse("who.toml", []byte(`
[plugin.basicauth]
use = "basicauth"
[identifiers]
plugins = ["basicauth;browser"]
[challengers]
plugins = ["basicauth"]
`), config.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer chain.Close()
	for _, s := range chain.Stages() {
		for _, e := range s.Entries {
			fmt.Printf("%s: %s (use = %q) %v, line %d\n", s.Name, e.Name, e.Use, e.Classifications, e.Line)
		}
	}
	// Output:
	// identifiers: basicauth (use = "basicauth") [browser], line 5
	// challengers: basicauth (use = "basicauth") [], line 7
}
