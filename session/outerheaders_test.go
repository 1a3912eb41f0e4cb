package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/session"
)

// TestFailurePageKeepsOuterHeaders (issue 12 item 7, the session half): the
// 503 page that replaces a response whose session cannot be loaded or
// saved keeps every header set before the manager ran (an outer
// middleware's HSTS, X-Request-Id) and drops the handler's own.
func TestFailurePageKeepsOuterHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		autoload bool
		handler  http.HandlerFunc
	}{
		{"save fails", false, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-App", "private")
			w.Header().Set("X-Request-Id", "changed by the app")
			w.Header().Del("Strict-Transport-Security")
			_ = session.From(r).Set("k", "v")
			_, _ = w.Write([]byte("user page"))
		}},
		{"autoload fails", true, func(http.ResponseWriter, *http.Request) {
			t.Error("the handler ran with the store down")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, session.Options{Autoload: tc.autoload})
			c := sessionCookie(f.do(set("k", "v"), ""))
			f.st.down.Store(true)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: c.Value})
			rec := httptest.NewRecorder()
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Strict-Transport-Security", "max-age=63072000")
				w.Header().Set("X-Request-Id", "req-1")
				f.m.Wrap(tc.handler).ServeHTTP(w, r)
			})
			outer.ServeHTTP(rec, req)
			h := rec.Header()
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", rec.Code)
			}
			if got := h.Get("Strict-Transport-Security"); got != "max-age=63072000" {
				t.Errorf("Strict-Transport-Security %q, want the outer middleware's", got)
			}
			if got := h.Get("X-Request-Id"); got != "req-1" {
				t.Errorf("X-Request-Id %q, want the outer middleware's req-1", got)
			}
			if got := h.Get("X-App"); got != "" {
				t.Errorf("the handler's X-App %q reached the failure page", got)
			}
			if got := h.Get("Retry-After"); got != "5" {
				t.Errorf("Retry-After %q, want the failure page's 5", got)
			}
		})
	}
}
