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

	"github.com/gowho/gowho/plugins/sessionid"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
	"github.com/gowho/gowho/who"
)

// sessHello is the handler behind every session benchmark.
var sessHello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "hello")
})

// sessPassword accepts login == password.
type sessPassword struct{}

func (sessPassword) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	if l := id.Str(who.KeyLogin); l != "" && l == id.Str(who.KeyPassword) {
		return l, nil
	}
	return "", nil
}

// gowhoSession returns a handler whose requests are identified by the
// sessionid plugin from a session in st, and a cookie logged in as alice.
func gowhoSession(b *testing.B, st session.Store) (http.Handler, *http.Cookie) {
	m, err := session.New(session.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	sid, err := sessionid.New(sessionid.Options{Manager: m})
	if err != nil {
		b.Fatal(err)
	}
	chain, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "sessionid", Plugin: sid}},
		Authenticators: []who.Entry{{Name: "sessionid", Plugin: sid}, {Name: "pw", Plugin: sessPassword{}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Wrap(chain.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			who.APIFrom(r).Login(who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice"}, "")
		}
		if who.UserID(r.Context()) != "alice" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "hello")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		b.Fatalf("login set %d cookies", len(cs))
	}
	return h, cs[0]
}

func gorillaHandler() http.Handler {
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

func scsHandler() http.Handler {
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

// loginCookie logs in through h and returns the cookie it set.
func loginCookie(b *testing.B, h http.Handler) *http.Cookie {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	cs := rec.Result().Cookies()
	if len(cs) == 0 {
		b.Fatal("login set no cookie")
	}
	return cs[0]
}

// serve runs h on a logged-in request per iteration, after checking the
// first answer is the logged-in one. Each iteration gets its own shallow
// request copy, because gorilla/sessions caches the session in the
// request it is given. The bare, gowho, gorilla and scs benchmarks of
// every file share it and the handlers above.
func serve(b *testing.B, h http.Handler, c *http.Cookie) {
	base := httptest.NewRequest(http.MethodGet, "/", nil)
	if c != nil {
		base.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, base.WithContext(context.Background()))
	if rec.Code != http.StatusOK {
		b.Fatalf("not logged in: %d", rec.Code)
	}
	w := &discardWriter{h: http.Header{}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, base.WithContext(ctx))
	}
}

// BenchmarkSession compares a request whose identity comes from a
// session: gowho (cookie store + sessionid), gorilla/sessions CookieStore
// (Get + Save, encrypted), scs LoadAndSave (memstore), and a bare
// handler.
func BenchmarkSession(b *testing.B) {
	b.Run("impl=bare", func(b *testing.B) { serve(b, sessHello, nil) })
	b.Run("impl=gowho-cookie", func(b *testing.B) {
		st, err := cookiestore.New(cookiestore.Options{Secret: "0123456789abcdef0123456789abcdef"})
		if err != nil {
			b.Fatal(err)
		}
		h, c := gowhoSession(b, st)
		serve(b, h, c)
	})
	b.Run("impl=gowho-cookie-session-only", func(b *testing.B) {
		// The session layer alone: the manager and the cookie store, the
		// handler reading the user from the session itself (no who chain).
		st, err := cookiestore.New(cookiestore.Options{Secret: "0123456789abcdef0123456789abcdef"})
		if err != nil {
			b.Fatal(err)
		}
		m, err := session.New(session.Options{Store: st})
		if err != nil {
			b.Fatal(err)
		}
		h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r)
			if r.URL.Path == "/login" {
				_ = s.Set("user", "alice")
			}
			if s.GetString("user") != "alice" {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			_, _ = io.WriteString(w, "hello")
		}))
		serve(b, h, loginCookie(b, h))
	})
	b.Run("impl=gorilla-cookie", func(b *testing.B) {
		h := gorillaHandler()
		serve(b, h, loginCookie(b, h))
	})
	b.Run("impl=scs-memstore", func(b *testing.B) {
		h := scsHandler()
		serve(b, h, loginCookie(b, h))
	})
}

// BenchmarkSessionRatio serves one request of each kind per iteration,
// timing each, so a shared machine's load weighs on all alike; it reports
// how many times slower gorilla and scs are than gowho.
func BenchmarkSessionRatio(b *testing.B) {
	st, err := cookiestore.New(cookiestore.Options{Secret: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	gh, gc := gowhoSession(b, st)
	gor := gorillaHandler()
	scsH := scsHandler()
	cases := []struct {
		h http.Handler
		r *http.Request
		t time.Duration
	}{{h: gh}, {h: gor}, {h: scsH}}
	for i, c := range []*http.Cookie{gc, loginCookie(b, gor), loginCookie(b, scsH)} {
		cases[i].r = httptest.NewRequest(http.MethodGet, "/", nil)
		cases[i].r.AddCookie(c)
	}
	w := &discardWriter{h: http.Header{}}
	ctx := context.Background()
	for b.Loop() {
		for i := range cases {
			w.reset()
			t0 := time.Now()
			cases[i].h.ServeHTTP(w, cases[i].r.WithContext(ctx))
			cases[i].t += time.Since(t0)
		}
	}
	b.ReportMetric(float64(cases[1].t)/float64(cases[0].t), "gorilla/gowho")
	b.ReportMetric(float64(cases[2].t)/float64(cases[0].t), "scs/gowho")
}
