package bench

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/plugins/memcached"
	"github.com/gowho/gowho/who"
)

// TestExampleLDAPToml loads examples/ldap.toml (its addresses pointed at
// a real slapd and memcached started for the test) and logs in through it:
// the userid, the attributes and the groups arrive, and the second login
// is a cache hit.
func TestExampleLDAPToml(t *testing.T) {
	slapd := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	mc := testserver.Memcached(t)
	data, err := os.ReadFile("../examples/ldap.toml")
	if err != nil {
		t.Fatal(err)
	}
	toml := strings.NewReplacer("ldap://127.0.0.1:13890", slapd.URL, "127.0.0.1:11311", mc.Addr).Replace(string(data))
	env := map[string]string{"WHO_CACHE_SECRET": "example secret", "LDAP_READER_PASSWORD": testserver.ReaderPassword}
	chain, err := config.Parse("../examples/ldap.toml", []byte(toml), config.Options{
		Logger:    quietLog(),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	var got who.Identity
	h := chain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if res := who.ResultFrom(r.Context()); res != nil {
			got = res.Identity
		}
	}))
	for i := range 2 {
		got = nil
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.SetBasicAuth("ALICE", "alice-pass")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got.Str(who.KeyUserID) != "alice" {
			t.Fatalf("login %d: identity %v", i, map[string]any(got.Public()))
		}
		if g, _ := got["groups"].([]string); strings.Join(g, ",") != "admins,editors,users" {
			t.Fatalf("login %d: groups %#v", i, got["groups"])
		}
		if m, _ := got["mail"].([]string); len(m) != 1 || m[0] != "alice@example.org" {
			t.Fatalf("login %d: mail %#v", i, got["mail"])
		}
	}
	p, _ := chain.Plugin("cached_ldap")
	if s := p.(*memcached.Cache).Stats(); s.BackendCalls != 2 || s.Hits+s.NearHits != 2 {
		t.Fatalf("cache stats %+v: want 2 backend calls (authenticate, metadata) then 2 hits", s)
	}
}
