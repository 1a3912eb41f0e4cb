package session_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// TestEndedWhileInFlight: a request loads its session, the record is
// deleted meanwhile (as Session.Destroy in another request, or
// DestroyUser, does), and the request changes and saves it. With a
// SaveInfoStore the save is dropped (ErrGone is no store failure: no 503,
// no store_error event, no error log), the cookie is expired, and what is
// left of the request sees a new, empty session. With a plain Store the
// manager cannot tell it, and the record is written back (documented).
// plainStore (destroyuser_example_test.go) hides memstore's SaveInfo.
func TestEndedWhileInFlight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		plain     bool
		writeBack bool
	}{
		{"SaveInfoStore", false, false},
		{"plain Store", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ms := memstore.New(memstore.Options{})
			var st session.Store = ms
			if tc.plain {
				st = plainStore{ms}
			}
			_, buf := whotest.Logger(t) // shown when the test fails
			log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			m, err := session.New(session.Options{Store: st, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			obs := &storeErrors{}
			chain, err := who.New(who.Config{Observers: []who.Observer{obs}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			first := httptest.NewRecorder()
			m.Wrap(set("k", "before")).ServeHTTP(first, httptest.NewRequest(http.MethodGet, "/", nil))
			c := sessionCookie(first)
			if c == nil {
				t.Fatal("no session cookie")
			}
			id := c.Value
			var after any
			var afterNew bool
			h := chain.Observed(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r)
				if got := s.GetString("k"); got != "before" {
					t.Errorf("loaded k = %q; want before", got)
				}
				if err := ms.Delete(ctx, id); err != nil { // another request ends it
					t.Error(err)
				}
				if err := s.Set("k", "after"); err != nil {
					t.Error(err)
				}
				w.WriteHeader(http.StatusOK) // the commit
				after, afterNew = s.Get("k"), s.IsNew()
			})))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: id})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d; want 200", rec.Code)
			}
			_, _, found, _ := ms.Load(ctx, id)
			if found != tc.writeBack {
				t.Fatalf("record there after the save: %v; want %v", found, tc.writeBack)
			}
			if tc.writeBack {
				return
			}
			c = sessionCookie(rec)
			if c == nil || c.MaxAge >= 0 {
				t.Errorf("session cookie %v; want it expired", c)
			}
			if after != nil || !afterNew {
				t.Errorf("after the commit: k = %v, IsNew %v; want nil, true (a new, empty session)", after, afterNew)
			}
			obs.mu.Lock()
			ops := obs.ops
			obs.mu.Unlock()
			if len(ops) != 0 {
				t.Errorf("store errors observed: %q; want none", ops)
			}
			if l := buf.String(); strings.Contains(l, "level=ERROR") || !strings.Contains(l, "save dropped") {
				t.Errorf("log %q: want a debug line \"save dropped\" and no error", l)
			}
		})
	}
}
