package session_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who/whotest"
)

// TestCookieResponsesNotShared: a response that sets or expires the
// session cookie is marked private with Vary: Cookie, so a shared cache
// never serves one user's session cookie to another (security item 16);
// a response without a session cookie keeps its caching headers.
func TestCookieResponsesNotShared(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	const live = "live" // replaced by a fresh live session's cookie
	withCC := func(cc string, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if cc != "" {
				w.Header().Set("Cache-Control", cc)
			}
			h(w, r)
		}
	}
	destroy := func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Destroy() }
	read := func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Get("k") }
	tests := []struct {
		name     string
		h        http.HandlerFunc
		cookie   string
		wantCC   string
		wantVary bool
	}{
		{"new session, public", withCC("public, max-age=60", set("k", "v")), "", "private, max-age=60", true},
		{"new session, no header", set("k", "v"), "", "private", true},
		{"no-store kept", withCC("no-store", set("k", "v")), "", "no-store", true},
		{"destroyed: expiring cookie", withCC("public", destroy), live, "private", true},
		{"stale cookie expired", withCC("max-age=60", read), "stale-cookie", "private, max-age=60", true},
		{"read only: untouched", withCC("public, max-age=60", read), live, "public, max-age=60", false},
		{"no session use: untouched", withCC("public", func(http.ResponseWriter, *http.Request) {}), live, "public", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cookie := tc.cookie
			if cookie == live {
				cookie = sessionCookie(f.do(set("k", "v"), "")).Value
			}
			rec := f.do(tc.h, cookie)
			hasCookie := len(rec.Result().Header.Values("Set-Cookie")) > 0
			if hasCookie != tc.wantVary {
				t.Fatalf("Set-Cookie present = %v; want %v", hasCookie, tc.wantVary)
			}
			if got := strings.Join(rec.Header().Values("Cache-Control"), ", "); got != tc.wantCC {
				t.Errorf("Cache-Control = %q; want %q", got, tc.wantCC)
			}
			vary := slices.Contains(rec.Header().Values("Vary"), "Cookie")
			if vary != tc.wantVary {
				t.Errorf("Vary: Cookie = %v; want %v (Vary %q)", vary, tc.wantVary, rec.Header().Values("Vary"))
			}
		})
	}
}

// ctxStore fails like a network store when the request's context is
// done: it returns the context's error, wrapped.
type ctxStore struct {
	session.Store
	err error // returned (wrapped) whatever the context, when set
}

func (c *ctxStore) Load(ctx context.Context, tok string) (string, []byte, bool, error) {
	if c.err != nil {
		return "", nil, false, fmt.Errorf("fake: get: %w", c.err)
	}
	if err := ctx.Err(); err != nil {
		return "", nil, false, fmt.Errorf("fake: get: %w", err)
	}
	return c.Store.Load(ctx, tok)
}

func (c *ctxStore) Save(ctx context.Context, id string, rec []byte, exp time.Time) (string, error) {
	if c.err != nil {
		return "", fmt.Errorf("fake: set: %w", c.err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("fake: set: %w", err)
	}
	return c.Store.Save(ctx, id, rec, exp)
}

// TestCancelledRequestNotAnOutage: a client that disconnects cancels the
// request's context and the store returns context.Canceled; that is not
// a store failure, so no ERROR line (reliability item 5). A store that
// returns context.Canceled on its own, for a live request, is still one.
func TestCancelledRequestNotAnOutage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		storeErr  error // nil: the store returns the request context's error
		cancel    bool
		wantError bool
	}{
		{"client gone during load", nil, true, false},
		{"store's own cancellation, live request", context.Canceled, false, true},
		{"store timeout, live request", context.DeadlineExceeded, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &whotest.LogBuffer{}
			st := &ctxStore{Store: memstore.New(memstore.Options{}), err: tc.storeErr}
			m, err := session.New(session.Options{Store: st,
				Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			for _, h := range []http.HandlerFunc{set("k", "v"), func(w http.ResponseWriter, r *http.Request) {
				_ = session.From(r).Get("k")
			}} {
				req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
				req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: session.NewID()})
				rec := httptest.NewRecorder()
				m.Wrap(h).ServeHTTP(rec, req)
				if rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("status %d; want 503 (nobody reads it when cancelled)", rec.Code)
				}
			}
			gotError := strings.Contains(log.String(), "level=ERROR")
			if gotError != tc.wantError {
				t.Fatalf("ERROR line = %v; want %v; log:\n%s", gotError, tc.wantError, log)
			}
			if !tc.wantError && !strings.Contains(log.String(), "level=DEBUG") {
				t.Fatalf("no debug line for the cancelled request; log:\n%s", log)
			}
		})
	}
}
