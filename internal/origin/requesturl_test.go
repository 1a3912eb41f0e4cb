package origin

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/origin/origintest"
	"github.com/gowho/gowho/who"
)

// TestRequestURL: came_from is absolute on the request's host, https when
// the request came over HTTPS (to us or to a proxy), and a bare request
// URI when no host is known (never "http:///p").
func TestRequestURL(t *testing.T) {
	t.Parallel()
	withLocal := func(r *http.Request, a net.Addr) *http.Request {
		r.Host = ""
		return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, a))
	}
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	get := func(target string) *http.Request { return httptest.NewRequest("GET", target, nil) }
	tests := []struct {
		name     string
		r        *http.Request
		host     string
		wantURL  string
		modifier func(*http.Request) *http.Request
		refused  bool // SafeRedirect refuses the came_from (untrusted https claim)
	}{
		{name: "Host header", r: get("http://good.example:8080/p?x=1"), host: "good.example:8080", wantURL: "http://good.example:8080/p?x=1"},
		{name: "escaped path kept", r: get("http://good.example/a%2Fb?q=%3D"), host: "good.example", wantURL: "http://good.example/a%2Fb?q=%3D"},
		{name: "TLS", r: get("https://good.example/p"), host: "good.example", wantURL: "https://good.example/p"},
		// From a peer that is not a trusted proxy the forwarding headers
		// change nothing: came_from stays http, and SafeRedirect, which
		// believes a claim of https only to refuse more, refuses it.
		{name: "untrusted X-Forwarded-Proto https", r: get("http://good.example/p"), host: "good.example", wantURL: "http://good.example/p",
			modifier: header("X-Forwarded-Proto", "https"), refused: true},
		{name: "untrusted Forwarded proto=https", r: get("http://good.example/p"), host: "good.example", wantURL: "http://good.example/p",
			modifier: header("Forwarded", "for=192.0.2.1;proto=https;host=evil.example"), refused: true},
		{name: "untrusted X-Forwarded-Host", r: get("http://good.example/p"), host: "good.example", wantURL: "http://good.example/p",
			modifier: header("X-Forwarded-Host", "evil.example")},
		// From a trusted proxy (the middleware resolves the origin with
		// [general] trusted_proxies) they give the client's scheme and host.
		{name: "trusted X-Forwarded-Proto https", r: get("http://backend:8080/p"), host: "good.example", wantURL: "https://good.example/p",
			modifier: behind(header("X-Forwarded-Proto", "https"), header("X-Forwarded-Host", "good.example"))},
		{name: "trusted Forwarded proto=https", r: get("http://backend:8080/p?q=1"), host: "good.example:8443", wantURL: "https://good.example:8443/p?q=1",
			modifier: behind(header("Forwarded", `for=192.0.2.1;proto=https;host="good.example:8443"`))},
		{name: "no Host: local IPv4 address", r: withLocal(get("/p?x=1"), tcp("127.0.0.1:8080")), host: "127.0.0.1:8080", wantURL: "http://127.0.0.1:8080/p?x=1"},
		{name: "no Host: local IPv6 address", r: withLocal(get("/p"), tcp("[::1]:8080")), host: "[::1]:8080", wantURL: "http://[::1]:8080/p"},
		{name: "no Host: IPv4-mapped address", r: withLocal(get("/p"), tcp("[::ffff:10.0.0.5]:80")), host: "10.0.0.5:80", wantURL: "http://10.0.0.5:80/p"},
		{name: "no Host: zoned IPv6 address", r: withLocal(get("/p"), tcp("[fe80::1%eth0]:80")), host: "", wantURL: "/p"},
		{name: "no Host: Unix socket", r: withLocal(get("/p?x=1"), &net.UnixAddr{Name: "/run/who.sock", Net: "unix"}), host: "", wantURL: "/p?x=1"},
		{name: "no Host, no address", r: withLocal(get("/p"), nil), host: "", wantURL: "/p"},
		// A request path that names a host stays a path without a host
		// (it was the scheme-relative "//evil.example/x?q=1").
		{name: "no Host: path naming a host", r: withLocal(get("//evil.example/x?q=1"), nil), host: "", wantURL: "/evil.example/x?q=1"},
		{name: "no Host: dot segments naming a host", r: withLocal(get("/.//evil.example/x"), nil), host: "", wantURL: "/evil.example/x"},
		{name: "no Host: empty query kept", r: withLocal(get("/p?"), nil), host: "", wantURL: "/p?"},
		{name: "Host: path naming a host stays a path", r: get("http://good.example//evil.example/x"), host: "good.example", wantURL: "http://good.example//evil.example/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.modifier != nil {
				tt.r = tt.modifier(tt.r)
			}
			if got := Host(tt.r); got != tt.host {
				t.Errorf("Host = %q, want %q", got, tt.host)
			}
			got := RequestURL(tt.r)
			if got != tt.wantURL {
				t.Errorf("RequestURL = %q, want %q", got, tt.wantURL)
			}
			// Whatever RequestURL builds, SafeRedirect keeps for the
			// same site: the way back is never lost.
			if kept := SafeRedirect(tt.r, got, nil, "/fallback"); (kept == got) == tt.refused {
				t.Errorf("SafeRedirect(RequestURL) = %q, want %q kept: %v", kept, got, !tt.refused)
			}
		})
	}
}

