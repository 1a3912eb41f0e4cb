package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
)

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

// BenchmarkAuthTkt compares an auth_tkt-authenticated request through
// gowho (ticket parse + digest check + identity) with the bare handler,
// gorilla/sessions CookieStore Get+Save and scs LoadAndSave (memstore).
//
//	cd bench && go test -run=^$ -bench=AuthTkt -benchmem -count=6 | tee /tmp/authtkt.txt && benchstat /tmp/authtkt.txt
func BenchmarkAuthTkt(b *testing.B) {
	b.Run("impl=bare", func(b *testing.B) { serve(b, sessHello, nil) })
	b.Run("impl=gowho-authtkt", func(b *testing.B) {
		h, c := tktChain(b)
		serve(b, h, c)
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

// BenchmarkAuthTktRatio serves one request of each kind per iteration and
// times each, so a shared machine's load weighs on all alike; it reports
// each implementation's time as a multiple of the bare handler's.
func BenchmarkAuthTktRatio(b *testing.B) {
	gh, gc := tktChain(b)
	gor := gorillaHandler()
	sc := scsHandler()
	impls := []struct {
		name string
		h    http.Handler
		c    *http.Cookie
	}{
		{"bare", sessHello, nil},
		{"gowho", gh, gc},
		{"gorilla", gor, loginCookie(b, gor)},
		{"scs", sc, loginCookie(b, sc)},
	}
	reqs := make([]*http.Request, len(impls))
	for i, im := range impls {
		reqs[i] = httptest.NewRequest(http.MethodGet, "/", nil)
		if im.c != nil {
			reqs[i].AddCookie(im.c)
		}
	}
	w := &discardWriter{h: http.Header{}}
	ctx := context.Background()
	spent := make([]time.Duration, len(impls))
	for b.Loop() {
		for i, im := range impls {
			w.reset()
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
