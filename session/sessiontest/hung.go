package sessiontest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
)

// HungBackendLimit is how long HungBackend lets a request wait on a hung
// backend: far above a store's default 500ms timeout, to allow for a
// loaded machine, and far below a client library's 5 s defaults.
const HungBackendLimit = 3 * time.Second

// HungBackend checks a networked store whose backend accepts connections
// and never answers (a black hole): each of the first failures requests
// that need their session gets a 503 within HungBackendLimit, none is
// retried (at most one connection a request), and then the store fails
// fast with an error wrapping errBackoff, without connecting again.
// accepted counts the connections the backend accepted so far; failures
// is the store's run of failures that starts its back-off, which must be
// long enough not to end during the test.
func HungBackend(t *testing.T, st session.Store, failures int, errBackoff error, accepted func() int64) {
	t.Helper()
	m, err := session.New(session.Options{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Get("k") }))
	for i := range failures {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: session.NewID()})
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		took := time.Since(start)
		t.Logf("request %d with a hung backend: %d in %v", i, rec.Code, took)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d; want 503", rec.Code)
		}
		if took > HungBackendLimit {
			t.Fatalf("a hung backend held the request %v", took)
		}
	}
	n := accepted()
	if n > int64(failures) {
		t.Errorf("%d connections for %d requests: a timeout was retried", n, failures)
	}
	if _, _, _, err := st.Load(context.Background(), session.NewID()); !errors.Is(err, errBackoff) {
		t.Fatalf("after %d failures: %v; want %v", failures, err, errBackoff)
	}
	if now := accepted(); now != n {
		t.Fatalf("the store connected during its back-off (%d connections, was %d)", now, n)
	}
}
