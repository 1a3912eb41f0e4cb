package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	gwjwt "github.com/gowho/gowho/plugins/jwt"
)

// verify checks tok as an upstream would: against the published key set,
// EdDSA only, for aud, at time at.
func verify(t *testing.T, jwks []byte, tok, aud string, at time.Time) (map[string]any, error) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var all map[string]any
	if err := parsed.Claims(&set, &std, &all); err != nil {
		return nil, err
	}
	if err := std.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{aud}, Time: at}, 0); err != nil {
		return nil, err
	}
	return all, nil
}

func fetchJWKS(t *testing.T, f *fixture) []byte {
	t.Helper()
	resp := f.do(t, "GET", "/_who/jwks.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An upstream verifies the assertion with go-jose and the published key
// set: sub, aud (the upstream's host), iat, exp and the passed identity.
func TestAssertionReverseProxy(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	f := newFixture(t, func(c *Config, o *Options) {
		c.Upstream = up.URL
		c.Assertion = true
	})
	h := seen(t, f.do(t, "GET", "/x", basicAlice, "X-Who-Assertion: forged"))
	tok := h.Get(AssertionHeader)
	aud := h.Get("X-Seen-Host")
	claims, err := verify(t, fetchJWKS(t, f), tok, aud, time.Now())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if claims["sub"] != "alice" || claims["mail"] != "alice@example.com" {
		t.Errorf("claims %v", claims)
	}
	if g, _ := claims["groups"].([]any); len(g) != 2 || g[0] != "admins" {
		t.Errorf("groups %v", claims["groups"])
	}
	iat, exp := claims["iat"].(float64), claims["exp"].(float64)
	if exp-iat != DefaultAssertionTTL.Seconds() {
		t.Errorf("lifetime %v s, want %v", exp-iat, DefaultAssertionTTL.Seconds())
	}
	if _, err := verify(t, fetchJWKS(t, f), tok, "other.example", time.Now()); err == nil {
		t.Error("verified for another audience")
	}
	h = seen(t, f.do(t, "GET", "/public/x"))
	if h.Get(AssertionHeader) != "" {
		t.Error("an anonymous request carries an assertion")
	}
}

// In forward-auth mode the 200 carries the assertion for the original
// host, for the proxy to pass on.
func TestAssertionForwardAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, o *Options) { c.Assertion = true })
	resp := f.do(t, "GET", "/_who/auth", "X-Forwarded-Uri: /x", "X-Forwarded-Method: GET", "X-Forwarded-Host: app.example", "X-Forwarded-Proto: https", basicBob)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	claims, err := verify(t, fetchJWKS(t, f), resp.Header.Get(AssertionHeader), "app.example", time.Now())
	if err != nil || claims["sub"] != "bob" {
		t.Fatalf("claims %v, %v", claims, err)
	}
}

// An expired assertion is refused; one signed by a rotated-out key is
// accepted while the previous key is published, and refused after the
// next rotation.
func TestAssertionExpiryAndRotation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := NewSigner(nil, time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign("alice", "app.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(t, s.JWKS(), tok, "app.example", now.Add(30*time.Second)); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	if _, err := verify(t, s.JWKS(), tok, "app.example", now.Add(61*time.Second)); err == nil {
		t.Error("an expired assertion verified")
	}
	_, k2, _ := ed25519.GenerateKey(rand.Reader)
	if err := s.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(t, s.JWKS(), tok, "app.example", now); err != nil {
		t.Errorf("after one rotation, the previous key's assertion: %v", err)
	}
	tok2, _ := s.Sign("bob", "app.example", nil)
	if _, err := verify(t, s.JWKS(), tok2, "app.example", now); err != nil {
		t.Errorf("the new key's assertion: %v", err)
	}
	_, k3, _ := ed25519.GenerateKey(rand.Reader)
	if err := s.Rotate(k3); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(t, s.JWKS(), tok, "app.example", now); err == nil {
		t.Error("two rotations later the first key still verifies")
	}
	if _, err := verify(t, s.JWKS(), tok2, "app.example", now); err != nil {
		t.Errorf("the previous key after the second rotation: %v", err)
	}
	var set jose.JSONWebKeySet
	_ = json.Unmarshal(s.JWKS(), &set)
	if len(set.Keys) != 2 {
		t.Errorf("%d published keys, want 2", len(set.Keys))
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || k.Algorithm != "EdDSA" || k.Use != "sig" || k.KeyID == "" {
			t.Errorf("published key %+v", k)
		}
	}
}

// Keys from a file (several PEM blocks) or a directory: the last signs,
// all are published.
func TestLoadKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pemKey := func() ([]byte, ed25519.PrivateKey) {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), k
	}
	a, ka := pemKey()
	b, kb := pemKey()
	file := filepath.Join(dir, "keys.pem")
	if err := os.WriteFile(file, slices.Concat(a, b), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys(file)
	if err != nil || len(keys) != 2 || !keys[1].Equal(kb) || !keys[0].Equal(ka) {
		t.Fatalf("LoadKeys(file) = %d keys, %v", len(keys), err)
	}
	kdir := filepath.Join(dir, "d")
	_ = os.Mkdir(kdir, 0o700)
	_ = os.WriteFile(filepath.Join(kdir, "2026-02.pem"), b, 0o600)
	_ = os.WriteFile(filepath.Join(kdir, "2026-01.pem"), a, 0o600)
	_ = os.WriteFile(filepath.Join(kdir, "notes.txt"), []byte("x"), 0o600)
	keys, err = LoadKeys(kdir)
	if err != nil || len(keys) != 2 || !keys[1].Equal(kb) {
		t.Fatalf("LoadKeys(dir) = %d keys, %v", len(keys), err)
	}
	s, err := NewSigner(keys, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := thumbprint(kb.Public().(ed25519.PublicKey))
	tok, _ := s.Sign("alice", "x", nil)
	parsed, _ := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if parsed.Headers[0].KeyID != kid {
		t.Errorf("signed with kid %q, want the last key's %q", parsed.Headers[0].KeyID, kid)
	}
	empty := filepath.Join(dir, "empty.pem")
	_ = os.WriteFile(empty, []byte("nothing"), 0o600)
	if _, err := LoadKeys(empty); err == nil {
		t.Error("a file without keys loaded")
	}
}

func TestJWKSMethod(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, o *Options) { c.Assertion = true })
	if resp := f.do(t, "POST", "/_who/jwks.json"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

// The upstream may itself be a gowho chain: its jwt plugin, given the
// gateway's key set, reads X-Who-Assertion and authenticates the user.
func TestAssertionVerifiedByJWTPlugin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, o *Options) { c.Assertion = true; c.AssertionAudience = "app.example" })
	p, err := gwjwt.New(gwjwt.Options{Header: AssertionHeader, JWKSURL: f.srv.URL + "/_who/jwks.json",
		Audience: []string{"app.example"}, Algorithms: []string{"EdDSA"}, Claims: []string{"mail"}})
	if err != nil {
		t.Fatal(err)
	}
	resp := f.do(t, "GET", "/_who/auth", "X-Forwarded-Uri: /x", "X-Forwarded-Method: GET", basicAlice)
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set(AssertionHeader, resp.Header.Get(AssertionHeader))
	id, err := p.Identify(req)
	if err != nil || id == nil {
		t.Fatalf("Identify: %v, %v", id, err)
	}
	uid, err := p.Authenticate(req, id)
	if err != nil || uid != "alice" {
		t.Fatalf("Authenticate = %q, %v", uid, err)
	}
}
