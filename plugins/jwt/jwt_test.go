package jwt

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// newTestPlugin is a plugin on prov's key set with the test issuer and
// audience at t0; mod changes the options.
func newTestPlugin(t testing.TB, prov *provider, clk *clock, mod func(*Options)) *Plugin {
	t.Helper()
	o := Options{
		Issuer: testIssuer, JWKSURL: prov.srv.URL + "/keys", Audience: []string{testAud},
		Claims: []string{"email", "groups"}, Now: clk.Now, Timeout: who.Duration(2 * time.Second),
	}
	if mod != nil {
		mod(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func stdProvider(t testing.TB) *provider {
	testKeys()
	return newProvider(t, pub(&rsaKey.PublicKey, "k1", jose.RS256), pub(edKey.Public(), "e1", jose.EdDSA), pub(&ecKey.PublicKey, "c1", jose.ES256))
}

func with(mod func(map[string]any)) map[string]any {
	c := claims()
	mod(c)
	return c
}

func TestAccepts(t *testing.T) {
	prov := stdProvider(t)
	clk := &clock{t: t0}
	p := newTestPlugin(t, prov, clk, nil)
	for _, tc := range []struct {
		name string
		tok  string
	}{
		{"RS256", sign(t, jose.RS256, rsaKey, "k1", claims())},
		{"EdDSA", sign(t, jose.EdDSA, edKey, "e1", claims())},
		{"ES256", sign(t, jose.ES256, ecKey, "c1", claims())},
		{"no kid", sign(t, jose.RS256, rsaKey, "", claims())},
		{"aud list", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["aud"] = []string{"other", testAud} }))},
		{"expired within leeway", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["exp"] = t0.Add(-30 * time.Second).Unix() }))},
		{"nbf within leeway", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["nbf"] = t0.Add(30 * time.Second).Unix() }))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bearerRequest(tc.tok)
			id, err := p.Identify(r)
			if err != nil || id == nil {
				t.Fatalf("Identify = %v, %v", id, err)
			}
			uid, err := p.Authenticate(r, id)
			if err != nil || uid != "alice" {
				t.Fatalf("Authenticate = %q, %v; want alice", uid, err)
			}
			if id.Str("email") != "alice@example.com" {
				t.Errorf("email = %v", id["email"])
			}
			if g, _ := id["groups"].([]any); len(g) != 2 || g[0] != "admin" {
				t.Errorf("groups = %#v", id["groups"])
			}
			if _, ok := id["iss"]; ok {
				t.Error("an unlisted claim was copied")
			}
		})
	}
}

