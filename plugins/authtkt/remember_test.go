package authtkt

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// TestRememberReusesIdentifiedTicket: in a chain, Remember reuses the
// ticket Identify verified for the request, and still answers as a fresh
// look at the request would when the handler changed what the answer
// depends on (the cookies, the client address with include_ip, the clock
// with a timeout).
func TestRememberReusesIdentifiedTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       Options
		remote     string
		ticketIP   string
		change     func(r *http.Request, now *atomic.Int64)
		wantCookie bool
	}{
		{"unchanged request: no new cookie", Options{}, "", "", nil, false},
		{"cookie removed: a new cookie", Options{}, "", "", func(r *http.Request, _ *atomic.Int64) {
			r.Header.Del("Cookie")
		}, true},
		{"cookie replaced by another user's: a new cookie", Options{}, "", "", func(r *http.Request, _ *atomic.Int64) {
			r.Header.Set("Cookie", "auth_tkt="+mustCookie(Ticket{UserID: "bob", Tokens: []string{"admin"}, Time: t1700}, "md5"))
		}, true},
		{"cookie value changed in place: a new cookie", Options{}, "", "", func(r *http.Request, _ *atomic.Int64) {
			r.Header["Cookie"][0] = "auth_tkt=junk"
		}, true},
		{"timeout passed during the request: a new cookie", Options{Timeout: who.Duration(time.Hour)}, "", "", func(_ *http.Request, now *atomic.Int64) {
			now.Add(3601)
		}, true},
		{"timeout not passed: no new cookie", Options{Timeout: who.Duration(time.Hour)}, "", "", func(_ *http.Request, now *atomic.Int64) {
			now.Add(60)
		}, false},
		{"include_ip, same address: no new cookie", Options{IncludeIP: true}, "192.0.2.1:5000", "192.0.2.1", nil, false},
		// The client address is the request's origin, which the middleware
		// resolves once before any plugin runs (who.RequestOrigin): a
		// handler changing RemoteAddr changes neither it nor the answer.
		{"include_ip, RemoteAddr changed by the handler: the origin's client stays, no new cookie", Options{IncludeIP: true}, "192.0.2.1:5000", "192.0.2.1", func(r *http.Request, _ *atomic.Int64) {
			r.RemoteAddr = "198.51.100.7:5000"
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var now atomic.Int64
			now.Store(t1700.Unix())
			o := tc.opts
			o.Now = func() time.Time { return time.Unix(now.Load(), 0) }
			p := mustNew(t, o)
			h := wrap(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if who.UserID(r.Context()) != "alice" {
					t.Errorf("not identified")
				}
				if tc.change != nil {
					tc.change(r, &now)
				}
				_, _ = w.Write([]byte("ok"))
			}))
			tk := Ticket{UserID: "alice", Tokens: []string{"admin"}, Time: t1700}
			if tc.ticketIP != "" {
				tk.IP = net.ParseIP(tc.ticketIP)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req("h", tc.remote, "auth_tkt="+mustCookie(tk, "md5")))
			if got := rec.Header()["Set-Cookie"] != nil; got != tc.wantCookie {
				t.Errorf("Set-Cookie %q, want one: %v", rec.Header()["Set-Cookie"], tc.wantCookie)
			}
		})
	}
}

// TestIdentifyTokens: the identity's tokens are as strings.Split gives
// them, for few and many tokens, cached or verified afresh, and each
// identity's own: changing one (in place or by append) changes no other.
func TestIdentifyTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tokens []string
		opts   Options // IncludeIP: verified without the cache
	}{
		{"none", nil, Options{}},
		{"one", []string{"admin"}, Options{}},
		{"four", []string{"a", "b", "c", "d"}, Options{}},
		{"five", []string{"a", "b", "c", "d", "e"}, Options{}},
		{"uncached one", []string{"admin"}, Options{IncludeIP: true}},
		{"uncached four", []string{"a", "b", "c", "d"}, Options{IncludeIP: true}},
		{"uncached five", []string{"a", "b", "c", "d", "e"}, Options{IncludeIP: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, tc.opts)
			tk := Ticket{UserID: "alice", Tokens: tc.tokens, Time: t1700}
			if tc.opts.IncludeIP {
				tk.IP = net.ParseIP("192.0.2.1")
			}
			c := "auth_tkt=" + mustCookie(tk, "md5")
			var ids []who.Identity
			for range 3 {
				id, err := p.Identify(req("h", "192.0.2.1:1", c))
				if err != nil || id == nil {
					t.Fatalf("Identify = %v, %v", id, err)
				}
				got, _ := id[who.KeyTokens].([]string)
				if !slices.Equal(got, tc.tokens) || (got == nil) != (tc.tokens == nil) {
					t.Fatalf("tokens %q, want %q", got, tc.tokens)
				}
				ids = append(ids, id)
			}
			if tc.tokens == nil {
				return
			}
			first := ids[0][who.KeyTokens].([]string)
			first[0] = "changed"
			_ = append(first, "appended")
			grown := append(ids[1][who.KeyTokens].([]string), "x")
			grown[0] = "grown"
			if got := ids[2][who.KeyTokens].([]string); !slices.Equal(got, tc.tokens) {
				t.Errorf("another identity's change reached this one: %q", got)
			}
			if got := ids[1][who.KeyTokens].([]string); !slices.Equal(got, tc.tokens) {
				t.Errorf("append wrote into the identity's tokens: %q", got)
			}
		})
	}
}
