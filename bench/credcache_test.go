package bench

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/plugins/basicauth"
	"github.com/gowho/gowho/plugins/htpasswd"
	"github.com/gowho/gowho/plugins/memcached"
	"github.com/gowho/gowho/who"
)

// bcryptPasswd is examples/passwd: alice / wonderland, bcrypt cost 10.
const bcryptPasswd = "../examples/passwd"

// aliceBasic is the Authorization header of alice / wonderland.
var aliceBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))

// basicBcryptChain builds basicauth (identifier and challenger) in front of
// htpasswd over examples/passwd (bcrypt, cost 10), wrapped by the
// memcached plugin with memcached_urls = [] and near_cache_ttl (the
// in-process credential cache of issue 14 item 2) when cached is set.
func basicBcryptChain(b *testing.B, cached bool) http.Handler {
	b.Helper()
	ba, err := basicauth.New(basicauth.Options{Realm: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	hp, err := htpasswd.New(htpasswd.Options{Filename: bcryptPasswd})
	if err != nil {
		b.Fatal(err)
	}
	var auth who.Authenticator = hp
	if cached {
		c, err := memcached.New(memcached.Options{
			MemcachedURLs:     who.Words{},
			AuthenticatorName: "htpasswd",
			Authenticator:     hp,
			NearCacheTTL:      who.Duration(5 * time.Minute),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		auth = c
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
		Authenticators: []who.Entry{{Name: "htpasswd", Plugin: auth}},
		Challengers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return m.Wrap(hello)
}

// BenchmarkCredCache serves one request per iteration, in process: an
// auth_tkt cookie (the baseline), and Basic alice / wonderland against a
// bcrypt (cost 10) htpasswd behind the in-process credential cache
// (memcached_urls = [], near_cache_ttl = "5m"); impl=basic-bcrypt-nocache
// is the same without the cache, one bcrypt per request (issue 14 item
// 2: the cached request at least 0.8x the auth_tkt one).
//
//	cd bench && go test -run '^$' -bench CredCache -benchmem -count 6 | tee /tmp/credcache.txt && benchstat /tmp/credcache.txt
func BenchmarkCredCache(b *testing.B) {
	b.Run("impl=authtkt", func(b *testing.B) {
		h, c := tktChain(b)
		serve(b, h, c)
	})
	for _, tc := range []struct {
		name   string
		cached bool
	}{{"basic-bcrypt-cached", true}, {"basic-bcrypt-nocache", false}} {
		b.Run("impl="+tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", aliceBasic)
			h := basicBcryptChain(b, tc.cached)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Body.String() != "hello, alice" {
				b.Fatalf("not logged in: %d %q", rec.Code, rec.Body.String())
			}
			w := &discardWriter{h: http.Header{}}
			ctx := r.Context()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, r.WithContext(ctx))
			}
		})
	}
}

// BenchmarkWrkCredCache loads two servers in this process with wrk (1
// thread, 8 connections, GOWHO_WRK_DURATION each, as BenchmarkWrkCookieGET):
// the auth_tkt cookie chain and Basic alice / wonderland against a bcrypt
// (cost 10) htpasswd behind the in-process credential cache, in the order
// authtkt, cached, cached, authtkt so a drift in the machine's load weighs
// on both alike; then the uncached Basic chain once, for the record. It
// reports each one's requests per second and cached/authtkt (issue 14
// item 2: goal at least 0.8), and this process's CPU time per request
// of each (the server's; wrk runs apart), whose inverse ratio
// cpu-authtkt/cached a loaded machine distorts far less. It is skipped
// when wrk is not on PATH.
//
//	cd bench && go test -run '^$' -bench WrkCredCache -benchtime 1x -count 6 | tee /tmp/wrk-credcache.txt && benchstat /tmp/wrk-credcache.txt
func BenchmarkWrkCredCache(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not on PATH")
	}
	tkt, cookie := tktChain(b)
	servers := map[string]*httptest.Server{
		"authtkt": httptest.NewServer(tkt),
		"cached":  httptest.NewServer(basicBcryptChain(b, true)),
		"nocache": httptest.NewServer(basicBcryptChain(b, false)),
	}
	headers := map[string]string{
		"authtkt": "Cookie: " + cookie.String(),
		"cached":  "Authorization: " + aliceBasic,
		"nocache": "Authorization: " + aliceBasic,
	}
	for name, srv := range servers {
		defer srv.Close()
		want := map[string]string{"authtkt": "hello", "cached": "hello, alice", "nocache": "hello, alice"}[name]
		if got := getWithHeader(b, srv, headers[name]); got != want {
			b.Fatalf("%s server answered %q, want %q", name, got, want)
		}
	}
	rps := map[string]float64{}
	cpu := map[string]time.Duration{} // this process's CPU time: the server's
	reqs := map[string]float64{}
	load := func(name string) float64 {
		c0, t0 := processCPU(), time.Now()
		r := runWrk(b, wrk, servers[name].URL, headers[name])
		cpu[name] += processCPU() - c0
		reqs[name] += r * time.Since(t0).Seconds()
		return r
	}
	b.ResetTimer()
	for _, name := range []string{"authtkt", "cached", "cached", "authtkt"} {
		rps[name] += load(name) / 2
	}
	rps["nocache"] = load("nocache")
	b.ReportMetric(rps["authtkt"], "authtkt-req/s")
	b.ReportMetric(rps["cached"], "basic-cached-req/s")
	b.ReportMetric(rps["nocache"], "basic-nocache-req/s")
	b.ReportMetric(rps["cached"]/rps["authtkt"], "cached/authtkt")
	// CPU per request, which the machine's other load does not distort
	// as it does req/s; authtkt/cached is the throughput ratio an idle
	// machine would give where the server is CPU-bound.
	perReq := func(name string) float64 { return float64(cpu[name].Microseconds()) / max(reqs[name], 1) }
	b.ReportMetric(perReq("authtkt"), "authtkt-cpu-us/req")
	b.ReportMetric(perReq("cached"), "basic-cached-cpu-us/req")
	if perReq("cached") > 0 {
		b.ReportMetric(perReq("authtkt")/perReq("cached"), "cpu-authtkt/cached")
	}
}

// getWithHeader GETs srv's root with one "Name: value" header and returns
// the body.
func getWithHeader(b *testing.B, srv *httptest.Server, header string) string {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	name, value, _ := strings.Cut(header, ": ")
	req.Header.Set(name, value)
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
	return string(body)
}
