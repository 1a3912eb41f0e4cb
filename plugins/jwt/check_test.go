package jwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gowho/gowho/who"
)

// TestCheck: Check reaches the key set (through discovery when only the
// issuer is set) and the introspection endpoint, and names the URL of a
// source that is down, answers badly or answers a made-up token active;
// with static keys it has nothing to reach. A key set Check fetched
// serves the next token without a fetch.
func TestCheck(t *testing.T) {
	t.Parallel()
	prov := stdProvider(t)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	intro, _ := introspectionServer(t, map[string]map[string]any{})
	yes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"active":true,"sub":"anyone","aud":"api"}`))
	}))
	t.Cleanup(yes.Close)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	pemKeys := func() string { testKeys(); return pemFile(t, &rsaKey.PublicKey) }

	tests := []struct {
		name string
		o    Options
		want string // "": no error
	}{
		{"jwks up", Options{JWKSURL: prov.srv.URL + "/keys"}, ""},
		{"discovery up", Options{Issuer: prov.srv.URL}, ""},
		{"jwks down", Options{JWKSURL: downURL + "/keys"}, "jwt: key set " + downURL + "/keys: "},
		{"discovery down", Options{Issuer: downURL}, "jwt: discovery " + downURL + "/.well-known/openid-configuration: "},
		{"jwks 404", Options{JWKSURL: notFound.URL + "/keys"}, "status 404"},
		{"static keys", Options{PublicKeyFile: pemKeys()}, ""},
		{"hmac", Options{HMACSecret: hmacSecret}, ""},
		{"introspection up", Options{IntrospectionURL: intro.URL, ClientID: "rs", ClientSecret: "s&cret"}, ""},
		{"introspection wrong client", Options{IntrospectionURL: intro.URL, ClientID: "rs", ClientSecret: "wrong-secret"}, "status 401"},
		{"introspection says yes to anything", Options{IntrospectionURL: yes.URL}, "a made-up token was answered active"},
		{"introspection down", Options{IntrospectionURL: downURL}, "jwt: introspection " + downURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.o.Audience, tc.o.InsecureHTTP, tc.o.Timeout = []string{testAud}, true, who.Duration(2*time.Second)
			p, err := New(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = p.Check(ctx)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check: %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Check: %v, want an error with %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "s&cret") || strings.Contains(err.Error(), "wrong-secret")) {
				t.Errorf("the error quotes the client secret: %v", err)
			}
		})
	}

	// The set Check fetched is kept: the first token needs no fetch.
	p, err := New(Options{JWKSURL: prov.srv.URL + "/keys", Issuer: testIssuer, Audience: []string{testAud}, InsecureHTTP: true, Now: (&clock{t: t0}).Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := prov.fetches.Load()
	if uid, err := auth(t, p, sign(t, jose.RS256, rsaKey, "k1", claims())); uid != "alice" || err != nil {
		t.Fatalf("after Check: %q, %v", uid, err)
	}
	if n := prov.fetches.Load() - before; n != 0 {
		t.Errorf("the token after Check fetched the key set %d times, want 0", n)
	}
}
