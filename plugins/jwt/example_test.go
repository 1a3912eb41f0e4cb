package jwt_test

import (
	"fmt"
	"net/http/httptest"
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
