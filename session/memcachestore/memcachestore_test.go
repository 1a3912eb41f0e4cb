package memcachestore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memcachestore"
	"github.com/gowho/gowho/session/sessiontest"
)

func TestConformance(t *testing.T) {
	srv := testserver.Memcached(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		st, err := memcachestore.New(memcachestore.Options{Servers: []string{srv.Addr}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

func TestSeveralServers(t *testing.T) {
	a, b := testserver.Memcached(t), testserver.Memcached(t)
	st, err := memcachestore.New(memcachestore.Options{Servers: []string{"memcached://" + a.Addr, b.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var toks []string
	for range 20 {
		tok, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	for _, tok := range toks {
		if _, _, found, err := st.Load(ctx, tok); !found || err != nil {
			t.Fatalf("Load: %v %v", found, err)
		}
	}
	// The keys are spread: stopping one server loses some, not all, and
	// the others report a backend error, never "not found".
	b.Stop()
	var ok, failed int
	for _, tok := range toks {
		_, _, found, err := st.Load(ctx, tok)
		switch {
		case err != nil:
			failed++
		case found:
			ok++
		default:
			t.Fatalf("a record on a stopped server was reported missing, not failed")
		}
	}
	if ok == 0 || failed == 0 {
		t.Fatalf("ok=%d failed=%d; want records on both servers", ok, failed)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, servers := range [][]string{nil, {""}} {
		if _, err := memcachestore.New(memcachestore.Options{Servers: servers}); err == nil {
			t.Errorf("New(%q) = nil error", servers)
		}
	}
}

// TestRestartedServer: after memcached restarts (its data gone), the
// pooled connections are dead; the store must not fail the first request
// on each of them.
func TestRestartedServer(t *testing.T) {
	srv := testserver.Memcached(t)
	st, err := memcachestore.New(memcachestore.Options{Servers: []string{srv.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 { // fill the idle pool with several connections
		wg.Go(func() {
			if _, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	srv.Stop()
	srv.Start()
	for i := range 4 {
		if _, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("save %d after restart: %v", i, err)
		}
	}
}

// TestHungServer: with a memcached that accepts connections and never
// answers, a request that needs its session gets its 503 within the
// timeout (one attempt: a timeout is not retried), and after BackoffAfter
// failures the store fails fast without dialling (reliability item 6).
func TestHungServer(t *testing.T) {
	bh := testserver.StartBlackHole(t)
	st, err := memcachestore.New(memcachestore.Options{Servers: []string{bh.Addr}, Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sessiontest.HungBackend(t, st, memcachestore.BackoffAfter, memcachestore.ErrBackoff, bh.Accepted)
}

// TestBackoffPerServer: a hung server's back-off leaves the sessions on
// the other server working, and a server that comes back is probed and
// used again.
func TestBackoffPerServer(t *testing.T) {
	good := testserver.Memcached(t)
	bad := testserver.Memcached(t)
	st, err := memcachestore.New(memcachestore.Options{Servers: []string{good.Addr, bad.Addr}, Backoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	bad.Stop()
	var okSaves, failed, backedOff int
	for range 40 {
		_, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour))
		switch {
		case err == nil:
			okSaves++
		case errors.Is(err, memcachestore.ErrBackoff):
			backedOff++
		default:
			failed++
		}
	}
	if okSaves == 0 || backedOff == 0 || failed > memcachestore.BackoffAfter+1 {
		t.Fatalf("ok=%d failed=%d backed off=%d; want the good server used, the stopped one backed off after %d failures",
			okSaves, failed, backedOff, memcachestore.BackoffAfter)
	}
	bad.Start()
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; n < 20; {
		_, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour))
		if err == nil {
			n++
			continue
		}
		n = 0
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover after memcached came back: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // waiting out the 50ms back-off
	}
}

// TestDestroyUserNotSupported: memcached may evict an index entry without
// a word, so the store keeps none, and DestroyUser says so in a way
// callers can test (errors.Is ErrNotSupported) instead of destroying some
// sessions and leaving others.
func TestDestroyUserNotSupported(t *testing.T) {
	t.Parallel()
	st, err := memcachestore.New(memcachestore.Options{Servers: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := any(st).(session.UserIndexStore); ok {
		t.Fatal("memcachestore implements UserIndexStore")
	}
	m, err := session.New(session.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := m.DestroyUser(context.Background(), "alice"); n != 0 || !errors.Is(err, session.ErrNotSupported) {
		t.Fatalf("DestroyUser = %d, %v; want 0, ErrNotSupported", n, err)
	}
}