// TestRefusals: every token the plugin must not accept is "" with a nil
// error.
func TestRefusals(t *testing.T) {
	prov := stdProvider(t)
	clk := &clock{t: t0}
	p := newTestPlugin(t, prov, clk, nil)
	b64 := base64.RawURLEncoding.EncodeToString
	payload, _ := jsonMarshal(claims())
	pubPEM := func() []byte {
		der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	for _, tc := range []struct {
		name string
		tok  string
	}{
		{"alg none", b64([]byte(`{"alg":"none","kid":"k1"}`)) + "." + b64(payload) + "."},
		{"alg None", b64([]byte(`{"alg":"None"}`)) + "." + b64(payload) + "."},
		{"HS256 with the RSA public key as secret", sign(t, jose.HS256, pubPEM, "k1", claims())},
		{"HS256 with the JWK's modulus as secret", sign(t, jose.HS256, rsaKey.PublicKey.N.Bytes(), "k1", claims())},
		{"wrong key, known kid", sign(t, jose.RS256, rsaKey2, "k1", claims())},
		{"RS256 under the EdDSA kid", sign(t, jose.RS256, rsaKey, "e1", claims())},
		{"wrong iss", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["iss"] = "https://evil.test" }))},
		{"no iss", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { delete(c, "iss") }))},
		{"wrong aud", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["aud"] = "other" }))},
		{"no aud", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { delete(c, "aud") }))},
		{"expired", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["exp"] = t0.Add(-2 * time.Minute).Unix() }))},
		{"no exp", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { delete(c, "exp") }))},
		{"nbf ahead", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["nbf"] = t0.Add(2 * time.Minute).Unix() }))},
		{"iat ahead", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["iat"] = t0.Add(2 * time.Minute).Unix() }))},
		{"nbf overflowing", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["nbf"] = 1e300 }))},
		{"no sub", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { delete(c, "sub") }))},
		{"numeric sub", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["sub"] = 42 }))},
		{"aud of the wrong type", sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["aud"] = 7 }))},
		{"tampered payload", func() string {
			parts := strings.Split(sign(t, jose.RS256, rsaKey, "k1", claims()), ".")
			evil, _ := jsonMarshal(with(func(c map[string]any) { c["sub"] = "root" }))
			return parts[0] + "." + b64(evil) + "." + parts[2]
		}()},
		{"two parts", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"},
		{"garbage", "a.b.c"},
		{"header not JSON", b64([]byte("nope")) + "." + b64(payload) + ".AAAA"},
		{"payload not an object", sign(t, jose.RS256, rsaKey, "k1", nil)},
		{"JWE (five parts)", "a.b.c.d.e"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid, err := auth(t, p, tc.tok)
			if uid != "" || err != nil {
				t.Fatalf("got %q, %v; want a refusal", uid, err)
			}
		})
	}
	if n := prov.fetches.Load(); n != 1 {
		t.Errorf("%d key set fetches, want 1 (no kid was unknown)", n)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func mustRead(t testing.TB, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, f string, b []byte) {
	t.Helper()
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHMAC: hmac_secret verifies HS tokens only; with public keys too, an
// HS token is still verified with the secret only.
func TestHMAC(t *testing.T) {
	testKeys()
	f := pemFile(t, &rsaKey.PublicKey)
	pemBytes := mustRead(t, f)
	clk := &clock{t: t0}
	p, err := New(Options{HMACSecret: hmacSecret, PublicKeyFile: f, Audience: []string{testAud}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.algs, jose.HS256) || slices.Contains(p.algs, jose.HS512) {
		t.Errorf("algs = %v: want HS256 and no HS512 (the secret is 32 bytes)", p.algs)
	}
	for _, tc := range []struct {
		name string
		tok  string
		want string
	}{
		{"HS256 with the secret", sign(t, jose.HS256, []byte(hmacSecret), "", claims()), "alice"},
		{"RS256 with the PEM key", sign(t, jose.RS256, rsaKey, "", claims()), "alice"},
		{"HS256 with the PEM as secret", sign(t, jose.HS256, pemBytes, "", claims()), ""},
		{"HS256 with another secret", sign(t, jose.HS256, []byte(strings.Repeat("x", 32)), "", claims()), ""},
		{"RS256 with another key", sign(t, jose.RS256, rsaKey2, "", claims()), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid, err := auth(t, p, tc.tok)
			if uid != tc.want || err != nil {
				t.Fatalf("got %q, %v; want %q", uid, err, tc.want)
			}
		})
	}

	// Public keys only: HS256 is not even parsed.
	p, err = New(Options{PublicKeyFile: f, Audience: []string{testAud}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if uid, err := auth(t, p, sign(t, jose.HS256, pemBytes, "", claims())); uid != "" || err != nil {
		t.Fatalf("HS256 with a public key file only: %q, %v", uid, err)
	}
}

// TestUnknownKID: an unknown kid fetches the set again at most once per
// min_refresh; a rotated key is accepted after the refresh.
func TestUnknownKID(t *testing.T) {
	prov := stdProvider(t)
	clk := &clock{t: t0}
	p := newTestPlugin(t, prov, clk, func(o *Options) { o.MinRefresh = who.Duration(time.Minute); o.CacheSize = -1 })
	old := sign(t, jose.RS256, rsaKey, "k1", claims())
	if uid, err := auth(t, p, old); uid != "alice" || err != nil {
		t.Fatalf("old key: %q, %v", uid, err)
	}
	unknown := sign(t, jose.RS256, rsaKey2, "nope", claims())
	for range 20 {
		if uid, err := auth(t, p, unknown); uid != "" || err != nil {
			t.Fatalf("unknown kid: %q, %v", uid, err)
		}
	}
	if n := prov.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within min_refresh, want 1 (the first)", n)
	}
	clk.Add(59 * time.Second)
	auth(t, p, unknown)
	if n := prov.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches 59s later, want still 1", n)
	}

	// The provider rotates: k2 replaces k1.
	prov.setKeys(pub(&rsaKey2.PublicKey, "k2", jose.RS256))
	rotated := sign(t, jose.RS256, rsaKey2, "k2", with(func(c map[string]any) { c["exp"] = t0.Add(2 * time.Hour).Unix() }))
	if uid, _ := auth(t, p, rotated); uid != "" {
		t.Fatal("the rotated key was accepted before min_refresh")
	}
	clk.Add(2 * time.Second)
	if uid, err := auth(t, p, rotated); uid != "alice" || err != nil {
		t.Fatalf("rotated key after min_refresh: %q, %v", uid, err)
	}
	if n := prov.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	if uid, _ := auth(t, p, old); uid != "" {
		t.Error("the retired key still verifies")
	}
}

// TestProviderFaults: a provider down, slow or malformed is an error (the
// chain logs it and goes on), within the timeout, never a hang.
func TestProviderFaults(t *testing.T) {
	testKeys()
	tok := sign(t, jose.RS256, rsaKey, "k1", claims())
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	serve := func(status int, body string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(s.Close)
		return s.URL
	}
	for _, tc := range []struct {
		name, url, want string
	}{
		{"down", downURL, "connection refused"},
		{"slow", slow.URL, "Timeout"},
		{"500", serve(500, "oops"), "status 500"},
		{"malformed JSON", serve(200, `{"keys": [`), "malformed JSON"},
		{"not a key set", serve(200, `{"keys": 3}`), "malformed JSON"},
		{"no usable key", serve(200, `{"keys": [{"kty":"oct","k":"c2VjcmV0","kid":"k1"}]}`), "no public signing key"},
		{"huge", serve(200, `{"keys": [`+strings.Repeat(" ", maxDocumentBytes)+`]}`), "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: t0}
			p, err := New(Options{Issuer: testIssuer, JWKSURL: tc.url + "/keys", Audience: []string{testAud}, Now: clk.Now, Timeout: who.Duration(200 * time.Millisecond)})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			uid, err := auth(t, p, tok)
			if uid != "" || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, %v; want an error with %q", uid, err, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if strings.Contains(err.Error(), tok) {
				t.Error("the error quotes the token")
			}
			// Within min_refresh the same error comes back without a fetch.
			if _, err2 := auth(t, p, tok); err2 == nil {
				t.Error("second request: no error")
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	prov := stdProvider(t)
	clk := &clock{t: t0}
	p, err := New(Options{Issuer: prov.srv.URL, Audience: []string{testAud}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jose.EdDSA, edKey, "e1", with(func(c map[string]any) { c["iss"] = prov.srv.URL }))
	if uid, err := auth(t, p, tok); uid != "alice" || err != nil {
		t.Fatalf("got %q, %v", uid, err)
	}

	// A discovery document naming another issuer is refused.
	p, err = New(Options{Issuer: prov.srv.URL + "/", Audience: []string{testAud}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth(t, p, tok); err == nil || !strings.Contains(err.Error(), "not the configured") {
		t.Fatalf("err = %v, want the issuer mismatch", err)
	}
}

func TestIdentify(t *testing.T) {
	p, err := New(Options{HMACSecret: hmacSecret, AnyAudience: true, MaxTokenBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := New(Options{HMACSecret: hmacSecret, AnyAudience: true, Header: "X-Token", Cookie: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		name   string
		p      *Plugin
		header string
		value  string
		cookie string
		want   string
	}{
		{"bearer", p, "Authorization", "Bearer abc.def.ghi", "", "abc.def.ghi"},
		{"scheme case", p, "Authorization", "bEARER abc", "", "abc"},
		{"extra spaces", p, "Authorization", "Bearer   abc  ", "", "abc"},
		{"basic", p, "Authorization", "Basic YTpi", "", ""},
		{"no scheme", p, "Authorization", "abc", "", ""},
		{"empty bearer", p, "Authorization", "Bearer ", "", ""},
		{"space inside", p, "Authorization", "Bearer ab c", "", ""},
		{"control", p, "Authorization", "Bearer ab\x01c", "", ""},
		{"non-ASCII", p, "Authorization", "Bearer \xc3\xa9", "", ""},
		{"padding", p, "Authorization", "Bearer abc==", "", "abc=="},
		{"padding inside", p, "Authorization", "Bearer ab=c", "", ""},
		{"over max_token_bytes", p, "Authorization", "Bearer " + long, "", ""},
		{"at max_token_bytes", p, "Authorization", "Bearer " + long[1:], "", long[1:]},
		{"custom header", pc, "X-Token", "abc", "", "abc"},
		{"custom header with Bearer", pc, "X-Token", "Bearer abc", "", "abc"},
		{"Authorization ignored", pc, "Authorization", "Bearer abc", "", ""},
		{"cookie", pc, "", "", "xyz", "xyz"},
		{"header before cookie", pc, "X-Token", "abc", "xyz", "abc"},
		{"bad cookie", pc, "", "", "a b", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set(tc.header, tc.value)
			}
			if tc.cookie != "" {
				r.Header.Set("Cookie", "tok="+tc.cookie)
			}
			id, err := tc.p.Identify(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := id.Str(KeyToken); got != tc.want || (tc.want == "") != (id == nil) {
				t.Fatalf("identity %v with token %q, want %q", id == nil, got, tc.want)
			}
		})
	}
	r := bearerRequest("abc.def.ghi")
	whotest.CheckIdentifier(t, p, r)
}

func TestOptionErrors(t *testing.T) {
	testKeys()
	f := pemFile(t, &rsaKey.PublicKey)
	priv := t.TempDir() + "/priv.pem"
	writeFile(t, priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	base := func(mod func(*Options)) Options {
		o := Options{JWKSURL: "https://idp.test/keys", Audience: []string{"api"}}
		mod(&o)
		return o
	}
	for _, tc := range []struct {
		name string
		o    Options
		key  string
	}{
		{"no audience", base(func(o *Options) { o.Audience = nil }), "audience"},
		{"empty audience", base(func(o *Options) { o.Audience = []string{""} }), "audience"},
		{"no key source", Options{Audience: []string{"api"}}, "jwks_url"},
		{"alg none", base(func(o *Options) { o.Algorithms = []string{"none"} }), "algorithms"},
		{"HS256 with public keys", base(func(o *Options) { o.Algorithms = []string{"RS256", "HS256"} }), "algorithms"},
		{"RS256 with hmac only", Options{HMACSecret: hmacSecret, AnyAudience: true, Algorithms: []string{"RS256"}}, "algorithms"},
		{"HS512 with a short secret", Options{HMACSecret: hmacSecret, AnyAudience: true, Algorithms: []string{"HS512"}}, "algorithms"},
		{"unknown alg", base(func(o *Options) { o.Algorithms = []string{"RS1"} }), "algorithms"},
		{"short secret", Options{HMACSecret: "short", AnyAudience: true}, "hmac_secret"},
		{"plain http", base(func(o *Options) { o.JWKSURL = "http://idp.test/keys" }), "jwks_url"},
		{"not a URL", base(func(o *Options) { o.Issuer = "idp.test" }), "issuer"},
		{"missing PEM", base(func(o *Options) { o.PublicKeyFile = f + ".missing" }), "public_key_file"},
		{"private PEM", base(func(o *Options) { o.PublicKeyFile = priv }), "public_key_file"},
		{"reserved claim", base(func(o *Options) { o.Claims = []string{who.KeyUserID} }), "claims"},
		{"negative leeway", base(func(o *Options) { d := who.Duration(-1); o.Leeway = &d }), "leeway"},
		{"negative max_token_bytes", base(func(o *Options) { o.MaxTokenBytes = -1 }), "max_token_bytes"},
		{"bad header", base(func(o *Options) { o.Header = "X Token" }), "header"},
		{"client_id alone", base(func(o *Options) { o.ClientID = "x" }), "client_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			var oe *who.OptionError
			if !errors.As(err, &oe) || oe.Key != tc.key {
				t.Fatalf("err = %v, want an OptionError on %q", err, tc.key)
			}
		})
	}
	// insecure_http and loopback are accepted.
	for _, u := range []string{"http://127.0.0.1:9/keys", "http://localhost/keys", "http://[::1]/keys"} {
		if _, err := New(Options{JWKSURL: u, Audience: []string{"api"}}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := New(Options{JWKSURL: "http://idp.test/keys", InsecureHTTP: true, Audience: []string{"api"}}); err != nil {
		t.Error(err)
	}
}

func TestFactory(t *testing.T) {
	testKeys()
	dir := t.TempDir()
	writeFile(t, dir+"/keys.pem", mustRead(t, pemFile(t, edKey.Public())))
	factory, _, err := who.DefaultRegistry.Factory("jwt")
	if err != nil {
		t.Fatal(err)
	}
	spec := whotest.Spec(t, `public_key_file = "keys.pem"
audience = ["api"]
leeway = "10s"
claims = ["email"]`)
	spec.Dir = dir
	v, err := factory(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := v.(*Plugin)
	if p.leeway != 10*time.Second || len(p.static) != 1 {
		t.Errorf("leeway %v, %d static keys", p.leeway, len(p.static))
	}
	if _, err := factory(whotest.Spec(t, `jwks_uri = "https://x.test"`)); err == nil || !strings.Contains(err.Error(), "jwks_url") {
		t.Errorf("a misspelt key: %v", err)
	}
	if got := who.SecretKeysOf(p); !slices.Contains(got, KeyToken) {
		t.Errorf("SecretKeysOf = %v", got)
	}
}

// TestCache: a verified token is served from the cache, never past its exp,
// and a cached identity's values are the request's own.
func TestCache(t *testing.T) {
	prov := stdProvider(t)
	clk := &clock{t: t0}
	p := newTestPlugin(t, prov, clk, nil)
	tok := sign(t, jose.RS256, rsaKey, "k1", with(func(c map[string]any) { c["exp"] = t0.Add(30 * time.Second).Unix() }))
	r := bearerRequest(tok)
	id, _ := p.Identify(r)
	if uid, _ := p.Authenticate(r, id); uid != "alice" {
		t.Fatal("not accepted")
	}
	id["groups"].([]any)[0] = "changed"
	id2, _ := p.Identify(r)
	if uid, _ := p.Authenticate(r, id2); uid != "alice" {
		t.Fatal("not accepted from the cache")
	}
	if g := id2["groups"].([]any); g[0] != "admin" {
		t.Errorf("the cache shares its values: %v", g)
	}
	if p.cache == nil || len(p.cache.m) != 1 {
		t.Fatal("not cached")
	}
	clk.Add(91 * time.Second) // exp + leeway passed: the cache must not serve it
	if uid, _ := auth(t, p, tok); uid != "" {
		t.Fatal("an expired token was served from the cache")
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache(10)
	for i := range 100 {
		var k [32]byte
		k[0], k[1] = byte(i), byte(i>>8)
		c.put(k, &Result{UserID: "u"}, t0, t0.Add(time.Hour))
		if len(c.m) > 10 {
			t.Fatalf("%d entries", len(c.m))
		}
	}
}

// TestIssuerOnlyDiscoversAlone: issuer with static keys or introspection
// is the iss check only; it made the plugin fetch a discovery document
// (and fail on the network) before.
func TestIssuerOnlyDiscoversAlone(t *testing.T) {
	for _, o := range []Options{
		{Issuer: testIssuer, HMACSecret: hmacSecret, AnyAudience: true},
		{Issuer: testIssuer, IntrospectionURL: "https://idp.test/introspect", AnyAudience: true},
	} {
		p, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		if p.remote != nil {
			t.Errorf("%+v: discovery configured", o)
		}
	}
	p, err := New(Options{Issuer: testIssuer, AnyAudience: true})
	if err != nil || p.remote == nil {
		t.Errorf("issuer alone: %v, remote %v", err, p.remote)
	}
}
