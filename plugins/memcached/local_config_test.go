package memcached_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/plugins/memcached"
	"github.com/gowho/gowho/who"

	_ "github.com/gowho/gowho/plugins/basicauth"
	_ "github.com/gowho/gowho/plugins/htpasswd"
)

// TestExampleBasicCache loads examples/basic-cache.toml (memcached_urls =
// [] and near_cache_ttl: an in-process cache in front of a bcrypt
// htpasswd), logs alice in twice with Basic and checks the second request
// is a near-cache hit with one htpasswd check in all; bob's wrong
// password is refused.
func TestExampleBasicCache(t *testing.T) {
	t.Parallel()
	const path = "../../examples/basic-cache.toml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := config.Parse(path, data, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	chain.Close()
	// The same file with a longer call_timeout for the logins: one
	// bcrypt under -race on a loaded machine can take seconds.
	data = []byte(strings.Replace(string(data), "\nmemcached_urls = []", "\ncall_timeout = \"2m\"\nmemcached_urls = []", 1))
	if !strings.Contains(string(data), "call_timeout") {
		t.Fatal("examples/basic-cache.toml has no memcached_urls = [] line")
	}
	chain, err = config.Parse(path, data, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	p, ok := chain.Plugin("cached_htpasswd")
	if !ok {
		t.Fatal("no cached_htpasswd plugin")
	}
	c := p.(*memcached.Cache)
	if !c.Local() {
		t.Fatal("examples/basic-cache.toml's cache lists memcached servers")
	}
	h := chain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who.UserID(r.Context()) == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	for _, tc := range []struct {
		creds string
		code  int
	}{{"alice:wonderland", 200}, {"alice:wonderland", 200}, {"bob:wonderland", 401}} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(tc.creds)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Fatalf("%s: status %d, want %d", tc.creds, w.Code, tc.code)
		}
	}
	if s := c.Stats(); s.NearHits != 1 || s.BackendCalls != 2 || s.Errors != 0 {
		t.Fatalf("stats %+v: want one near hit and two htpasswd checks", s)
	}
}

// TestLoadLocal: memcached_urls = [] loads with near_cache_ttl, and
// without it is a load error naming near_cache_ttl; leaving
// memcached_urls out is one naming memcached_urls.
func TestLoadLocal(t *testing.T) {
	t.Parallel()
	const base = `
[plugin.htpasswd]
use = "htpasswd"
filename = "../../examples/passwd"

[plugin.cache]
use = "memcached"
authenticator_name = "htpasswd"
URLS
NEAR

[authenticators]
plugins = ["cache", "htpasswd;unused"]
`
	for _, tc := range []struct{ urls, near, want string }{
		{"memcached_urls = []", `near_cache_ttl = "30s"`, ""},
		{"memcached_urls = []", "", "set near_cache_ttl"},
		{"", `near_cache_ttl = "30s"`, "memcached_urls"},
	} {
		src := strings.NewReplacer("URLS", tc.urls, "NEAR", tc.near).Replace(base)
		chain, err := config.Parse("who.toml", []byte(src), config.Options{})
		if tc.want == "" {
			if err != nil {
				t.Fatalf("%q %q: %v", tc.urls, tc.near, err)
			}
			chain.Close()
			continue
		}
		if err == nil {
			chain.Close()
			t.Fatalf("%q %q: loaded; want an error naming %q", tc.urls, tc.near, tc.want)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%q %q: err = %v, want one saying %q", tc.urls, tc.near, err, tc.want)
		}
		t.Logf("%s", err)
	}
}
