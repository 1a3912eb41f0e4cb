package htpasswd_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gowho/gowho/plugins/htpasswd"
	"github.com/gowho/gowho/who"
)

func Example() {
	dir, _ := os.MkdirTemp("", "htpasswd-example")
	defer os.RemoveAll(dir)
	hash, err := htpasswd.Hash(htpasswd.SchemeAPR1, "s3cret")
	if err != nil {
		panic(err)
	}
	file := filepath.Join(dir, "users.htpasswd")
	if err := os.WriteFile(file, []byte("alice:"+hash+"\n"), 0o600); err != nil {
		panic(err)
	}

	p, err := htpasswd.New(htpasswd.Options{Filename: file})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	for _, pw := range []string{"s3cret", "guess"} {
		uid, _ := p.Authenticate(r, who.Identity{who.KeyLogin: "alice", who.KeyPassword: pw})
		fmt.Printf("%s: %q\n", pw, uid)
	}
	// Output:
	// s3cret: "alice"
	// guess: ""
}

func ExampleVerify() {
	// A line written by `htpasswd -nbm alice alicepw`.
	ok, err := htpasswd.Verify("$apr1$fP.HTOpU$VMcL7jXbIgGuAmrlNRW4y.", "alicepw")
	fmt.Println(ok, err)
	fmt.Println(htpasswd.SchemeOf("{SHA}pXcenXUnxGz6jD4dFmSXV63E49g="))
	// Output:
	// true <nil>
	// sha
}
