package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeProvider is an in-process OpenID provider for the unit and error
// paths: discovery, keys, an authorization endpoint that logs in user at
// once, a token endpoint that checks PKCE and single-use codes, refresh.
// Its knobs (under mu) break it in the ways the tests need.
type fakeProvider struct {
	t   testing.TB
	srv *httptest.Server
	url string // the issuer: srv.URL, or another name of it (localhost)
	key *ecdsa.PrivateKey
	kid string

	mu         sync.Mutex
	mode       string        // "", "down" (503), "malformed", "slow" (blocks on release)
	release    chan struct{} // closed when the test ends: a slow provider then answers
	user       string        // the sub of the next login
	extra      map[string]any
	idTTL      time.Duration // the ID token's lifetime (negative: expired)
	nonce      string        // when set, the ID token's nonce instead of the flow's
	noEndSess  bool
	interact   bool // authorize shows a page with a "continue" link, as a login page
	codes      map[string]fakeCode
	refreshed  int // refresh grants served
	discovered int // discovery documents served
	tokens     int // authorization code grants served
}

type fakeCode struct {
	nonce, challenge, redirect, sub, clientID string
}

const fakeClientID, fakeClientSecret = "gowho-test", "test-client-secret"

func newFakeProvider(t testing.TB) *fakeProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fp := &fakeProvider{t: t, key: key, kid: "k1", user: "alice", idTTL: time.Hour, codes: map[string]fakeCode{}, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", fp.discovery)
	mux.HandleFunc("/keys", fp.keys)
	mux.HandleFunc("/authorize", fp.authorize)
	mux.HandleFunc("/token", fp.token)
	mux.HandleFunc("/end_session", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("post_logout_redirect_uri"), http.StatusFound)
	})
	fp.srv = httptest.NewServer(mux)
	fp.url = fp.srv.URL
	t.Cleanup(func() {
		close(fp.release)
		fp.srv.Close()
	})
	return fp
}

func (fp *fakeProvider) set(f func(fp *fakeProvider)) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	f(fp)
}

func (fp *fakeProvider) discovery(w http.ResponseWriter, r *http.Request) {
	fp.mu.Lock()
	mode, noEnd := fp.mode, fp.noEndSess
	fp.discovered++
	fp.mu.Unlock()
	switch mode {
	case "down":
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	case "malformed":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer": "` + fp.url + `", "authorization_endpoint": [`))
		return
	case "slow":
		select {
		case <-fp.release:
		case <-r.Context().Done():
		}
		return
	}
	doc := map[string]any{
		"issuer":                                fp.url,
		"authorization_endpoint":                fp.url + "/authorize",
		"token_endpoint":                        fp.url + "/token",
		"jwks_uri":                              fp.url + "/keys",
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	if !noEnd {
		doc["end_session_endpoint"] = fp.url + "/end_session"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

func (fp *fakeProvider) keys(w http.ResponseWriter, _ *http.Request) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &fp.key.PublicKey, KeyID: fp.kid, Algorithm: "ES256", Use: "sig"}}}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(set)
}

// authorize logs fp.user in at once and sends the browser back with a code.
func (fp *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := randString()
	fp.mu.Lock()
	fp.codes[code] = fakeCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), sub: fp.user, clientID: q.Get("client_id")}
	fp.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	fp.mu.Lock()
	interact := fp.interact
	fp.mu.Unlock()
	if interact {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>provider</title><a id="continue" href="%s">Continue</a>`, html.EscapeString(u.String()))
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (fp *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != fakeClientID || secret != fakeClientSecret {
		fail("invalid_client")
		return
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		if r.PostForm.Get("refresh_token") != "refresh-1" {
			fail("invalid_grant")
			return
		}
		fp.refreshed++
		writeJSON(w, map[string]any{"access_token": "access-refreshed", "token_type": "Bearer", "expires_in": 3600})
		return
	case "authorization_code":
	default:
		fail("unsupported_grant_type")
		return
	}
	c, ok := fp.codes[r.PostForm.Get("code")]
	delete(fp.codes, r.PostForm.Get("code")) // single use
	if !ok || c.redirect != r.PostForm.Get("redirect_uri") {
		fail("invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		fail("invalid_grant")
		return
	}
	fp.tokens++
	nonce := c.nonce
	if fp.nonce != "" {
		nonce = fp.nonce
	}
	now := time.Now()
	claims := map[string]any{
		"iss": fp.url, "aud": fakeClientID, "sub": c.sub, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(fp.idTTL).Unix(), "sid": "sid-" + c.sub,
		"email": c.sub + "@example.com", "name": "Alice Liddell", "groups": []string{"admins", "staff"},
	}
	for k, v := range fp.extra {
		claims[k] = v
	}
	writeJSON(w, map[string]any{
		"access_token": "access-1", "token_type": "Bearer", "expires_in": 1,
		"refresh_token": "refresh-1", "id_token": fp.sign(claims),
	})
}

// sign signs claims with the provider's key.
func (fp *fakeProvider) sign(claims map[string]any) string {
	fp.t.Helper()
	payload, _ := json.Marshal(claims)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: fp.key}, (&jose.SignerOptions{}).WithHeader("kid", fp.kid).WithType("JWT"))
	if err != nil {
		fp.t.Fatal(err)
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		fp.t.Fatal(err)
	}
	s, _ := sig.CompactSerialize()
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

func randString() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
