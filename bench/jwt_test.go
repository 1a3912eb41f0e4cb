package bench

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/gowho/gowho/plugins/jwt"
	"github.com/gowho/gowho/who"
)

// jwtChain is who.New with the jwt plugin as identifier and authenticator,
// its keys from a JWKS on loopback (fetched once, then cached), and a
// bearer request signed with alg. cacheSize -1 verifies the signature on
// every request.
func jwtChain(b *testing.B, alg jose.SignatureAlgorithm, cacheSize int) (http.Handler, *http.Request) {
	var priv, pubKey any
	switch alg {
	case jose.RS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		priv, pubKey = k, &k.PublicKey
	case jose.EdDSA:
		pk, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		priv, pubKey = k, pk
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pubKey, KeyID: "k1", Algorithm: string(alg), Use: "sig"}}})
	}))
	b.Cleanup(jwks.Close)
	p, err := jwt.New(jwt.Options{JWKSURL: jwks.URL, Issuer: "https://issuer.test", Audience: []string{"api"}, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "jwt", Plugin: p}},
		Authenticators: []who.Entry{{Name: "jwt", Plugin: p}},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who.UserID(r.Context()) != "alice" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "hello")
	}))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: "k1"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := josejwt.Signed(s).Claims(map[string]any{
		"iss": "https://issuer.test", "aud": "api", "sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}).Serialize()
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return h, r
}

// serveRequest is serve with a request of one's own.
func serveRequest(b *testing.B, h http.Handler, base *http.Request) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, base.WithContext(b.Context()))
	if rec.Code != http.StatusOK {
		b.Fatalf("not logged in: %d", rec.Code)
	}
	w := &discardWriter{h: http.Header{}}
	ctx := base.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, base.WithContext(ctx))
	}
}

// BenchmarkJWT compares a bearer-token request through the jwt plugin
// (RS256 and EdDSA, keys cached; with the verified-token cache, the
// default, and without it, a signature check per request) with an
// auth_tkt request (issue 15 item 5: goal at most 3x auth_tkt).
//
//	cd bench && go test -run=^$ -bench='JWT|AuthTkt$' -benchmem -count=6 | tee /tmp/jwt.txt && benchstat /tmp/jwt.txt
func BenchmarkJWT(b *testing.B) {
	b.Run("impl=authtkt", func(b *testing.B) {
		h, c := tktChain(b)
		serve(b, h, c)
	})
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.EdDSA} {
		b.Run("impl=jwt-"+string(alg)+"-cached", func(b *testing.B) {
			h, r := jwtChain(b, alg, 0)
			serveRequest(b, h, r)
		})
		b.Run("impl=jwt-"+string(alg)+"-verify", func(b *testing.B) {
			h, r := jwtChain(b, alg, -1)
			serveRequest(b, h, r)
		})
	}
}
