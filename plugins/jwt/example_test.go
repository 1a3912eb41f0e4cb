package jwt_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/gowho/gowho/plugins/jwt"
)

func Example() {
	secret := "an HMAC secret of at least 32 bytes!"
	p, err := jwt.New(jwt.Options{HMACSecret: secret, Audience: []string{"api"}, Claims: []string{"email"}})
	if err != nil {
		panic(err)
	}

	// A token as an issuer sharing the secret would sign it.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}, nil)
	tok, _ := josejwt.Signed(signer).Claims(map[string]any{
		"sub": "alice", "aud": "api", "email": "alice@example.com",
		"exp": time.Now().Add(time.Hour).Unix(),
	}).Serialize()

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	id, _ := p.Identify(r)
	uid, err := p.Authenticate(r, id)
	fmt.Println(uid, id.Str("email"), err)
	// Output:
	// alice alice@example.com <nil>
}

// Check (a who.Checker, which `who check` calls) says whether the key set
// can be fetched now: here a JWKS URL where nothing listens.
func ExamplePlugin_Check() {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	jwks := "http://" + l.Addr().String() + "/keys"
	l.Close() // nothing listens there any more
	p, err := jwt.New(jwt.Options{JWKSURL: jwks, Audience: []string{"api"}})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = p.Check(ctx)
	fmt.Println(strings.HasPrefix(err.Error(), "jwt: key set "+jwks+":"))

	// A key set that answers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)
	}))
	defer srv.Close()
	p, _ = jwt.New(jwt.Options{JWKSURL: srv.URL + "/keys", Audience: []string{"api"}})
	fmt.Println(p.Check(ctx))
	// Output:
	// true
	// <nil>
}
