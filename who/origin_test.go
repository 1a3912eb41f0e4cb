package who_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/gowho/gowho/who"
)

func mustProxies(t testing.TB, cidrs ...string) who.TrustedProxies {
	t.Helper()
	tp, err := who.ParseTrustedProxies(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      []string
		want    string // String(); "" with wantErr
		wantErr string
	}{
		{in: nil, want: ""},
		{in: []string{"127.0.0.1/32", "::1/128"}, want: "127.0.0.1/32, ::1/128"},
		{in: []string{"192.0.2.7"}, want: "192.0.2.7/32"},
		{in: []string{"2001:db8::7"}, want: "2001:db8::7/128"},
		{in: []string{"10.1.2.3/8"}, want: "10.0.0.0/8"},
		{in: []string{"::ffff:10.0.0.0/104"}, want: "10.0.0.0/8"},
		{in: []string{"::ffff:10.0.0.1"}, want: "10.0.0.1/32"},
		{in: []string{" 10.0.0.1 "}, want: "10.0.0.1/32"},
		{in: []string{"127.0.0.1/32", "localhost"}, wantErr: `trusted proxy 2 ("localhost"): not an IP address`},
		{in: []string{"10.0.0.0/33"}, wantErr: `trusted proxy 1 ("10.0.0.0/33"): not a CIDR prefix`},
		{in: []string{""}, wantErr: `trusted proxy 1 (""): empty`},
		{in: []string{"fe80::1%eth0"}, wantErr: "zone"},
		{in: []string{"::ffff:0:0/90"}, wantErr: "IPv4-mapped"},
	}
	for _, tt := range tests {
		tp, err := who.ParseTrustedProxies(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := tp.String(); got != tt.want {
			t.Errorf("%q: String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTrusts(t *testing.T) {
	tp := mustProxies(t, "10.0.0.0/8", "::1")
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"10.2.3.4", true}, {"::ffff:10.2.3.4", true}, {"11.0.0.1", false},
		{"::1", true}, {"::2", false}, {"fe80::1%eth0", false},
	} {
		if got := tp.Trusts(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Trusts(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if (who.TrustedProxies{}).Trusts(netip.MustParseAddr("127.0.0.1")) {
		t.Error("the zero TrustedProxies trusts 127.0.0.1")
	}
	if tp.Trusts(netip.Addr{}) {
		t.Error("the invalid Addr is trusted")
	}
}

func addr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func TestResolve(t *testing.T) {
	tp := mustProxies(t, "127.0.0.1/32", "10.0.0.0/8", "::1/128", "2001:db8:1::/48")
	type hdr = map[string][]string
	tests := []struct {
		name   string
		remote string
		host   string
		tls    bool
		h      hdr
		want   who.Origin
	}{
		{name: "direct, no headers", remote: "192.0.2.1:5555", host: "app.example",
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("192.0.2.1")}},
		{name: "direct TLS", remote: "192.0.2.1:5555", host: "app.example", tls: true,
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("192.0.2.1")}},
		{name: "untrusted peer: every header ignored", remote: "192.0.2.1:5555", host: "app.example",
			h: hdr{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"}, "X-Forwarded-For": {"203.0.113.9"},
				"X-Forwarded-Port": {"8443"}, "Forwarded": {"for=203.0.113.9;proto=https;host=evil.example"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("192.0.2.1")}},
		{name: "trusted peer without headers: its own values", remote: "127.0.0.1:4000", host: "app.example",
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("127.0.0.1")}},
		{name: "X-Forwarded from a trusted peer", remote: "127.0.0.1:4000", host: "127.0.0.1:8080",
			h:    hdr{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"}, "X-Forwarded-For": {"203.0.113.9"}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "X-Forwarded-Port joins the host, default port dropped", remote: "127.0.0.1:4000", host: "backend:8080",
			h:    hdr{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"}, "X-Forwarded-Port": {"443"}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "X-Forwarded-Port other than the default", remote: "127.0.0.1:4000", host: "backend:8080",
			h:    hdr{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"}, "X-Forwarded-Port": {"8443"}},
			want: who.Origin{Scheme: "https", Host: "app.example:8443", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "X-Forwarded-Port alone changes r.Host's port", remote: "127.0.0.1:4000", host: "app.example:8080",
			h:    hdr{"X-Forwarded-Port": {"9000"}},
			want: who.Origin{Scheme: "http", Host: "app.example:9000", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "X-Forwarded-Host with its own port keeps it", remote: "127.0.0.1:4000", host: "backend",
			h:    hdr{"X-Forwarded-Host": {"app.example:8443"}, "X-Forwarded-Port": {"9999"}, "X-Forwarded-Proto": {"https"}},
			want: who.Origin{Scheme: "https", Host: "app.example:8443", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "right-most untrusted hop of X-Forwarded-For", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"6.6.6.6, 203.0.113.9", "10.1.1.1"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "every hop trusted: the left-most", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"10.0.0.5, 10.1.1.1"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("10.0.0.5"), Proxied: true}},
		{name: "client-sent X-Forwarded-Proto appended to: the client's hop", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9"}, "X-Forwarded-Proto": {"https, http"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "lists of another length: the last value", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"https, http"}, "X-Forwarded-Host": {"evil.example, app2.example"}},
			want: who.Origin{Scheme: "http", Host: "app2.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "X-Forwarded-For with ports and IPv6", remote: "[::1]:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"[2001:db8:2::9]:1234, 10.0.0.1:80"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("2001:db8:2::9"), Proxied: true}},
		{name: "X-Forwarded-For bare IPv6", remote: "[::1]:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"2001:db8:2::9"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("2001:db8:2::9"), Proxied: true}},
		{name: "X-Forwarded-For unknown: client invalid", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"203.0.113.9, unknown"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Proxied: true}},
		{name: "bad proto ignored", remote: "127.0.0.1:4000", host: "app.example", tls: true,
			h:    hdr{"X-Forwarded-Proto": {"ftp"}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "proto any case", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-Proto": {"HTTPS"}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "host with userinfo ignored", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-Host": {"user@evil.example"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "host with a space ignored", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-Host": {"evil.example x"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "host with a path ignored", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-Host": {"evil.example/x"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "host with a control ignored", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-Host": {"evil.example\x01"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "host with a bad port ignored", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-Host": {"evil.example:99999"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "IPv6 literal host", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"X-Forwarded-Host": {"[2001:db8::1]:8443"}},
			want: who.Origin{Scheme: "http", Host: "[2001:db8::1]:8443", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "Forwarded from a trusted peer", remote: "127.0.0.1:4000", host: "backend:8080",
			h:    hdr{"Forwarded": {`for=203.0.113.9;proto=https;host=app.example`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded wins over X-Forwarded", remote: "127.0.0.1:4000", host: "backend:8080",
			h: hdr{"Forwarded": {`for=203.0.113.9;proto=https;host=app.example`},
				"X-Forwarded-For": {"198.51.100.1"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"other.example"}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded quoted IPv6 with port, names any case", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`For="[2001:db8:cafe::17]:4711";Proto=HTTPS`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("2001:db8:cafe::17"), Proxied: true}},
		{name: "Forwarded quoted IPv4 with port", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for="203.0.113.9:4711"`}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded several lines and elements", remote: "127.0.0.1:4000", host: "backend",
			h: hdr{"Forwarded": {`for=6.6.6.6;proto=http;host=evil.example, for=203.0.113.9;proto=https;host=app.example`,
				`for=10.0.0.2;proto=http;host=inner, for="[2001:db8:1::3]"`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded client element without proto: nearest trusted one to its right", remote: "127.0.0.1:4000", host: "backend",
			h:    hdr{"Forwarded": {`for=203.0.113.9, for=10.0.0.2;proto=https;host=app.example`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded unknown", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for=unknown;proto=https`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Proxied: true}},
		{name: "Forwarded obfuscated", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for=_hidden, for="_SEVKISEK:_port"`}},
			want: who.Origin{Scheme: "http", Host: "app.example", Proxied: true}},
		{name: "Forwarded obfuscated port", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for="203.0.113.9:_p1"`}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded quoted string with escapes and a comma", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for=203.0.113.9;ext="a,b\"c";proto=https`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded: a client's open quote cannot swallow the proxy's element", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for="1.1.1.1, for=203.0.113.9;proto=http`}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded: a client's quote closed by the proxy's", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for="x, for="[2001:db8:2::5]:80"`}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("2001:db8:2::5"), Proxied: true}},
		{name: "Forwarded malformed right-most element: client unknown", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for=203.0.113.9, for`}},
			want: who.Origin{Scheme: "http", Host: "app.example", Proxied: true}},
		{name: "Forwarded bad host ignored", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {`for=203.0.113.9;host="a b"`}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded bad proto ignored", remote: "127.0.0.1:4000", host: "app.example", tls: true,
			h:    hdr{"Forwarded": {`for=203.0.113.9;proto=gopher`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "Forwarded empty: X-Forwarded used", remote: "127.0.0.1:4000", host: "app.example",
			h:    hdr{"Forwarded": {" , "}, "X-Forwarded-Proto": {"https"}},
			want: who.Origin{Scheme: "https", Host: "app.example", Client: addr("127.0.0.1"), Proxied: true}},
		{name: "Forwarded https host with :443", remote: "127.0.0.1:4000", host: "backend",
			h:    hdr{"Forwarded": {`proto=https;host="app.example:443"`}},
			want: who.Origin{Scheme: "https", Host: "app.example", Proxied: true}},
		{name: "IPv4-mapped peer", remote: "[::ffff:127.0.0.1]:4000", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"203.0.113.9"}},
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{name: "IPv6 peer with zone", remote: "[fe80::1%eth0]:4000", host: "app.example",
			want: who.Origin{Scheme: "http", Host: "app.example", Client: addr("fe80::1")}},
		{name: "RemoteAddr no IP", remote: "@", host: "app.example",
			h:    hdr{"X-Forwarded-For": {"203.0.113.9"}},
			want: who.Origin{Scheme: "http", Host: "app.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/p", nil)
			r.RemoteAddr = tt.remote
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.h {
				r.Header[k] = v
			}
			if got := tp.Resolve(r); got != tt.want {
				t.Errorf("Resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveHostFallbacks(t *testing.T) {
	r := httptest.NewRequest("GET", "http://abs.example/p", nil)
	r.Host = ""
	if got := (who.TrustedProxies{}).Resolve(r).Host; got != "abs.example" {
		t.Errorf("absolute URI: Host = %q", got)
	}
	r = httptest.NewRequest("GET", "/p", nil)
	r.Host = ""
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.5"), Port: 8080}))
	if got := (who.TrustedProxies{}).Resolve(r).Host; got != "192.0.2.5:8080" {
		t.Errorf("local address: Host = %q", got)
	}
	r = httptest.NewRequest("GET", "https://abs.example/p", nil)
	r.TLS = nil
	if got := (who.TrustedProxies{}).Resolve(r).Scheme; got != "https" {
		t.Errorf("absolute https URI: Scheme = %q", got)
	}
}

// TestResolveLinear checks that a header of many hops costs time linear
// in its size: 10,000 trusted hops resolve in well under a second, and
// 20,000 take no more than a few times as long as 10,000.
func TestResolveLinear(t *testing.T) {
	tp := mustProxies(t, "10.0.0.0/8")
	build := func(n int, forwarded bool) *http.Request {
		var b strings.Builder
		b.WriteString("203.0.113.9")
		for i := 1; i < n; i++ {
			if forwarded {
				b.WriteString(`, for="10.0.0.1:80";proto=https`)
			} else {
				b.WriteString(", 10.0.0.1")
			}
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.9.9.9:1"
		if forwarded {
			r.Header.Set("Forwarded", "for="+b.String())
		} else {
			r.Header.Set("X-Forwarded-For", b.String())
		}
		return r
	}
	for _, fw := range []bool{false, true} {
		time1 := func(n int) time.Duration {
			r := build(n, fw)
			best := time.Duration(1<<63 - 1)
			for range 3 {
				start := time.Now()
				o := tp.Resolve(r)
				best = min(best, time.Since(start))
				if o.Client != addr("203.0.113.9") {
					t.Fatalf("forwarded=%v n=%d: Client = %v", fw, n, o.Client)
				}
			}
			return best
		}
		t10, t40 := time1(10000), time1(40000)
		if t10 > time.Second {
			t.Errorf("forwarded=%v: 10,000 hops took %v", fw, t10)
		}
		// Quadratic work would make 4x the hops 16x the time.
		if t40 > 10*t10+5*time.Millisecond {
			t.Errorf("forwarded=%v: 40,000 hops took %v, 10,000 %v: not linear", fw, t40, t10)
		}
	}
}

func TestRequestOriginWithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-Proto", "https")
	if o := who.RequestOrigin(r); o.Scheme != "http" || o.Proxied || o.Client != addr("127.0.0.1") {
		t.Errorf("without middleware: %+v", o)
	}
	want := who.Origin{Scheme: "https", Host: "x.example", Client: addr("192.0.2.1"), Proxied: true}
	r = r.WithContext(who.WithOrigin(r.Context(), want))
	if o := who.RequestOrigin(r); o != want {
		t.Errorf("WithOrigin: %+v", o)
	}
}

// TestMiddlewareOrigin checks that the middleware resolves the origin
// with Config.TrustedProxies before any plugin runs, and keeps one that
// WithOrigin set.
func TestMiddlewareOrigin(t *testing.T) {
	var seenByPlugin, seenByHandler who.Origin
	id := identifierFunc(func(r *http.Request) (who.Identity, error) {
		seenByPlugin = who.RequestOrigin(r)
		return nil, nil
	})
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "probe", Plugin: id}},
		TrustedProxies: mustProxies(t, "127.0.0.1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenByHandler = who.RequestOrigin(r)
	}))
	for _, tt := range []struct {
		remote string
		want   who.Origin
	}{
		{"127.0.0.1:1", who.Origin{Scheme: "https", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{"192.0.2.1:1", who.Origin{Scheme: "http", Host: "backend", Client: addr("192.0.2.1")}},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = "backend"
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("X-Forwarded-Host", "app.example")
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seenByPlugin != tt.want || seenByHandler != tt.want {
			t.Errorf("peer %s: plugin saw %+v, handler %+v, want %+v", tt.remote, seenByPlugin, seenByHandler, tt.want)
		}
	}
	set := who.Origin{Scheme: "https", Host: "gw.example", Client: addr("198.51.100.7"), Proxied: true}
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(who.WithOrigin(r.Context(), set))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seenByPlugin != set || seenByHandler != set {
		t.Errorf("WithOrigin: plugin saw %+v, handler %+v", seenByPlugin, seenByHandler)
	}
}

type identifierFunc func(r *http.Request) (who.Identity, error)

func (f identifierFunc) Identify(r *http.Request) (who.Identity, error) { return f(r) }

func TestSecure(t *testing.T) {
	plain := httptest.NewRequest("GET", "/", nil)
	tlsReq := httptest.NewRequest("GET", "https://x.example/", nil)
	proxied := httptest.NewRequest("GET", "/", nil)
	proxied = proxied.WithContext(who.WithOrigin(proxied.Context(), who.Origin{Scheme: "https"}))
	for _, tt := range []struct {
		s                        who.Secure
		plain, tlsReq, proxiedOK bool
	}{
		{who.SecureAuto, false, true, true},
		{who.SecureAlways, true, true, true},
		{who.SecureNever, false, false, false},
	} {
		if got := [3]bool{tt.s.For(plain), tt.s.For(tlsReq), tt.s.For(proxied)}; got != [3]bool{tt.plain, tt.tlsReq, tt.proxiedOK} {
			t.Errorf("%v: For = %v", tt.s, got)
		}
	}
	var cfg struct {
		A, B, C, D who.Secure
		E          who.Secure `toml:"e"`
	}
	if _, err := toml.Decode("A = true\nB = false\nC = \"auto\"\nD = \"false\"\n", &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.A != who.SecureAlways || cfg.B != who.SecureNever || cfg.C != who.SecureAuto || cfg.D != who.SecureNever || cfg.E != who.SecureAuto {
		t.Errorf("decoded %+v", cfg)
	}
	for _, bad := range []string{"e = \"sometimes\"", "e = 1"} {
		if _, err := toml.Decode(bad, &cfg); err == nil || !strings.Contains(err.Error(), "auto") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
	if b, _ := who.SecureAuto.MarshalText(); string(b) != "auto" {
		t.Errorf("MarshalText = %s", b)
	}
}

// BenchmarkResolve: the per-request cost of origin resolution, with no
// trusted proxies (every request of a chain without trusted_proxies) and
// behind one sending Forwarded or X-Forwarded-*.
func BenchmarkResolve(b *testing.B) {
	tp := mustProxies(b, "127.0.0.1/32", "::1/128")
	for _, bc := range []struct {
		name string
		tp   who.TrustedProxies
		h    map[string]string
	}{
		{"none", who.TrustedProxies{}, map[string]string{"X-Forwarded-For": "203.0.113.9"}},
		{"x-forwarded", tp, map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example"}},
		{"forwarded", tp, map[string]string{"Forwarded": `for="[2001:db8::17]:4711";proto=https;host=app.example`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "127.0.0.1:4000"
			for k, v := range bc.h {
				r.Header.Set(k, v)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.tp.Resolve(r)
			}
		})
	}
}

// Prefixes so broad that ordinary clients would be trusted.
func TestBroadPrefix(t *testing.T) {
	for s, want := range map[string]bool{
		"0.0.0.0/0": true, "::/0": true, "10.0.0.0/7": true, "10.0.0.0/8": false, "127.0.0.1/32": false,
		"2000::/3": true, "2001:db8::/15": true, "2001:db8::/16": false, "::1/128": false,
		"::ffff:0.0.0.0/96": true, "::ffff:10.0.0.0/104": false, "::ffff:0.0.0.0/95": true,
	} {
		if got := who.BroadPrefix(netip.MustParsePrefix(s)); got != want {
			t.Errorf("BroadPrefix(%s) = %v, want %v", s, got, want)
		}
	}
	if who.BroadPrefix(netip.Prefix{}) {
		t.Error("the zero Prefix is broad")
	}
	// As parsed from trusted_proxies: a mapped prefix becomes IPv4.
	for _, s := range []string{"::ffff:0.0.0.0/96", "0.0.0.0/0", "::/0", "1.0.0.0/1"} {
		if p := mustProxies(t, s).Prefixes()[0]; !who.BroadPrefix(p) {
			t.Errorf("%s parsed as %s: not broad", s, p)
		}
	}
}

// IPv4-mapped IPv6 and zones: a mapped peer or hop is its IPv4 address
// (netip's Contains matches neither a mapped address against an IPv4
// prefix nor the reverse, so both sides are unmapped), in both
// directions; a zone is dropped from the peer (fe80::1%eth0 is matched
// as fe80::1: trusting a link-local address trusts it on every
// interface) and refused in trusted_proxies and in a forwarded hop.
func TestResolveMappedAndZones(t *testing.T) {
	tests := []struct {
		name, trusted, remote string
		xff                   string
		want                  who.Origin
	}{
		{"mapped peer, IPv4 proxy", "127.0.0.1/32", "[::ffff:127.0.0.1]:4000", "203.0.113.9",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{"IPv4 peer, mapped proxy", "::ffff:127.0.0.1/128", "127.0.0.1:4000", "203.0.113.9",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{"mapped peer, mapped proxy", "::ffff:127.0.0.1", "[::ffff:127.0.0.1]:4000", "203.0.113.9",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{"mapped peer outside", "127.0.0.1/32", "[::ffff:127.0.0.2]:4000", "203.0.113.9",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("127.0.0.2")}},
		{"mapped trusted hop skipped", "127.0.0.1/32, 10.0.0.0/8", "127.0.0.1:4000", "203.0.113.9, ::ffff:10.0.0.1",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{"mapped client hop given as IPv4", "127.0.0.1/32", "127.0.0.1:4000", "[::ffff:203.0.113.9]:80",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{"IPv6 ::1 is not 127.0.0.1", "127.0.0.1/32", "[::1]:4000", "203.0.113.9",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("::1")}},
		{"zoned peer, link-local proxy", "fe80::1", "[fe80::1%eth0]:4000", "203.0.113.9",
			who.Origin{Scheme: "http", Host: "app.example", Client: addr("203.0.113.9"), Proxied: true}},
		{"zoned hop: unknown client", "127.0.0.1/32", "127.0.0.1:4000", "fe80::9%eth0",
			who.Origin{Scheme: "http", Host: "app.example", Proxied: true}},
		{"zoned hop cannot pass as trusted", "127.0.0.1/32, fe80::/10", "127.0.0.1:4000", "203.0.113.9, [fe80::1%25eth0]",
			who.Origin{Scheme: "http", Host: "app.example", Proxied: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := mustProxies(t, strings.Split(tt.trusted, ", ")...)
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = "app.example"
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Forwarded-For", tt.xff)
			if got := tp.Resolve(r); got != tt.want {
				t.Errorf("Resolve = %+v, want %+v", got, tt.want)
			}
			r.Header = http.Header{"Forwarded": {`for="` + strings.ReplaceAll(tt.xff, ", ", `", for="`) + `"`}}
			if !strings.Contains(tt.xff, "%") && !strings.Contains(tt.xff, "[") && strings.Contains(tt.xff, ":") {
				return // a bare IPv6 for= value is not RFC 7239 (it wants brackets)
			}
			got := tp.Resolve(r)
			if got.Client != tt.want.Client || got.Proxied != tt.want.Proxied {
				t.Errorf("Forwarded %q: %+v, want client %v", r.Header.Get("Forwarded"), got, tt.want.Client)
			}
		})
	}
	if _, err := who.ParseTrustedProxies([]string{"fe80::/10%eth0"}); err == nil {
		t.Error("a zoned prefix is accepted")
	}
}

// X-Forwarded-For as proxies and clients spell it: spaces, empty
// elements, ports, "unknown", obfuscated nodes. The client is the
// right-most untrusted hop, or unknown (the zero Addr): never a trusted
// proxy's address standing in for it.
func TestResolveXForwardedForSpellings(t *testing.T) {
	tp := mustProxies(t, "127.0.0.1/32", "10.0.0.0/8")
	tests := []struct {
		xff  []string
		want string // "" unknown
	}{
		{[]string{"203.0.113.9"}, "203.0.113.9"},
		{[]string{"  203.0.113.9  ,10.0.0.1 "}, "203.0.113.9"},
		{[]string{"203.0.113.9,\t10.0.0.1"}, "203.0.113.9"},
		{[]string{"6.6.6.6,, 203.0.113.9"}, "203.0.113.9"}, // nginx appending to a client's "6.6.6.6,"
		{[]string{"203.0.113.9, , 10.0.0.1"}, ""},          // an empty hop a proxy wrote: unknown
		{[]string{"203.0.113.9, "}, ""},
		{[]string{","}, ""},
		{[]string{"10.0.0.2, ,"}, ""},
		{[]string{"203.0.113.9:4711, 10.0.0.1:80"}, "203.0.113.9"},
		{[]string{"[2001:db8::9]:4711"}, "2001:db8::9"},
		{[]string{"2001:db8::9:4711"}, "2001:db8::9:4711"}, // a bare IPv6 address has no port
		{[]string{"203.0.113.9:99999"}, ""},
		{[]string{"203.0.113.9, unknown"}, ""},
		{[]string{"unknown, 10.0.0.1"}, ""},
		{[]string{"203.0.113.9, _hidden"}, ""},
		{[]string{"_hidden, 10.0.0.1"}, ""},
		{[]string{"10.0.0.5, _hidden, 10.0.0.1"}, ""}, // a trusted-looking address left of an unknown hop is not taken
		{[]string{"10.0.0.5 10.0.0.1"}, ""},           // one element with a space
		{[]string{"10.0.0.5;10.0.0.1"}, ""},
		{[]string{"203.0.113.9", "10.0.0.1"}, "203.0.113.9"}, // repeated lines are one list
		{[]string{"10.0.0.2", "", "10.0.0.1"}, ""},
		{[]string{"010.0.0.1"}, ""}, // octal-looking: not an address netip reads
		{[]string{"0x7f.1"}, ""},
		{[]string{"203.0.113.9%eth0"}, ""},
		{[]string{"::ffff:10.0.0.5, 203.0.113.9, 10.0.0.1"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header["X-Forwarded-For"] = tt.xff
		o := tp.Resolve(r)
		if o.Client != addr(tt.want) || !o.Proxied {
			t.Errorf("X-Forwarded-For %q: client %v (proxied %v), want %q", tt.xff, o.Client, o.Proxied, tt.want)
		}
		if o.Client.IsValid() && tp.Trusts(o.Client) && tt.want == "" {
			t.Errorf("X-Forwarded-For %q: a trusted address %v stands for the client", tt.xff, o.Client)
		}
	}
}

// Header lines as they reach Go's server over a connection from a
// trusted proxy: obs-fold continuation lines are joined with a space
// (net/textproto), so a folded list is the same list and a fold cannot
// hide a hop; repeated Forwarded and X-Forwarded-* lines are one list,
// read in order; a first header line that is a continuation, or a
// space before the colon, is refused (400) by the server itself.
func TestResolveRawHeaderLines(t *testing.T) {
	tp := mustProxies(t, "127.0.0.1/32", "10.0.0.0/8")
	got := make(chan who.Origin, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- tp.Resolve(r)
	}))
	defer srv.Close()
	send := func(t *testing.T, headers string) int {
		t.Helper()
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte("GET / HTTP/1.1\r\n" + headers + "Connection: close\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name, headers string
		status        int
		client        string // "" unknown
		scheme        string
	}{
		{"folded list", "Host: app.example\r\nX-Forwarded-For: 6.6.6.6,\r\n 203.0.113.9\r\n", 200, "203.0.113.9", "http"},
		{"folded with a tab, trusted hop", "Host: app.example\r\nX-Forwarded-For: 203.0.113.9\r\n\t, 10.0.0.1\r\n", 200, "203.0.113.9", "http"},
		{"fold hiding a header line", "Host: app.example\r\nX-Forwarded-For: 203.0.113.9\r\n X-Forwarded-For: 10.0.0.1\r\n", 200, "", "http"},
		{"folded Forwarded quoted string", "Host: app.example\r\nForwarded: for=\"6.6.6.6\r\n 203.0.113.9\";proto=https\r\n", 200, "", "https"},
		{"repeated X-Forwarded-For lines", "Host: app.example\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 10.0.0.1\r\n", 200, "203.0.113.9", "http"},
		{"repeated Forwarded lines", "Host: app.example\r\nForwarded: for=6.6.6.6;proto=http\r\nForwarded: for=203.0.113.9;proto=https\r\n", 200, "203.0.113.9", "https"},
		{"repeated X-Forwarded-Proto: the client's hop", "Host: app.example\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\n", 200, "203.0.113.9", "https"},
		{"underscore spelling is another header", "Host: app.example\r\nX-Forwarded_For: 10.0.0.9\r\nX-Forwarded-For: 203.0.113.9\r\n", 200, "203.0.113.9", "http"},
		{"lower-case name", "Host: app.example\r\nx-forwarded-for: 203.0.113.9\r\n", 200, "203.0.113.9", "http"},
		{"first header line folded", " X-Forwarded-For: 10.0.0.9\r\nHost: app.example\r\n", 400, "", ""},
		{"space before the colon", "Host: app.example\r\nX-Forwarded-For : 10.0.0.9\r\n", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := send(t, tt.headers)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if status != 200 {
				return
			}
			select {
			case o := <-got:
				if o.Client != addr(tt.client) || o.Scheme != tt.scheme || !o.Proxied {
					t.Errorf("origin %+v, want client %q, scheme %s, proxied", o, tt.client, tt.scheme)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the handler got no request")
			}
		})
	}
}
