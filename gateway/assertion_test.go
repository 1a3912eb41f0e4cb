package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// SignCached gives the same assertion while more than half its lifetime
// is left and a new one after; never one of another user, audience or
// identity; a rotation re-signs; the cache stays bounded.
func TestSignCached(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s, err := NewSigner(nil, time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(user, aud string, claims map[string]any) string {
		t.Helper()
		tok, err := s.SignCached(user, aud, claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alice := map[string]any{"mail": "alice@example.com", "groups": []string{"admins", "staff"}}
	first := sign("alice", "app.example", alice)
	advance(29 * time.Second)
	if got := sign("alice", "app.example", alice); got != first {
		t.Error("re-signed before half its lifetime")
	}
	for _, tt := range []struct {
		name      string
		user, aud string
		claims    map[string]any
	}{
		{"another audience", "alice", "other.example", alice},
		{"another user", "bob", "app.example", alice},
		{"another group list", "alice", "app.example", map[string]any{"mail": "alice@example.com", "groups": []string{"admins"}}},
		{"a joined string for a list", "alice", "app.example", map[string]any{"mail": "alice@example.com", "groups": "admins,staff"}},
		{"no claims", "alice", "app.example", nil},
	} {
		tok := sign(tt.user, tt.aud, tt.claims)
		if tok == first {
			t.Errorf("%s: the cached assertion was given", tt.name)
		}
		claims, err := verify(t, s.JWKS(), tok, tt.aud, clock())
		if err != nil || claims["sub"] != tt.user {
			t.Errorf("%s: claims %v, %v", tt.name, claims, err)
		}
	}
	advance(2 * time.Second) // 31 s: less than half its lifetime left
	second := sign("alice", "app.example", alice)
	if second == first {
		t.Fatal("not re-signed after half its lifetime")
	}
	claims, err := verify(t, s.JWKS(), second, "app.example", clock().Add(59*time.Second))
	if err != nil || claims["mail"] != "alice@example.com" {
		t.Errorf("the re-signed assertion: %v, %v", claims, err)
	}
	_, k2, _ := ed25519.GenerateKey(rand.Reader)
	if err := s.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	if got := sign("alice", "app.example", alice); got == second {
		t.Error("after a rotation the previous key's assertion was given")
	}
	for i := range DefaultAssertionCacheSize + 10 {
		sign(fmt.Sprint("user", i), "app.example", nil)
	}
	if n := s.cache.len(); n > DefaultAssertionCacheSize {
		t.Errorf("%d cached assertions, want at most %d", n, DefaultAssertionCacheSize)
	}
}

// Through the gateway, a second forward-auth answer reuses the
// assertion and a forward-auth answer for another host (the audience)
// does not.
func TestAssertionCachedPerAudience(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, o *Options) { c.Assertion = true })
	get := func(host string) string {
		resp := f.do(t, "GET", "/_who/auth", "X-Forwarded-Uri: /x", "X-Forwarded-Method: GET", "X-Forwarded-Host: "+host, basicBob)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp.Header.Get(AssertionHeader)
	}
	a1, a2, b := get("app.example"), get("app.example"), get("other.example")
	if a1 != a2 {
		t.Error("the same user and audience got a new assertion")
	}
	if a1 == b {
		t.Error("another audience got the same assertion")
	}
	if _, err := verify(t, fetchJWKS(t, f), b, "other.example", time.Now()); err != nil {
		t.Error(err)
	}
}

// In forward-auth mode, assertion = true without assertion_audience is
// warned about at load (the aud would be the Host a client sends); set,
// or with an upstream, it is not.
func TestAssertionAudienceWarning(t *testing.T) {
	t.Parallel()
	const warning = "without assertion_audience"
	for _, tt := range []struct {
		name string
		edit func(*Config, *Options)
		warn bool
	}{
		{"forward-auth, no audience", func(c *Config, _ *Options) { c.Assertion = true }, true},
		{"forward-auth, audience", func(c *Config, _ *Options) { c.Assertion = true; c.AssertionAudience = "app" }, false},
		{"reverse proxy", func(c *Config, _ *Options) { c.Assertion = true; withUpstream("http://127.0.0.1:1")(c, nil) }, false},
		{"no assertion", nil, false},
	} {
		f := newFixture(t, tt.edit)
		if got := strings.Contains(f.log.String(), warning); got != tt.warn {
			t.Errorf("%s: warned %v, want %v; log:\n%s", tt.name, got, tt.warn, f.log)
		}
	}
}
