package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// BenchmarkAuthTktOverhead is BenchmarkAuthTktRatio for the bare handler
// and gowho's auth_tkt chain alone, in batches: each iteration serves
// overheadBatch requests of one, then as many of the other (each a fresh
// shallow request copy, as in BenchmarkAuthTkt), timing each batch, so a
// machine loaded by other work weighs on both alike and no third library's
// garbage is collected on their time. It reports each one's wall time per
// request and gowho/bare, and on Linux the same from the CPU time of the
// serving thread (cpu-gowho/bare), which a machine shared with other
// processes does not inflate; it counts each request's allocations and GC
// assists but not the collector's background work.
//
//	cd bench && go test -run '^$' -bench AuthTktOverhead -count 10 | tee /tmp/o.txt && benchstat /tmp/o.txt
func BenchmarkAuthTktOverhead(b *testing.B) {
	const overheadBatch = 256
	gh, gc := tktChain(b)
	bare := httptest.NewRequest(http.MethodGet, "/", nil)
	withCookie := httptest.NewRequest(http.MethodGet, "/", nil)
	withCookie.AddCookie(gc)
	w := &discardWriter{h: http.Header{}}
	gh.ServeHTTP(w, withCookie)
	if w.code != 0 && w.code != http.StatusOK {
		b.Fatalf("not logged in: %d", w.code)
	}
	ctx := context.Background()
	var wall, cpu [2]time.Duration
	batch := func(i int, h http.Handler, r *http.Request) {
		t0, c0 := time.Now(), threadCPU()
		for range overheadBatch {
			w.reset()
			h.ServeHTTP(w, r.WithContext(ctx))
		}
		wall[i] += time.Since(t0)
		cpu[i] += threadCPU() - c0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	for b.Loop() {
		batch(0, sessHello, bare)
		batch(1, gh, withCookie)
	}
	n := float64(b.N * overheadBatch)
	b.ReportMetric(float64(wall[0].Nanoseconds())/n, "bare-ns/req")
	b.ReportMetric(float64(wall[1].Nanoseconds())/n, "gowho-ns/req")
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "gowho/bare")
	if cpu[0] > 0 {
		b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-gowho/bare")
	}
}
