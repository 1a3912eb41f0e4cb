package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/plugins/basicauth"
	"github.com/gowho/gowho/who"
)

// hello is the downstream handler every benchmark serves.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	user := who.UserID(r.Context())
	if user == "" {
		user = "anonymous"
	}
	_, _ = io.WriteString(w, "hello, "+user)
})

// discardWriter is a reusable ResponseWriter, so the benchmarks measure
// the handlers, not a recorder's buffers.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) reset()                      { clear(d.h); d.code = 0 }

// nobody is an authenticator that accepts no one.
type nobody struct{}

func (nobody) Authenticate(*http.Request, who.Identity) (string, error) { return "", nil }

func basicChain(b *testing.B) http.Handler {
	ba, err := basicauth.New(basicauth.Options{Realm: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
		Authenticators: []who.Entry{{Name: "nobody", Plugin: nobody{}}},
		Challengers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return m.Wrap(hello)
}

// BenchmarkCore measures the chain's own cost: an anonymous request
// (basicauth finds no Authorization header) through the middleware, against
// the bare handler, on a reused request and writer.
func BenchmarkCore(b *testing.B) {
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"impl=bare", hello},
		{"impl=gowho-anonymous", basicChain(b)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkCoreHTTP is the same comparison as a client sees it: one request
// at a time over loopback to a real net/http server.
func BenchmarkCoreHTTP(b *testing.B) {
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"impl=bare", hello},
		{"impl=gowho-anonymous", basicChain(b)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			client := srv.Client()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
