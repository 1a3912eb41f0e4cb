package who_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gowho/gowho/plugins/basicauth"
	"github.com/gowho/gowho/plugins/redirector"
	"github.com/gowho/gowho/who"
)

// outerHeaders is an outer middleware (HSTS, a request id) that sets its
// headers before it calls the chain, as net/http middleware does.
func outerHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		w.Header().Set("X-Request-Id", "req-1")
		w.Header().Add("Vary", "Origin")
		next.ServeHTTP(w, r)
	})
}

// TestChallengeKeepsOuterHeaders (issue 12 item 7): a challenge replaces
// the downstream application's response, headers included, but keeps every
// header set on the ResponseWriter before the chain ran, whether the
// application changed it, removed it or left it; the challenger's own
// headers and the forget headers are added.
func TestChallengeKeepsOuterHeaders(t *testing.T) {
	t.Parallel()
	basic, err := basicauth.New(basicauth.Options{Realm: "r"})
	if err != nil {
		t.Fatal(err)
	}
	redir, err := redirector.New(redirector.Options{LoginURL: "/login"})
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-App", "secret page")
		w.Header().Set("X-Request-Id", "changed by the app")
		w.Header().Del("Strict-Transport-Security")
		w.Header().Add("Vary", "Accept-Language")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("private"))
	})
	tests := []struct {
		name       string
		challenger any
		wantStatus int
		wantHeader string // a header the challenger sets
	}{
		{"basic 401", basic, http.StatusUnauthorized, "Www-Authenticate"},
		{"redirect 302", redir, http.StatusFound, "Location"},
		{"custom challenger", &challenger{name: "c"}, http.StatusUnauthorized, "X-Challenger"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, who.Config{
				Identifiers:    entries("tkt", cookieID()),
				Authenticators: entries("a", acceptLogin("")),
				Challengers:    entries("c", tc.challenger),
			})
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/private", nil)
			req.Header.Set("X-Login", "bob")
			outerHeaders(m.Wrap(app)).ServeHTTP(rec, req)
			h := rec.Header()
			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if got := h.Get("Strict-Transport-Security"); got != "max-age=63072000" {
				t.Errorf("Strict-Transport-Security %q, want the outer middleware's", got)
			}
			if got := h.Get("X-Request-Id"); got != "req-1" {
				t.Errorf("X-Request-Id %q, want the outer middleware's req-1", got)
			}
			if got := h.Values("Vary"); len(got) == 0 || got[0] != "Origin" || slices.Contains(got, "Accept-Language") {
				t.Errorf("Vary %q, want the outer middleware's Origin first, without the app's Accept-Language", got)
			}
			if got := h.Get("X-App"); got != "" {
				t.Errorf("the application's header X-App %q leaked into the challenge", got)
			}
			if h.Get(tc.wantHeader) == "" {
				t.Errorf("the challenger's %s is missing: %v", tc.wantHeader, h)
			}
			if got := h.Get("Set-Cookie"); got != "tkt=INVALID; Max-Age=0" {
				t.Errorf("forget header Set-Cookie %q, want tkt=INVALID; Max-Age=0", got)
			}
		})
	}
}
