package throttle

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// gate is a wrapped authenticator that holds every call until release is
// closed, so that many logins are in flight at once when the throttle
// decides; it counts the calls that reached it.
type gate struct {
	calls   atomic.Int64
	arrived chan struct{}
	release chan struct{}
}

func (g *gate) Authenticate(*http.Request, who.Identity) (string, error) {
	g.calls.Add(1)
	g.arrived <- struct{}{}
	<-g.release
	return "", nil
}

// TestConcurrentEdge: many goroutines send a wrong password for one user
// at the same moment, each held inside the wrapped authenticator until
// all have been decided: no more than max_failures reach it, in memory
// mode, per mode (run with -race).
func TestConcurrentEdge(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{ModeUser, ModeIP, ModeBoth} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			const workers = 64
			g := &gate{arrived: make(chan struct{}, workers), release: make(chan struct{})}
			th, _, logs := newThrottle(t, g, func(o *Options) { o.Mode = mode; o.MaxFailures = 5 })
			start := make(chan struct{})
			var wg sync.WaitGroup
			refused := make(chan struct{}, workers)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					uid, err := th.Authenticate(from("192.0.2.7"), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "wrong"})
					if err != nil || uid != "" {
						t.Errorf("Authenticate = %q, %v", uid, err)
					}
					refused <- struct{}{}
				}()
			}
			close(start)
			// Every worker either reached the gate or was refused: wait
			// for all of them to be decided before any call returns.
			timeout := time.After(20 * time.Second)
			for decided := 0; decided < workers; {
				select {
				case <-g.arrived:
					decided++
				case <-refused:
					decided++
				case <-timeout:
					t.Fatalf("only %d of %d logins decided", decided, workers)
				}
			}
			close(g.release)
			wg.Wait()
			if n := g.calls.Load(); n > 5 || n < 1 {
				t.Fatalf("%d calls reached the wrapped authenticator, max_failures 5", n)
			}
			if uid := login(t, th, "192.0.2.7", "alice", "right"); uid != "" {
				t.Fatalf("banned login answered %q", uid)
			}
			if n := g.calls.Load(); n > 5 {
				t.Fatalf("a banned login reached the wrapped authenticator (%d calls)", n)
			}
			if s := th.Stats(); s.Bans < 1 {
				t.Fatalf("no ban after the edge: %+v\n%s", s, logs)
			}
		})
	}
}

// TestBanSurvivesFlood: in mode "user" one client bans alice, then sends
// max_entries distinct logins; alice must still be banned (a flood of
// junk logins must not evict a ban from the bounded memory and give the
// attacker a fresh max_failures guesses).
func TestBanSurvivesFlood(t *testing.T) {
	t.Parallel()
	b := newBackend()
	th, _, _ := newThrottle(t, b, func(o *Options) { o.MaxEntries = 100; o.Mode = ModeUser })
	for range 3 {
		login(t, th, "192.0.2.1", "alice", "wrong")
	}
	for i := range 1000 {
		login(t, th, "192.0.2.1", fmt.Sprint("junk", i), "x")
	}
	before := b.calls.Load()
	if uid := login(t, th, "192.0.2.1", "alice", "right"); uid != "" {
		t.Fatalf("alice's ban was evicted by %d junk logins: the right password passed during the ban", 1000)
	}
	if b.calls.Load() != before {
		t.Fatal("banned alice reached the wrapped authenticator after a flood")
	}
	if n := th.local.len(); n > 2*100 {
		t.Fatalf("%d entries in memory, max_entries 100", n)
	}
}

// slowBackend takes a fixed time per call, as bcrypt does.
type slowBackend struct{ calls atomic.Int64 }

func (s *slowBackend) Authenticate(*http.Request, who.Identity) (string, error) {
	s.calls.Add(1)
	time.Sleep(20 * time.Millisecond)
	return "", nil
}

// TestBannedTiming: a banned known user and a banned unknown user are
// both answered without the wrapped call, hence in the same (short) time.
func TestBannedTiming(t *testing.T) {
	t.Parallel()
	s := &slowBackend{}
	th, _, _ := newThrottle(t, s, func(o *Options) { o.Mode = ModeUser })
	for _, u := range []string{"alice", "nobody-such"} {
		for range 3 {
			login(t, th, "192.0.2.1", u, "wrong")
		}
	}
	calls := s.calls.Load()
	for _, u := range []string{"alice", "nobody-such"} {
		start := time.Now()
		for range 50 {
			login(t, th, "192.0.2.1", u, "wrong")
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("50 banned logins of %s took %v: the wrapped call ran", u, d)
		}
	}
	if s.calls.Load() != calls {
		t.Fatal("a banned login reached the wrapped authenticator")
	}
}
