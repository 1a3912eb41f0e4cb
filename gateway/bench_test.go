package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/gowho/gowho/plugins/authtkt"
)

// BenchmarkForwardAuth measures the forward-auth decision for a valid
// auth_tkt cookie, as nginx asks it, against the same chain in front of
// a handler that answers 200 (what `who serve` does for a cookie
// request), in process:
//
//	go test -run '^$' -bench ForwardAuth -benchmem -count 6 ./gateway | tee /tmp/fa.txt && benchstat /tmp/fa.txt
func BenchmarkForwardAuth(b *testing.B) {
	f := newFixture(b, nil)
	v, err := authtkt.Ticket{UserID: "alice", Time: time.Now()}.Cookie("gateway-test-secret-0123456789abcdef-0123456789", "sha256")
	if err != nil {
		b.Fatal(err)
	}
	cookie := "auth_tkt=" + v
	chain := f.g.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	run := func(b *testing.B, h http.Handler, path string, headers map[string]string) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest("GET", path, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("Cookie", cookie)
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	}
	b.Run("chain", func(b *testing.B) { run(b, chain, "/x", nil) })
	nginx := map[string]string{"X-Original-URI": "/x", "X-Original-Method": "GET", "Host": "app.example"}
	b.Run("forward-auth", func(b *testing.B) { run(b, f.g, "/_who/auth", nginx) })
	// With assertion = true: an EdDSA JWT in every answer (cached per
	// user and audience for half its lifetime).
	fa := newFixture(b, func(c *Config, _ *Options) { c.Assertion = true; c.AssertionAudience = "app" })
	b.Run("forward-auth-assertion", func(b *testing.B) { run(b, fa.g, "/_who/auth", nginx) })
}

// BenchmarkReverseProxy measures a logged-in (auth_tkt) request through
// the gateway in reverse-proxy mode against a bare
// httputil.ReverseProxy to the same upstream, over loopback:
//
//	go test -run '^$' -bench ReverseProxy -benchmem -count 6 ./gateway | tee /tmp/rp.txt && benchstat /tmp/rp.txt
func BenchmarkReverseProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) }))
	b.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	bare := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() }})
	b.Cleanup(bare.Close)
	f := newFixture(b, withUpstream(up.URL))
	v, err := authtkt.Ticket{UserID: "alice", Time: time.Now()}.Cookie("gateway-test-secret-0123456789abcdef-0123456789", "sha256")
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, base string) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", base+"/x", nil)
				req.Header.Set("Cookie", "auth_tkt="+v)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	b.Run("bare", func(b *testing.B) { run(b, bare.URL) })
	b.Run("gateway", func(b *testing.B) { run(b, f.srv.URL) })
}
