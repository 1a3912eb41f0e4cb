package session_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// brokenStore fails every operation.
type brokenStore struct{}

func (brokenStore) Load(context.Context, string) (string, []byte, bool, error) {
	return "", nil, false, errors.New("store down")
}
func (brokenStore) Save(context.Context, string, []byte, time.Time) (string, error) {
	return "", errors.New("store down")
}
func (brokenStore) Delete(context.Context, string) error { return errors.New("store down") }

// storeErrors records the store_error events it observes.
type storeErrors struct {
	mu  sync.Mutex
	ops []string
}

func (o *storeErrors) Start(ctx context.Context, _ *http.Request) context.Context { return ctx }
func (o *storeErrors) Observe(_ context.Context, e who.Event) {
	if e.Kind == who.EventStoreError && e.Plugin == "session" && e.Err != nil {
		o.mu.Lock()
		o.ops = append(o.ops, e.Reason)
		o.mu.Unlock()
	}
}

// TestStoreErrorsReachObservers: a manager wrapped around a chain with
// observers (as config.Chain.Handler wraps it, through Observed) reports
// each failed load and save.
func TestStoreErrorsReachObservers(t *testing.T) {
	t.Parallel()
	obs := &storeErrors{}
	chain, err := who.New(who.Config{Observers: []who.Observer{obs}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Options{Store: brokenStore{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := chain.Observed(m.Wrap(chain.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.From(r).Set("k", "v") // loads (the cookie names a record): fails
	}))))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "gowho_session", Value: "abc"})
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) // a new session: the save fails
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.ops) != 2 || obs.ops[0] != "load" || obs.ops[1] != "save" {
		t.Errorf("store errors observed: %q, want [load save]", obs.ops)
	}
}
