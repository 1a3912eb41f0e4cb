package redisstore_test

import (
	"context"
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
