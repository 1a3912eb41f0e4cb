package origin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestLocalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/b", "/a/b"},
		{"//evil.example/x", "/evil.example/x"},
		{`/\evil`, "/%5Cevil"},
		{"/.//evil", "/evil"},
		{"/a/%2e%2e//evil", "/evil"},
		{"/a\tb", "/a%09b"},
		{"/x\r\ny", "/x%0D%0Ay"},
		{"", "/"},
	}
	for _, tt := range tests {
		if got := LocalPath(tt.in); got != tt.want {
			t.Errorf("LocalPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRemoveDotSegments(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/./b/../c", "/a/c"},
		{"/.//evil", "//evil"},
		{"/a/..", "/"},
		{"relative/../x", "relative/../x"},
	}
	for _, tt := range tests {
		if got := RemoveDotSegments(tt.in); got != tt.want {
			t.Errorf("RemoveDotSegments(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCrossSiteAndSameOrigin(t *testing.T) {
	tests := []struct {
		name        string
		headers     map[string]string
		cross, same bool
	}{
		{"curl", nil, false, false},
		{"fetch same-origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, false, true},
		{"typed URL", map[string]string{"Sec-Fetch-Site": "none"}, false, false},
		{"fetch cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, false},
		{"fetch same-site subdomain", map[string]string{"Sec-Fetch-Site": "same-site"}, true, false},
		{"origin match", map[string]string{"Origin": "https://example.com"}, false, true},
		{"origin other", map[string]string{"Origin": "https://evil.example"}, true, false},
		{"origin null", map[string]string{"Origin": "null"}, true, false},
		{"referer other", map[string]string{"Referer": "https://evil.example/page"}, true, false},
		{"referer same", map[string]string{"Referer": "http://example.com/page"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://example.com/logout", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := CrossSite(r); got != tt.cross {
				t.Errorf("CrossSite = %v, want %v", got, tt.cross)
			}
			if got := SameOrigin(r); got != tt.same {
				t.Errorf("SameOrigin = %v, want %v", got, tt.same)
			}
		})
	}
}

// TestSameOriginBehindProxy: behind a trusted proxy that sends the
// request on to "backend:8080", the browser's Origin names the forwarded
// host, which is this site: same-origin, not cross-site. The same headers
// from an untrusted peer change nothing. Without the fix r.Host was
// compared and the login POST counted as cross-site.
func TestSameOriginBehindProxy(t *testing.T) {
	t.Parallel()
	mk := func() *http.Request {
		r := httptest.NewRequest("GET", "http://backend:8080/logout", nil)
		r.Header.Set("Origin", "https://good.example")
		r.Header.Set("X-Forwarded-Host", "good.example")
		r.Header.Set("X-Forwarded-Proto", "https")
		return r
	}
	trusted := behind()(mk())
	if !SameOrigin(trusted) || CrossSite(trusted) {
		t.Errorf("trusted proxy: SameOrigin = %v, CrossSite = %v, want true, false", SameOrigin(trusted), CrossSite(trusted))
	}
	untrusted := mk()
	if SameOrigin(untrusted) || !CrossSite(untrusted) {
		t.Errorf("untrusted peer: SameOrigin = %v, CrossSite = %v, want false, true", SameOrigin(untrusted), CrossSite(untrusted))
	}
}
