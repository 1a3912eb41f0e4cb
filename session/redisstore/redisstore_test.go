package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/redisstore"
	"github.com/gowho/gowho/session/sessiontest"
)

func TestConformance(t *testing.T) {
	srv := testserver.Redis(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "http://nope", "redis://host:notaport"} {
		if _, err := redisstore.New(redisstore.Options{URL: u}); err == nil {
			t.Errorf("New(%q) = nil error", u)
		}
	}
}

// TestRestartedServer: after Redis restarts, pooled connections are dead;
// the store must not fail requests for that.
func TestRestartedServer(t *testing.T) {
	srv := testserver.Redis(t)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 { // several pooled connections
		wg.Go(func() {
			if _, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	srv.Stop()
	srv.Start()
	for i := range 8 {
		if _, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("save %d after restart: %v", i, err)
		}
	}
}

// TestHungServer: with a Redis that accepts connections and never answers,
// a request that needs its session gets its 503 within the timeouts
// (go-redis's defaults made it 5-17 s; one attempt: a timeout is not
// retried), and after BackoffAfter failures the store fails fast without
// asking Redis (reliability item 6).
func TestHungServer(t *testing.T) {
	bh := testserver.StartBlackHole(t)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + bh.Addr + "/0", Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sessiontest.HungBackend(t, st, redisstore.BackoffAfter, redisstore.ErrBackoff, bh.Accepted)
}

// TestBackoffProbe: during the back-off the store fails fast; after it, a
// request probes Redis and, once Redis is back, the store works again.
func TestBackoffProbe(t *testing.T) {
	srv := testserver.Redis(t)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0", Backoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	srv.Stop()
	for range redisstore.BackoffAfter {
		if _, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour)); err == nil || errors.Is(err, redisstore.ErrBackoff) {
			t.Fatalf("save with Redis stopped: %v; want a connection error", err)
		}
	}
	if _, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour)); !errors.Is(err, redisstore.ErrBackoff) {
		t.Fatalf("save during the back-off: %v; want ErrBackoff", err)
	}
	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover after Redis came back: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // waiting out the 50ms back-off
	}
}

// TestCancelledNotAFailure: a cancelled caller's error is context.Canceled
// (so the manager does not log an outage) and does not count toward the
// back-off.
func TestCancelledNotAFailure(t *testing.T) {
	srv := testserver.Redis(t)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 2 * redisstore.BackoffAfter {
		if _, _, _, err := st.Load(ctx, session.NewID()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Load with a cancelled context: %v; want context.Canceled", err)
		}
	}
	if _, _, _, err := st.Load(context.Background(), session.NewID()); err != nil {
		t.Fatalf("after cancelled calls: %v; want no back-off", err)
	}
}

func TestUserIndex(t *testing.T) {
	srv := testserver.Redis(t)
	sessiontest.RunUserIndex(t, func(t *testing.T) session.Store {
		st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

// TestSaveExistingWaitReplicas: with wait_replicas, SET … XX goes in the
// same pipeline as WAIT: over a key that is gone it is ErrGone (nothing
// written, so nothing to replicate), not ErrNotReplicated; over a key
// there it is written, and then waits as any save. A gone key does not
// count toward the back-off: it is an answer.
func TestSaveExistingWaitReplicas(t *testing.T) {
	srv := testserver.Redis(t)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0", WaitReplicas: 1, ReadTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for range redisstore.BackoffAfter + 1 {
		_, err = st.SaveInfo(ctx, session.NewID(), []byte("r"), exp, session.SaveInfo{Existing: true})
		if !errors.Is(err, session.ErrGone) || errors.Is(err, redisstore.ErrNotReplicated) {
			t.Fatalf("SaveInfo Existing over no key = %v; want ErrGone", err)
		}
	}
	id := session.NewID()
	if err := st.Client().Set(ctx, "gowho:session:"+id, session.WrapExpiry([]byte("old"), exp), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = st.SaveInfo(ctx, id, []byte("new"), exp, session.SaveInfo{Existing: true})
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("SaveInfo Existing over a key there, no replica = %v; want ErrNotReplicated", err)
	}
	if _, rec, found, err := st.Load(ctx, id); err != nil || !found || string(rec) != "new" {
		t.Fatalf("Load = %q, %v, %v; want new", rec, found, err)
	}
}

// TestRecoveryAfterPoolGaveUp: go-redis's pool stops dialling after
// PoolSize failed dials and then probes Redis only once a second; behind
// the store's own back-off the two waits added up (the soak saw a login
// fail 2 s after Redis was back). The store renews its client when its
// back-off opens, so Redis is used again at the store's next probe.
func TestRecoveryAfterPoolGaveUp(t *testing.T) {
	srv := testserver.Redis(t)
	const poolSize = 2
	st, err := redisstore.New(redisstore.Options{URL: fmt.Sprintf("redis://%s/0?pool_size=%d", srv.Addr, poolSize), Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	save := func() error {
		_, err := st.Save(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour))
		return err
	}
	srv.Stop()
	// Enough failed dials for the pool to give up, each one a probe after
	// the 1 ms back-off.
	for i := 0; i < redisstore.BackoffAfter+4*poolSize; i++ {
		if err := save(); err == nil {
			t.Fatal("save with Redis stopped: nil error")
		}
		time.Sleep(2 * time.Millisecond)
	}
	srv.Start()
	started := time.Now()
	for save() != nil {
		if time.Since(started) > 10*time.Second {
			t.Fatal("the store did not recover in 10 s after Redis came back")
		}
		time.Sleep(2 * time.Millisecond) // the 1 ms back-off
	}
	// The pool's own probe waits a second: well under it, the store's
	// next probe found Redis.
	if took := time.Since(started); took > 500*time.Millisecond {
		t.Errorf("a save worked again %v after Redis was back; want it at the store's next probe (1 ms back-off)", took)
	}
}
