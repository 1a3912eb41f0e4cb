package origin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/origin/origintest"
)

// TestSafeRedirect: every hostile target gives the fallback; paths on this
// site and URLs on this or an allowed host are kept.
func TestSafeRedirect(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "http://good.example/login_handler", nil)
	for _, v := range origintest.HostileTargets {
		if got := SafeRedirect(r, v, []string{"partner.example"}, "/fallback"); got != "/fallback" {
			t.Errorf("SafeRedirect(%q) = %q, want the fallback", v, got)
		}
	}
	// An encoded space or non-ASCII letter is a page's own name (the
	// redirector %-encodes came_from as repoze.who): kept, where it once
	// lost the way back.
	for _, v := range []string{"/", "/protected?x=1", "/a/b#frag", "http://good.example/x", "https://good.example/x", "https://partner.example/y", "https://PARTNER.example:8443/y",
		"/a%20b", "/caf%C3%A9?q=%E2%82%AC", "http://good.example/my%20files/r%C3%A9sum%C3%A9.pdf"} {
		if got := SafeRedirect(r, v, []string{"partner.example"}, "/fallback"); got != v {
			t.Errorf("SafeRedirect(%q) = %q, want it kept", v, got)
		}
	}
	if len(origintest.HostileTargets) < 20 {
		t.Fatal("the table must hold at least 20 origintest.HostileTargets values")
	}
}

// TestSafeRedirectOverHTTPS: a request that came over HTTPS never
// redirects to http://, not even on its own host; dot-segment paths that
// resolve to "//host" are refused. Without the fix both were kept.
func TestSafeRedirectOverHTTPS(t *testing.T) {
	t.Parallel()
	tlsReq := httptest.NewRequest("GET", "https://good.example/login_handler", nil)
	proxied := httptest.NewRequest("GET", "http://good.example/login_handler", nil)
	proxied.Header.Set("X-Forwarded-Proto", "https")
	forwarded := httptest.NewRequest("GET", "http://good.example/login_handler", nil)
	forwarded.Header.Set("Forwarded", `for=192.0.2.1;proto=https;host=good.example`)
	plain := httptest.NewRequest("GET", "http://good.example/login_handler", nil)
	proxied.Header.Set("X-Forwarded-Host", "evil.example")
	trusted := behind(header("X-Forwarded-Proto", "https"), header("X-Forwarded-Host", "good.example"))(
		httptest.NewRequest("GET", "http://backend:8080/login_handler", nil))
	allowed := []string{"partner.example"}
	for _, tt := range []struct {
		name   string
		r      *http.Request
		target string
		kept   bool
	}{
		{"https: http same host", tlsReq, "http://good.example/x", false},
		{"https: HTTP same host", tlsReq, "http://GOOD.example/x", false},
		{"https: http allowed host", tlsReq, "http://partner.example/y", false},
		{"https: https same host", tlsReq, "https://good.example/x", true},
		{"https: https allowed host", tlsReq, "https://partner.example/y", true},
		{"https: path", tlsReq, "/x?y=1", true},
		// An https claim from a peer that is not a trusted proxy still
		// refuses http (it can only refuse more); from a trusted one too.
		{"X-Forwarded-Proto: http same host", proxied, "http://good.example/x", false},
		{"untrusted X-Forwarded-Proto: https same host", proxied, "https://good.example/x", true},
		{"untrusted X-Forwarded-Host: names no site", proxied, "https://evil.example/x", false},
		{"trusted X-Forwarded-Proto and Host: http", trusted, "http://good.example/x", false},
		{"trusted X-Forwarded-Proto and Host: https forwarded host", trusted, "https://good.example/x", true},
		{"Forwarded proto=https: http same host", forwarded, "http://good.example/x", false},
		{"http: http same host", plain, "http://good.example/x", true},
		{"http: https same host", plain, "https://good.example/x", true},
	} {
		got := SafeRedirect(tt.r, tt.target, allowed, "/fallback")
		if kept := got == tt.target; kept != tt.kept {
			t.Errorf("%s: SafeRedirect(%q) = %q, kept = %v, want %v", tt.name, tt.target, got, kept, tt.kept)
		}
	}
	for _, v := range []string{"/a/./b", "/a/../b", "/./x", "/a/b/..", "/x/.?q=//evil", "/%2e/x"} {
		if got := SafeRedirect(plain, v, nil, "/fallback"); got != v {
			t.Errorf("SafeRedirect(%q) = %q, want it kept", v, got)
		}
	}
}

