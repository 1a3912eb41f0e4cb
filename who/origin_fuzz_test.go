package who_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/who"
)

// FuzzResolve feeds the forwarding headers of a trusted peer to Resolve:
// it never panics, the scheme is http or https, a host that is not the
// Host header's is a plain host[:port], a client address is never the
// zero-valued but "valid" kind, and the same headers from an untrusted
// peer give exactly the connection's values.
func FuzzResolve(f *testing.F) {
	for _, s := range [][4]string{
		{`for=203.0.113.9;proto=https;host=app.example`, "", "", ""},
		{`For="[2001:db8:cafe::17]:4711";Proto=HTTPS, for=10.0.0.1`, "", "", ""},
		{`for="1.1.1.1, for=203.0.113.9`, "", "", ""},
		{`for=_hidden;host="a\"b", for=unknown`, "", "", ""},
		{"", "6.6.6.6, 203.0.113.9, 10.1.1.1", "https, http", "app.example:8443"},
		{"", "[2001:db8::1]:80, unknown", "HTTPS", "user@evil"},
	} {
		f.Add(s[0], s[1], s[2], s[3], "443")
	}
	tp := mustProxies(f, "10.0.0.0/8", "127.0.0.1")
	f.Fuzz(func(t *testing.T, fwd, xff, proto, host, port string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = "backend.example"
		r.RemoteAddr = "127.0.0.1:1"
		for k, v := range map[string]string{"Forwarded": fwd, "X-Forwarded-For": xff,
			"X-Forwarded-Proto": proto, "X-Forwarded-Host": host, "X-Forwarded-Port": port} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		o := tp.Resolve(r)
		if o.Scheme != "http" && o.Scheme != "https" {
			t.Fatalf("Scheme %q", o.Scheme)
		}
		if o.Host != r.Host {
			if o.Host == "" || strings.ContainsAny(o.Host, " \t\r\n@/\\?#%") || !plainASCII(o.Host) {
				t.Fatalf("Host %q", o.Host)
			}
		}
		if o.Client.IsValid() && (o.Client.Zone() != "" || o.Client.Is4In6()) {
			t.Fatalf("Client %v", o.Client)
		}
		r.RemoteAddr = "192.0.2.1:1"
		if o := tp.Resolve(r); o != (who.Origin{Scheme: "http", Host: "backend.example", Client: addr("192.0.2.1")}) {
			t.Fatalf("untrusted peer: %+v", o)
		}
	})
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
