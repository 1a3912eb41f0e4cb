package memcachestore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/plugins/sessionid"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memcachestore"
	"github.com/gowho/gowho/who"
)

// benchWriter is a reusable ResponseWriter.
type benchWriter struct{ h http.Header }

func (d *benchWriter) Header() http.Header         { return d.h }
func (d *benchWriter) WriteHeader(int)             {}
func (d *benchWriter) Write(p []byte) (int, error) { return len(p), nil }

type benchPassword struct{}

func (benchPassword) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	if l := id.Str(who.KeyLogin); l != "" && l == id.Str(who.KeyPassword) {
		return l, nil
	}
	return "", nil
}

// BenchmarkSessionMemcached compares the memcached store's cost per
// request with a raw gomemcache Get of a value of the same size:
//
//   - raw-get and store-load: the Get alone, and the store's Load;
//   - bare+raw-get: a bare handler that does a raw Get (what any
//     memcached-backed session costs at the least);
//   - gowho-request: a request identified by sessionid from a session in
//     memcached (manager, who chain, store, codec).
func BenchmarkSessionMemcached(b *testing.B) {
	srv := testserver.Memcached(b)
	st, err := memcachestore.New(memcachestore.Options{Servers: []string{srv.Addr}})
	if err != nil {
		b.Fatal(err)
	}
	m, _ := session.New(session.Options{Store: st})
	sid, _ := sessionid.New(sessionid.Options{Manager: m})
	chain, _ := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "sessionid", Plugin: sid}},
		Authenticators: []who.Entry{{Name: "sessionid", Plugin: sid}, {Name: "pw", Plugin: benchPassword{}}},
	})
	h := m.Wrap(chain.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			who.APIFrom(r).Login(who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice"}, "")
		}
		if who.UserID(r.Context()) != "alice" {
			b.Fatal("not logged in")
		}
		_, _ = io.WriteString(w, "hello")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	cookie := rec.Result().Cookies()[0]

	raw := memcache.New(srv.Addr)
	raw.MaxIdleConns = 8
	it, err := raw.Get(memcachestore.DefaultPrefix + cookie.Value)
	if err != nil {
		b.Fatal(err)
	}
	rawKey := "raw:" + cookie.Value
	if err := raw.Set(&memcache.Item{Key: rawKey, Value: it.Value}); err != nil {
		b.Fatal(err)
	}
	b.Logf("session record: %d bytes", len(it.Value))

	b.Run("raw-get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := raw.Get(rawKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store-load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, found, err := st.Load(context.Background(), cookie.Value); !found || err != nil {
				b.Fatal(found, err)
			}
		}
	})
	base := httptest.NewRequest(http.MethodGet, "/", nil)
	base.AddCookie(cookie)
	w := &benchWriter{h: http.Header{}}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := raw.Get(rawKey); err != nil {
			b.Fatal(err)
		}
		_, _ = io.WriteString(w, "hello")
	})
	// Interleaved: each iteration serves one request of each kind and
	// times them separately, so the load of a shared machine weighs on
	// both alike; the ratio is reported as x-bare.
	b.Run("ratio", func(b *testing.B) {
		ctx := context.Background()
		var tBare, tGowho time.Duration
		for b.Loop() {
			clear(w.h)
			t0 := time.Now()
			bare.ServeHTTP(w, base.WithContext(ctx))
			t1 := time.Now()
			clear(w.h)
			h.ServeHTTP(w, base.WithContext(ctx))
			t2 := time.Now()
			tBare += t1.Sub(t0)
			tGowho += t2.Sub(t1)
		}
		b.ReportMetric(float64(tGowho)/float64(tBare), "x-bare")
		b.ReportMetric(float64(tGowho-tBare)/float64(b.N), "ns-extra/op")
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare+raw-get", bare}, {"gowho-request", h}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, base.WithContext(ctx))
			}
		})
	}
}
