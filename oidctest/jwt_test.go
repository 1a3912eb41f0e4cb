package oidctest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowho/gowho/oidctest/internal/provider"
	"github.com/gowho/gowho/plugins/jwt"
	"github.com/gowho/gowho/who"
)

// apiSite is a gowho chain with the jwt plugin (keys from the provider's
// discovery) in front of /api, which says "api USERID", or 403 to an
// anonymous request (the chain has no challenger: an API). cacheSize is
// the plugin's cache_size (-1: no cache of verified tokens).
func apiSite(t *testing.T, p *provider.Provider, audience string, cacheSize int) *httptest.Server {
	t.Helper()
	pl, err := jwt.New(jwt.Options{
		Issuer:     p.Issuer,
		Audience:   []string{audience},
		MinRefresh: who.Duration(10 * time.Millisecond),
		CacheSize:  cacheSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "jwt", Plugin: pl}},
		Authenticators: []who.Entry{{Name: "jwt", Plugin: pl}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := who.UserID(r.Context())
		if u == "" {
			http.Error(w, "no user", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "api %s", u)
	})))
	t.Cleanup(srv.Close)
	return srv
}

func callAPI(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/api", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b)
}

// TestJWTClientCredentials: an access token the provider issued by the
// client credentials grant is accepted by the jwt plugin (userid = the
// service's sub); one issued for another audience, none, and a tampered
// one are refused; after the provider rotates its key (dropping the old
// one), a new token is accepted (the plugin refreshes the keys on the
// unknown kid) and, without the cache of verified tokens, the old one is
// refused (with it, the old one stays accepted up to cache_ttl).
func TestJWTClientCredentials(t *testing.T) {
	p := provider.Start(t)
	p.AddService(provider.Service{ID: "svc", Secret: "svc-secret", Audience: "gowho-api"})
	p.AddService(provider.Service{ID: "other", Secret: "other-secret", Audience: "other-api"})
	api := apiSite(t, p, "gowho-api", 0)
	uncached := apiSite(t, p, "gowho-api", -1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mint := func(id, secret string) string {
		tok, err := p.ClientCredentials(ctx, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := mint("svc", "svc-secret")
	cases := []struct {
		name, token string
		want        int
	}{
		{"issued for the site's audience", good, http.StatusOK},
		{"issued for another audience", mint("other", "other-secret"), http.StatusForbidden},
		{"no token", "", http.StatusForbidden},
		{"tampered signature", good[:len(good)-4] + tamper(good[len(good)-4:]), http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := callAPI(t, api.URL, tc.token)
			if status != tc.want {
				t.Fatalf("%d %q, want %d", status, body, tc.want)
			}
			if tc.want == http.StatusOK && body != "api svc" {
				t.Errorf("body %q, want \"api svc\"", body)
			}
		})
	}

	if status, body := callAPI(t, uncached.URL, good); status != http.StatusOK {
		t.Fatalf("without a cache: %d %q, want 200", status, body)
	}
	if _, err := p.RotateKey(false); err != nil {
		t.Fatal(err)
	}
	rotated := mint("svc", "svc-secret")
	for _, srv := range []*httptest.Server{api, uncached} {
		if status, body := callAPI(t, srv.URL, rotated); status != http.StatusOK {
			t.Errorf("a token signed by the rotated key: %d %q, want 200", status, body)
		}
	}
	if status, body := callAPI(t, uncached.URL, good); status != http.StatusForbidden {
		t.Errorf("a token signed by the key the provider dropped, after the refresh: %d %q, want 403", status, body)
	}
}
