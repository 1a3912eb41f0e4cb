package oidctest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gowho/gowho/oidctest/internal/provider"
	"golang.org/x/oauth2"
)

// TestProviderDiscovery: the provider serves its discovery document with
// the issuer and the endpoints the oidc plugin needs, and go-oidc accepts it.
func TestProviderDiscovery(t *testing.T) {
	p := provider.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") {
		t.Fatalf("issuer %q is not on loopback", p.Issuer)
	}
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint", "userinfo_endpoint"} {
		if s, _ := doc[k].(string); !strings.HasPrefix(s, p.Issuer) {
			t.Errorf("discovery %s = %v, want a URL under %s", k, doc[k], p.Issuer)
		}
	}
	if m, _ := doc["code_challenge_methods_supported"].([]any); len(m) == 0 || m[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %v, want [S256]", doc["code_challenge_methods_supported"])
	}
	if _, err := oidc.NewProvider(ctx, p.Issuer); err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
}

// TestProviderClientCredentials: a service account gets a JWT access token
// for its audience, verified with the provider's JWKS; a wrong secret is
// refused; after a key rotation the new key signs and both verify; after a
// rotation that drops the old key, a token signed by it no longer does.
func TestProviderClientCredentials(t *testing.T) {
	p := provider.Start(t)
	p.AddService(provider.Service{ID: "svc", Secret: "svc-secret", Audience: "gowho-api"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := op.Verifier(&oidc.Config{ClientID: "gowho-api"})

	tok1, err := p.ClientCredentials(ctx, "svc", "svc-secret")
	if err != nil {
		t.Fatal(err)
	}
	at, err := verifier.Verify(ctx, tok1)
	if err != nil {
		t.Fatalf("verify the client credentials token: %v", err)
	}
	if at.Subject != "svc" {
		t.Errorf("sub = %q, want svc", at.Subject)
	}
	if _, err := op.Verifier(&oidc.Config{ClientID: "other-api"}).Verify(ctx, tok1); err == nil {
		t.Error("a token for gowho-api verified for audience other-api")
	}
	if _, err := p.ClientCredentials(ctx, "svc", "wrong"); err == nil {
		t.Error("a wrong service secret got a token")
	}

	oldKid := p.KeyID()
	newKid, err := p.RotateKey(true)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := p.ClientCredentials(ctx, "svc", "svc-secret")
	if err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, tok2); kid != newKid || kid == oldKid {
		t.Fatalf("after rotation the token's kid is %q, want the new %q", kid, newKid)
	}
	for i, tok := range []string{tok1, tok2} {
		if _, err := verifier.Verify(ctx, tok); err != nil {
			t.Errorf("token %d after a graceful rotation: %v", i+1, err)
		}
	}
	if _, err := p.RotateKey(false); err != nil {
		t.Fatal(err)
	}
	// A new go-oidc provider: the first one keeps the keys it cached.
	op2, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op2.Verifier(&oidc.Config{ClientID: "gowho-api"}).Verify(ctx, tok1); err == nil {
		t.Error("a token signed by a dropped key still verifies")
	}
}

// TestProviderCodeFlow: without a browser, a user logs in on the
// provider's page with a password and the code flow with PKCE yields an ID
// token with the nonce and the user's claims; a wrong password does not.
func TestProviderCodeFlow(t *testing.T) {
	p := provider.Start(t)
	codes := make(chan url.Values, 1)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes <- r.URL.Query()
		w.Write([]byte("ok"))
	}))
	defer rp.Close()
	p.AddClient(provider.Client{ID: "web", Secret: "web-secret", RedirectURIs: []string{rp.URL + "/cb"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "web", ClientSecret: "web-secret", Endpoint: op.Endpoint(),
		RedirectURL: rp.URL + "/cb", Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	verifierPKCE := oauth2.GenerateVerifier()
	state, nonce := rand.Text(), rand.Text()
	authURL := conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifierPKCE))

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login/username" {
		t.Fatalf("authorize led to %s, want the login page", resp.Request.URL)
	}
	reqID := resp.Request.URL.Query().Get("authRequestID")
	resp, err = browser.PostForm(p.Issuer+"/login/username", url.Values{"id": {reqID}, "username": {"alice"}, "password": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %s, want 401", resp.Status)
	}
	resp, err = browser.PostForm(p.Issuer+"/login/username", url.Values{"id": {reqID}, "username": {"alice"}, "password": {"alice-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var q url.Values
	select {
	case q = <-codes:
	default:
		t.Fatalf("login did not reach the redirect URI (ended at %s %s)", resp.Status, resp.Request.URL)
	}
	if q.Get("state") != state {
		t.Fatalf("state = %q, want %q", q.Get("state"), state)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifierPKCE))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := op.Verifier(&oidc.Config{ClientID: "web"}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	if idt.Subject != "u-alice" || idt.Nonce != nonce {
		t.Errorf("sub %q nonce %q, want u-alice and %q", idt.Subject, idt.Nonce, nonce)
	}
	var claims struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email != "alice@example.org" || claims.Name == "" {
		t.Errorf("ID token claims %+v (%v), want alice's email and name", claims, err)
	}
	if _, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifierPKCE)); err == nil {
		t.Error("a code was exchanged twice")
	}
}

func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	var hdr struct {
		Kid string `json:"kid"`
	}
	b, err := base64URL(h)
	if err != nil || json.Unmarshal(b, &hdr) != nil {
		t.Fatalf("not a JWT header: %q", h)
	}
	return hdr.Kid
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