// FuzzSafeRedirect: whatever SafeRedirect keeps resolves, in a browser, on
// this host or an allowed one, never over http:// for an HTTPS request,
// and never with dot segments that make a path "//host".
func FuzzSafeRedirect(f *testing.F) {
	for _, v := range origintest.HostileTargets {
		f.Add(v, false)
		f.Add(v, true)
	}
	f.Add("/a/./b", false)
	f.Add("http://good.example/x", true)
	f.Fuzz(func(t *testing.T, target string, https bool) {
		scheme := "http"
		if https {
			scheme = "https"
		}
		r := httptest.NewRequest("GET", scheme+"://good.example/login_handler", nil)
		got := SafeRedirect(r, target, []string{"partner.example"}, "/fallback")
		if got == "/fallback" {
			return
		}
		if got != target {
			t.Fatalf("SafeRedirect(%q) = %q, neither the target nor the fallback", target, got)
		}
		base, _ := url.Parse(scheme + "://good.example/login_handler")
		host, err := origintest.BrowserHost(base, got)
		if err != nil {
			t.Fatalf("kept %q, which does not parse: %v", got, err)
		}
		h := strings.ToLower(host)
		if hn, _, _ := strings.Cut(h, ":"); h != "good.example" && hn != "partner.example" {
			t.Fatalf("kept %q, which goes to %q", got, host)
		}
		if https && strings.HasPrefix(strings.ToLower(got), "http:") {
			t.Fatalf("kept %q over HTTPS", got)
		}
		// A server that decodes the target before redirecting again
		// still sends the browser to this site.
		if dec, err := url.PathUnescape(got); err == nil {
			if dh, err := origintest.BrowserHost(base, dec); err == nil {
				dh = strings.ToLower(dh)
				if hn, _, _ := strings.Cut(dh, ":"); dh != "good.example" && hn != "partner.example" {
					t.Fatalf("kept %q, whose decoded form goes to %q", got, dh)
				}
			}
		}
		if strings.HasPrefix(got, "/") {
			p, _, _ := strings.Cut(got, "?")
			p, _, _ = strings.Cut(p, "#")
			if dec, err := url.PathUnescape(p); err != nil || strings.HasPrefix(RemoveDotSegments(p), "//") || strings.HasPrefix(RemoveDotSegments(dec), "//") {
				t.Fatalf("kept %q, whose dot segments resolve to //", got)
			}
		}
	})
}

func ExampleSafeRedirect() {
	r := httptest.NewRequest("GET", "http://good.example/login_handler", nil)
	for _, v := range []string{"/protected?x=1", "//evil.example", "https://good.example/a", "https://evil.example/"} {
		fmt.Println(SafeRedirect(r, v, nil, "/"))
	}
	// Output:
	// /protected?x=1
	// /
	// https://good.example/a
	// /
}

// TestParseLoginURL: a configured login URL may name any host, but never
// user info, a control character or a "//" without a host (which a
// browser reads as a host: "http:////evil.example" goes to evil.example).
func TestParseLoginURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		errHas string // "" when accepted
	}{
		{"/login", ""},
		{"login", ""},
		{"?login=1", ""},
		{"https://sso.example/login?app=x", ""},
		{"/l\r\nX: y", "control characters"},
		{"/l\x00", "control characters"},
		{"//@", "user info"}, // an empty user info, and no host
		{"///login", "names no host"},
		{"http:////evil.example/login", "names no host"},
		{"https://user:pw@sso.example/login", "user info"},
		{"https://sso.example/%zz", "is not a URL"},
	}
	for _, tt := range tests {
		u, err := ParseLoginURL(tt.in)
		switch {
		case tt.errHas == "" && (err != nil || u == nil):
			t.Errorf("ParseLoginURL(%q) = %v, %v, want it accepted", tt.in, u, err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("ParseLoginURL(%q) error %v, want one containing %q", tt.in, err, tt.errHas)
		}
	}
}

func TestPlainBytes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"/a/b?c=d#e", true},
		{"", true},
		{"/a b", false},
		{"/a\tb", false},
		{`/a\b`, false},
		{"/caf\u00e9", false},
		{"/a\x7f", false},
	} {
		if got := PlainBytes(tt.in); got != tt.want {
			t.Errorf("PlainBytes(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
