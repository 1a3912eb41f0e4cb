package memcached

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

// hung is a wrapped authenticator that does not answer until release is
// closed; with honour it gives up when its request's context ends, as a
// well-behaved backend client does.
type hung struct {
	honour   bool
	release  chan struct{}
	started  chan struct{} // if set, each call sends on it first
	calls    atomic.Int64
	cur, max atomic.Int64 // calls running now, and at most
}

func newHung(honour bool) *hung { return &hung{honour: honour, release: make(chan struct{})} }

func (h *hung) Authenticate(r *http.Request, id who.Identity) (string, error) {
	h.calls.Add(1)
	n := h.cur.Add(1)
	defer h.cur.Add(-1)
	for m := h.max.Load(); n > m && !h.max.CompareAndSwap(m, n); m = h.max.Load() {
	}
	if h.started != nil {
		h.started <- struct{}{}
	}
	if h.honour {
		select {
		case <-r.Context().Done():
			return "", fmt.Errorf("hung backend: %w", r.Context().Err())
		case <-h.release:
		}
	} else {
		<-h.release
	}
	return "uid=" + id.Str(who.KeyLogin), nil
}

func newHungCache(t *testing.T, addr string, h *hung, mod func(*Options)) *Cache {
	t.Helper()
	o := Options{
		MemcachedURLs: who.Words{addr}, AuthenticatorName: "hung", Authenticator: h,
		Secret: "s-hung", Logger: quietLogger(),
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Cleanup(func() { close(h.release) }) // runs first: frees what is still blocked
	return c
}

// within returns the error of one Authenticate of login, and fails the
// test if it has not returned after d: a generous bound that only a call
// without a deadline misses.
func within(t *testing.T, d time.Duration, c *Cache, login string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Authenticate(req(), creds(login, "pw"))
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %v: a call without a deadline", login, d)
		return nil
	}
}

// settleGoroutines waits (up to 20s) until at most max goroutines run,
// and returns the last count.
func settleGoroutines(max int) int {
	deadline := time.Now().Add(20 * time.Second)
	n := runtime.NumGoroutine()
	for n > max && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		runtime.Gosched()
		n = runtime.NumGoroutine()
	}
	return n
}

// TestHungBackend: 1,000 logins abandoned by their clients against a hung
// wrapped authenticator leave no goroutines behind, never run more than
// max_in_flight backend calls, and a later request still gets an answer
// (an error) within call_timeout. Not parallel: it counts the process's
// goroutines.
func TestHungBackend(t *testing.T) {
	mc := testserver.Memcached(t)
	h := newHung(true)
	c := newHungCache(t, mc.Addr, h, func(o *Options) { o.CallTimeout = who.Duration(time.Second) })
	baseline := runtime.NumGoroutine()

	var wg sync.WaitGroup
	var busy, gaveUp, other atomic.Int64
	for i := range 1000 {
		wg.Go(func() {
			// The client gives up after 100ms; half the logins share a key.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			login := fmt.Sprintf("user%d", i%500)
			_, err := c.Authenticate(req().WithContext(ctx), creds(login, "pw"))
			switch {
			case errors.Is(err, ErrTooBusy):
				busy.Add(1)
			case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrCallTimeout):
				gaveUp.Add(1) // (call_timeout only for a request starved of CPU for 1s)
			default:
				other.Add(1)
				t.Errorf("%s: %v, want the request's deadline or ErrTooBusy", login, err)
			}
		})
	}
	wg.Wait()
	n := settleGoroutines(baseline + 50)
	t.Logf("goroutines: baseline %d, after 1000 abandoned logins %d; %d gave up, %d refused (max_in_flight), "+
		"%d backend calls, at most %d at once; %+v", baseline, n, gaveUp.Load(), busy.Load(), h.calls.Load(), h.max.Load(), c.Stats())
	if n > baseline+50 {
		t.Fatalf("%d goroutines left after 1000 abandoned logins, baseline %d", n, baseline)
	}
	if m := h.max.Load(); m > DefaultMaxInFlight {
		t.Fatalf("%d backend calls ran at once, max_in_flight %d", m, DefaultMaxInFlight)
	}

	// A request that waits: the hung call ends at call_timeout.
	if err := within(t, 30*time.Second, c, "late"); !errors.Is(err, ErrCallTimeout) {
		t.Errorf("a request after the abandoned ones: %v, want ErrCallTimeout", err)
	}
}

// TestInFlightBound: past max_in_flight a new backend call fails at once
// (the chain goes on) while a request for a key in flight still joins it;
// waiters leave at call_timeout even when the backend ignores it, whose
// call keeps its slot until it returns.
func TestInFlightBound(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)

	t.Run("fail fast", func(t *testing.T) {
		t.Parallel()
		h := newHung(false)
		h.started = make(chan struct{}, 8)
		c := newHungCache(t, mc.Addr, h, func(o *Options) { o.MaxInFlight = 4; o.CallTimeout = who.Duration(time.Hour) })
		joined := make(chan struct{}, 1)
		OnJoin(c, func() { joined <- struct{}{} })
		answers := make(chan string, 4)
		for i := range 4 {
			go func() {
				uid, _ := c.Authenticate(req(), creds(fmt.Sprintf("user%d", i), "pw"))
				answers <- uid
			}()
		}
		for range 4 {
			<-h.started
		}
		if err := within(t, 10*time.Second, c, "user4"); !errors.Is(err, ErrTooBusy) {
			t.Fatalf("a fifth call: %v, want ErrTooBusy", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		waiter := make(chan error)
		go func() {
			_, err := c.Authenticate(req().WithContext(ctx), creds("user0", "pw"))
			waiter <- err
		}()
		<-joined // a request for a key in flight is not refused
		cancel()
		if err := <-waiter; !errors.Is(err, context.Canceled) {
			t.Fatalf("waiter: %v", err)
		}
		h.release <- struct{}{} // one call answers
		uid := <-answers
		if uid == "" {
			t.Fatal("a call in flight failed")
		}
		if s := c.Stats(); s.TooBusy != 1 || s.Joined != 1 || h.calls.Load() != 4 {
			t.Fatalf("stats %+v, %d backend calls", s, h.calls.Load())
		}
	})

	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		h := newHung(false)
		c := newHungCache(t, mc.Addr, h, func(o *Options) { o.MaxInFlight = 1; o.CallTimeout = who.Duration(200 * time.Millisecond) })
		if err := within(t, 30*time.Second, c, "alice"); !errors.Is(err, ErrCallTimeout) {
			t.Fatalf("hung backend: %v, want ErrCallTimeout", err)
		}
		// The call still runs (the backend ignores its context): it keeps
		// its slot, so goroutines stay bounded.
		if err := within(t, 10*time.Second, c, "bob"); !errors.Is(err, ErrTooBusy) {
			t.Fatalf("while the timed-out call runs: %v, want ErrTooBusy", err)
		}
		if s := c.Stats(); s.Timeouts != 1 || s.TooBusy != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
}