// header returns a modifier setting a request header.
func header(k, v string) func(*http.Request) *http.Request {
	return func(r *http.Request) *http.Request {
		r.Header.Set(k, v)
		return r
	}
}

// behind applies mods, then makes the request come from a trusted proxy
// (127.0.0.1) and sets its origin as the middleware would.
func behind(mods ...func(*http.Request) *http.Request) func(*http.Request) *http.Request {
	return func(r *http.Request) *http.Request {
		for _, m := range mods {
			r = m(r)
		}
		tp, err := who.ParseTrustedProxies([]string{"127.0.0.1"})
		if err != nil {
			panic(err)
		}
		r.RemoteAddr = "127.0.0.1:40000"
		return r.WithContext(who.WithOrigin(r.Context(), tp.Resolve(r)))
	}
}

// TestRequestURLHTTP10: an HTTP/1.0 request without a Host header, sent
// over a real listener, gets came_from on the server's own address, and
// SafeRedirect keeps that URL for the next such request. Without the fix
// came_from was "http:///protected" and SafeRedirect refused the address.
func TestRequestURLHTTP10(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := RequestURL(r)
		fmt.Fprintf(w, "%s %s", u, SafeRedirect(r, r.URL.Query().Get("back"), nil, "/fallback"))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, body := origintest.RawRequest(t, addr, "GET /protected?x=1 HTTP/1.0\r\n\r\n")
	want := "http://" + addr + "/protected?x=1"
	if u, _, _ := strings.Cut(body, " "); u != want {
		t.Fatalf("HTTP/1.0 without Host: came_from %q, want %q", u, want)
	}
	_, body = origintest.RawRequest(t, addr, "GET /login?back=http%3A%2F%2F"+addr+"%2Fprotected HTTP/1.0\r\n\r\n")
	if _, kept, _ := strings.Cut(body, " "); kept != "http://"+addr+"/protected" {
		t.Fatalf("HTTP/1.0 without Host: SafeRedirect(%q) = %q, want it kept", "http://"+addr+"/protected", kept)
	}
	// Another host is still refused on such a request.
	_, body = origintest.RawRequest(t, addr, "GET /login?back=http%3A%2F%2Fevil.example%2F HTTP/1.0\r\n\r\n")
	if _, kept, _ := strings.Cut(body, " "); kept != "/fallback" {
		t.Fatalf("HTTP/1.0 without Host: SafeRedirect(evil) = %q, want the fallback", kept)
	}
}

// TestRequestURLOverTLS: over a real TLS listener came_from is https.
func TestRequestURLOverTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, RequestURL(r))
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/p")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != srv.URL+"/p" {
		t.Fatalf("RequestURL over TLS = %q, %v, want %q", b, err, srv.URL+"/p")
	}
}
