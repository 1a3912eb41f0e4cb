package oidctest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/oidctest/internal/provider"
)

// BenchmarkCookieCheck is the request TestSideBySideOAuth2Proxy measures
// with wrk, in process: GET /private on the site of newSite (oidc
// identifier and authenticator, auth_tkt rememberer, the session manager
// around the middleware) with the cookies alice's login left, answered
// 200 "hello u-alice alice@...". Issue 15 item 4.
func BenchmarkCookieCheck(b *testing.B) {
	p := provider.Start(b)
	s := newSite(b, p, nil)
	cookie, page := browse(b, p, s.URL+"/private", s.URL)
	if !hasHello(page, "u-alice") {
		b.Fatalf("gowho did not log alice in: %q", page)
	}
	h := s.Server.Config.Handler
	req := httptest.NewRequest(http.MethodGet, s.URL+"/private", nil)
	req.Header.Set("Cookie", cookie)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if w.code != http.StatusOK {
		b.Fatalf("the cookie check answered %d, want 200", w.code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, req)
	}
	if w.code != http.StatusOK {
		b.Fatalf("the cookie check answered %d, want 200", w.code)
	}
}

// discardWriter is an http.ResponseWriter that keeps the status and
// drops the body, so the benchmark measures the handler, not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(b), nil
}
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
