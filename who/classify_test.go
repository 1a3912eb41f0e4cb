package who_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/who"
)

func TestDefaultClassifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, ua, ctype, want string
	}{
		{"GET", "Mozilla/5.0", "", "browser"},
		{"PUT", "", "", "browser"},
		{"POST", "", "application/xml", "browser"},
		{"POST", "", "text/xml", "xmlpost"},
		{"POST", "", "TEXT/XML; charset=utf-8", "xmlpost"},
		{"GET", "", "text/xml", "browser"},
		{"GET", "Mozilla/5.0 (neon)", "", "dav"},
		{"GET", "Microsoft-WebDAV-MiniRedir/10.0", "", "dav"},
		{"GET", "Microsoft Data Access Internet Publishing Provider DAV", "", "dav"},
		{"GET", "WebDAVFS/3.0", "", "dav"},
		{"GET", "Zope External Editor/1.0", "", "dav"},
		{"GET", "WebDrive 2019", "", "dav"},
		{"GET", "Goliath", "", "dav"},
		{"GET", "davlib", "", "dav"},
		{"GET", "wsAPI", "", "dav"},
	}
	for _, m := range []string{"OPTIONS", "PROPFIND", "PROPPATCH", "MKCOL", "LOCK", "UNLOCK", "TRACE", "DELETE", "COPY", "MOVE"} {
		tests = append(tests, struct{ method, ua, ctype, want string }{m, "", "", "dav"})
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.ua+" "+tc.ctype, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", strings.NewReader(""))
			if tc.ua != "" {
				r.Header.Set("User-Agent", tc.ua)
			}
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			if got := who.DefaultClassifier(r); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeciders(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	tests := []struct {
		name        string
		status      int
		h           http.Header
		def, passth bool
	}{
		{"200", 200, http.Header{}, false, false},
		{"403", 403, http.Header{}, false, false},
		{"bare 401", 401, http.Header{}, true, true},
		{"401 with WWW-Authenticate", 401, http.Header{"Www-Authenticate": {"Basic"}}, true, false},
		{"401 text/html", 401, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, true, false},
		{"401 text/plain", 401, http.Header{"Content-Type": {"text/plain"}}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := who.DefaultDecider(r, tc.status, tc.h); got != tc.def {
				t.Errorf("default = %v, want %v", got, tc.def)
			}
			if got := who.PassthroughDecider(r, tc.status, tc.h); got != tc.passth {
				t.Errorf("passthrough = %v, want %v", got, tc.passth)
			}
		})
	}
}

// TestDefaultClassifierWords checks that the declared words are exactly
// what DefaultClassifier returns for the requests of TestDefaultClassifier's
// kinds, so that a loader accepts every word it can return.
func TestDefaultClassifierWords(t *testing.T) {
	t.Parallel()
	got := map[string]bool{}
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/", nil),
		httptest.NewRequest("PROPFIND", "/", nil),
		func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("<x/>"))
			r.Header.Set("Content-Type", "text/xml")
			return r
		}(),
	} {
		got[who.DefaultClassifier(r)] = true
	}
	words := who.DefaultClassifierWords()
	if len(words) != len(got) {
		t.Fatalf("DefaultClassifierWords() = %q, DefaultClassifier returns %v", words, got)
	}
	for _, w := range words {
		if !got[w] {
			t.Errorf("DefaultClassifierWords() lists %q, which DefaultClassifier does not return", w)
		}
	}
}
