package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/sessions"
	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
)

// tktHello answers 200 with the user, 403 without one.
var tktHello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "hello")
})

type tktWriter struct{ h http.Header }

func (d *tktWriter) Header() http.Header         { return d.h }
func (d *tktWriter) WriteHeader(int)             {}
func (d *tktWriter) Write(p []byte) (int, error) { return len(p), nil }

// tktChain is who.New with auth_tkt as identifier and authenticator.
func tktChain(b *testing.B) (http.Handler, *http.Cookie) {
	p, err := authtkt.New(authtkt.Options{Secret: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "auth_tkt", Plugin: p}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: p}},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who.UserID(r.Context()) != "alice" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "hello")
	}))
	v, err := authtkt.Ticket{UserID: "alice", Tokens: []string{"admin"}, Time: time.Now()}.Cookie("0123456789abcdef0123456789abcdef", "md5")
	if err != nil {
		b.Fatal(err)
	}
	return h, &http.Cookie{Name: "auth_tkt", Value: v, Quoted: true}
}

func tktGorilla() http.Handler {
	store := sessions.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"), []byte("0123456789abcdef0123456789abcdef"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, "session")
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if r.URL.Path == "/login" {
			s.Values["user"] = "alice"
		}
		if err := s.Save(r, w); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if s.Values["user"] != "alice" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "hello")
	})
}

func tktSCS() http.Handler {
	sm := scs.New() // memstore
	return sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			sm.Put(r.Context(), "user", "alice")
		}
		if sm.GetString(r.Context(), "user") != "alice" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "hello")
	}))
}

func tktLogin(b *testing.B, h http.Handler) *http.Cookie {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	cs := rec.Result().Cookies()
	if len(cs) == 0 {
		b.Fatal("login set no cookie")
	}
	return cs[0]
}

// tktServe runs h on a logged-in request per iteration (a shallow copy
// each time, as gorilla caches its session in the request), checking the
// first answer is the logged-in one.
func tktServe(b *testing.B, h http.Handler, c *http.Cookie) {
	base := httptest.NewRequest(http.MethodGet, "/", nil)
	if c != nil {
		base.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, base.WithContext(context.Background()))
	if rec.Code != http.StatusOK {
		b.Fatalf("not logged in: %d", rec.Code)
	}
	w := &tktWriter{h: http.Header{}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, base.WithContext(ctx))
	}
}

// BenchmarkAuthTkt compares an auth_tkt-authenticated request through
// gowho (ticket parse + digest check + identity) with the bare handler,
// gorilla/sessions CookieStore Get+Save and scs LoadAndSave (memstore).
//
//	cd bench && go test -run=^$ -bench=AuthTkt -benchmem -count=6 | tee /tmp/authtkt.txt && benchstat /tmp/authtkt.txt
func BenchmarkAuthTkt(b *testing.B) {
	b.Run("impl=bare", func(b *testing.B) { tktServe(b, tktHello, nil) })
	b.Run("impl=gowho-authtkt", func(b *testing.B) {
		h, c := tktChain(b)
		tktServe(b, h, c)
	})
	b.Run("impl=gorilla-cookie", func(b *testing.B) {
		h := tktGorilla()
		tktServe(b, h, tktLogin(b, h))
	})
	b.Run("impl=scs-memstore", func(b *testing.B) {
		h := tktSCS()
		tktServe(b, h, tktLogin(b, h))
	})
}

// BenchmarkAuthTktRatio serves one request of each kind per iteration and
// times each, so a shared machine's load weighs on all alike; it reports
// each implementation's time as a multiple of the bare handler's.
func BenchmarkAuthTktRatio(b *testing.B) {
	gh, gc := tktChain(b)
	gor := tktGorilla()
	sc := tktSCS()
	impls := []struct {
		name string
		h    http.Handler
		c    *http.Cookie
	}{
		{"bare", tktHello, nil},
		{"gowho", gh, gc},
		{"gorilla", gor, tktLogin(b, gor)},
		{"scs", sc, tktLogin(b, sc)},
	}
	reqs := make([]*http.Request, len(impls))
	for i, im := range impls {
		reqs[i] = httptest.NewRequest(http.MethodGet, "/", nil)
		if im.c != nil {
			reqs[i].AddCookie(im.c)
		}
	}
	w := &tktWriter{h: http.Header{}}
	ctx := context.Background()
	spent := make([]time.Duration, len(impls))
	for b.Loop() {
		for i, im := range impls {
			clear(w.h)
			r := reqs[i].WithContext(ctx)
			t0 := time.Now()
			im.h.ServeHTTP(w, r)
			spent[i] += time.Since(t0)
		}
	}
	for i := 1; i < len(impls); i++ {
		b.ReportMetric(float64(spent[i])/float64(spent[0]), impls[i].name+"/bare")
	}
}
