package ldap

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

// hungModes are the two modes against a directory that never answers.
func hungModes(b *testserver.BlackHole) map[string]Options {
	url := "ldap://" + b.Addr
	return map[string]Options{
		"direct": {URL: url, BindDNTemplate: "uid=%s," + testserver.PeopleDN},
		"search": {URL: url, BaseDN: testserver.BaseDN, BindDN: testserver.ReaderDN, BindPassword: testserver.ReaderPassword},
	}
}

// detached logs in as the memcached wrapper calls the plugin: with a
// context that the caller's cancellation never ends.
func detached(ctx context.Context, p *Plugin, user, pw string) (string, error) {
	r := req().WithContext(context.WithoutCancel(ctx))
	return p.Authenticate(r, who.Identity{who.KeyLogin: user, who.KeyPassword: pw})
}

// waitFor waits until cond holds, or fails the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// result is one Authenticate call's answer.
type result struct {
	uid string
	err error
	d   time.Duration
}

// goLogin runs a detached login in a goroutine.
func goLogin(ctx context.Context, p *Plugin, user, pw string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		start := time.Now()
		uid, err := detached(ctx, p, user, pw)
		ch <- result{uid, err, time.Since(start)}
	}()
	return ch
}

// await returns the call's result, or fails the test when it has not
// returned within 10s (a call that ignores its deadline).
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the call is still running after 10s")
		return result{}
	}
}

// TestTimeoutCoversTheWait: with one connection per pool and a hung
// directory, queued calls fail when their own timeout ends, not one
// timeout after the previous call gave its slot back; the timeout is the
// plugin's, even when the caller's context has no deadline.
func TestTimeoutCoversTheWait(t *testing.T) {
	t.Parallel()
	b := testserver.StartBlackHole(t)
	for mode, o := range hungModes(b) {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			const timeout = 300 * time.Millisecond
			o.Timeout, o.MaxConnections = who.Duration(timeout), 1
			p := newPlugin(t, o)
			var calls []<-chan result
			for range 8 {
				calls = append(calls, goLogin(t.Context(), p, "alice", "alice-pass"))
			}
			for i, ch := range calls {
				r := await(t, ch)
				if r.uid != "" || !errors.Is(r.err, ErrBackend) || !errors.Is(r.err, context.DeadlineExceeded) {
					t.Errorf("call %d: %q, %v; want a timeout (ErrBackend, DeadlineExceeded)", i, r.uid, r.err)
				}
				// Without the call's own deadline the eighth call ends
				// after 8 × timeout.
				if r.d > timeout+time.Second {
					t.Errorf("call %d took %v with timeout = %v", i, r.d, timeout)
				}
			}
		})
	}
}

// TestCancelDuringPrepare: the service bind (and StartTLS) of a new
// connection is cut short by the call's context, not left to go-ldap's
// request timeout.
func TestCancelDuringPrepare(t *testing.T) {
	t.Parallel()
	b := testserver.StartBlackHole(t)
	o := hungModes(b)["search"]
	o.Timeout = who.Duration(time.Hour)
	p := newPlugin(t, o)
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan result, 1)
	go func() {
		uid, err := p.Authenticate(req().WithContext(ctx), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass"})
		ch <- result{uid: uid, err: err}
	}()
	waitFor(t, "the dial", func() bool { return b.Accepted() == 1 })
	cancel()
	r := await(t, ch)
	if r.uid != "" || !errors.Is(r.err, context.Canceled) || !errors.Is(r.err, ErrBackend) {
		t.Fatalf("%q, %v; want ErrBackend and context.Canceled", r.uid, r.err)
	}
}

// TestMaxInFlight: past max_in_flight calls, one more fails at once with
// ErrTooBusy (an ErrBackend) and never reaches the directory.
func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	b := testserver.StartBlackHole(t)
	o := hungModes(b)["direct"]
	o.Timeout, o.MaxInFlight = who.Duration(time.Hour), 2
	p := newPlugin(t, o)
	ctx, cancel := context.WithCancel(t.Context())
	var hung []<-chan result
	for range 2 {
		r := make(chan result, 1)
		go func() {
			uid, err := p.Authenticate(req().WithContext(ctx), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "pw"})
			r <- result{uid: uid, err: err}
		}()
		hung = append(hung, r)
	}
	waitFor(t, "two dials", func() bool { return b.Accepted() == 2 })
	r := await(t, goLogin(t.Context(), p, "bob", "pw"))
	if r.uid != "" || !errors.Is(r.err, ErrTooBusy) || !errors.Is(r.err, ErrBackend) {
		t.Fatalf("third call: %q, %v; want ErrTooBusy and ErrBackend", r.uid, r.err)
	}
	if n := b.Accepted(); n != 2 {
		t.Fatalf("the refused call reached the directory: %d connections", n)
	}
	cancel()
	for _, ch := range hung {
		await(t, ch)
	}
	// The slots are given back.
	if n := p.guard.inFlight.Load(); n != 0 {
		t.Fatalf("%d calls still counted in flight", n)
	}
}

// TestBackoff: after backoff_after failed calls, calls fail at once
// without contacting the directory; after backoff one probe goes
// through, and its failure starts a new back-off.
func TestBackoff(t *testing.T) {
	t.Parallel()
	b := testserver.StartBlackHole(t)
	for _, mode := range []string{"direct", "search"} {
		t.Run(mode, func(t *testing.T) {
			o := hungModes(b)[mode]
			o.Timeout, o.BackoffAfter, o.Backoff = who.Duration(100*time.Millisecond), 3, who.Duration(time.Minute)
			p := newPlugin(t, o)
			now := time.Now()
			p.guard.br.Now = func() time.Time { return now }
			base := b.Accepted()
			for i := range 3 {
				if r := await(t, goLogin(t.Context(), p, "alice", "pw")); !errors.Is(r.err, context.DeadlineExceeded) {
					t.Fatalf("call %d: %v; want a timeout", i, r.err)
				}
			}
			if n := b.Accepted() - base; n != 3 {
				t.Fatalf("%d connections for 3 calls", n)
			}
			r := await(t, goLogin(t.Context(), p, "alice", "pw"))
			if !errors.Is(r.err, ErrBackingOff) || !errors.Is(r.err, ErrBackend) {
				t.Fatalf("fourth call: %v; want ErrBackingOff", r.err)
			}
			if n := b.Accepted() - base; n != 3 {
				t.Fatal("a call in back-off reached the directory")
			}
			now = now.Add(time.Minute) // the back-off is over: one probe
			if r := await(t, goLogin(t.Context(), p, "alice", "pw")); !errors.Is(r.err, context.DeadlineExceeded) {
				t.Fatalf("probe: %v; want a timeout", r.err)
			}
			if n := b.Accepted() - base; n != 4 {
				t.Fatalf("the probe did not reach the directory (%d connections)", n)
			}
			if r := await(t, goLogin(t.Context(), p, "alice", "pw")); !errors.Is(r.err, ErrBackingOff) {
				t.Fatalf("after a failed probe: %v; want ErrBackingOff", r.err)
			}
		})
	}
}

// TestGuard walks the back-off's states with a fake clock.
func TestGuard(t *testing.T) {
	t.Parallel()
	fail := backendError("dial", errors.New("connection refused"))
	g := newGuard(10, 2, time.Second)
	now := time.Unix(0, 0)
	g.br.Now = func() time.Time { return now }
	call := func(err error) error {
		ticket, e := g.enter()
		if e != nil {
			return e
		}
		g.observe(err)
		g.leave(ticket)
		return nil
	}
	steps := []struct {
		name    string
		advance time.Duration
		outcome error // what the directory does if the call gets through
		want    error // nil: admitted
	}{
		{"first failure", 0, fail, nil},
		{"a wrong password is an answer", 0, backendError("bind", wrongPassword), nil},
		{"failure after an answer: the run starts again", 0, fail, nil},
		{"second failure in a row: back-off starts", 0, fail, nil},
		{"in back-off", 0, nil, ErrBackingOff},
		{"still in back-off", 999 * time.Millisecond, nil, ErrBackingOff},
		{"probe, fails", time.Millisecond, fail, nil},
		{"back-off again", 0, nil, ErrBackingOff},
		{"cancelled probe: no verdict", time.Second, context.Canceled, nil},
		{"next call probes", 0, nil, nil},
		{"closed", 0, nil, nil},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if err := call(s.outcome); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("%s: %v; want %v", s.name, err, s.want)
		}
	}

	// While a probe is in flight, every other call is refused.
	g = newGuard(10, 1, time.Second)
	g.br.Now = func() time.Time { return now }
	_ = call(fail)
	now = now.Add(time.Second)
	ticket, err := g.enter()
	if !ticket.Probe() || err != nil {
		t.Fatalf("probe: %v %v", ticket.Probe(), err)
	}
	if _, err := g.enter(); !errors.Is(err, ErrBackingOff) {
		t.Fatalf("a second call during the probe: %v", err)
	}
	g.observe(nil)
	g.leave(ticket)
	if _, err := g.enter(); err != nil {
		t.Fatalf("after a good probe: %v", err)
	}
}

var wrongPassword = goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("invalid credentials"))

// TestMaxPasswordBytes: a password over max_password_bytes is "no" without
// any connection; one at the bound reaches the directory.
func TestMaxPasswordBytes(t *testing.T) {
	t.Parallel()
	b := testserver.StartBlackHole(t)
	for mode, o := range hungModes(b) {
		t.Run(mode, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				max  int
				pw   string
				dial bool
			}{
				{"default, over", 0, strings.Repeat("x", who.DefaultMaxPasswordBytes+1), false},
				{"default, at", 0, strings.Repeat("x", who.DefaultMaxPasswordBytes), true},
				{"8, over", 8, "123456789", false},
				{"8, at", 8, "12345678", true},
				{"8, multibyte over", 8, "ééééé", false},
			} {
				o := o
				o.Timeout, o.MaxPasswordBytes = who.Duration(50*time.Millisecond), tc.max
				p := newPlugin(t, o)
				before := b.Accepted()
				uid, err := detached(t.Context(), p, "alice", tc.pw)
				dialled := b.Accepted() > before
				if dialled != tc.dial || uid != "" || (!tc.dial && err != nil) {
					t.Errorf("%s: %q, %v, reached the directory: %v; want %v", tc.name, uid, err, dialled, tc.dial)
				}
			}
		})
	}
}

// TestHungDirectoryLoad is the reliability goal: slapd black-holed with
// timeout = "1s", 1,000 logins whose clients give up at once (the calls
// run detached, as under the memcached wrapper). Every call ends within
// about the timeout, and the goroutines come back to their baseline. Not
// parallel: it counts the process's goroutines.
func TestHungDirectoryLoad(t *testing.T) {
	b := testserver.StartBlackHole(t)
	for _, mode := range []string{"search", "direct"} {
		t.Run(mode, func(t *testing.T) {
			o := hungModes(b)[mode]
			o.Timeout = who.Duration(time.Second)
			p := newPlugin(t, o)
			runtime.GC()
			baseline := runtime.NumGoroutine()
			const n = 1000
			durations := make([]time.Duration, n)
			var mu sync.Mutex
			outcomes := map[string]int{}
			var wg sync.WaitGroup
			start := time.Now()
			var peak int
			for i := range n {
				client, cancel := context.WithTimeout(t.Context(), time.Millisecond)
				ch := goLogin(client, p, fmt.Sprintf("user%d", i%64), fmt.Sprintf("pw%d", i))
				wg.Go(func() {
					<-client.Done() // the client gives up...
					cancel()
					r := <-ch // ...the call runs on
					durations[i] = r.d
					kind := "other: " + fmt.Sprint(r.err)
					switch {
					case errors.Is(r.err, ErrTooBusy):
						kind = "too busy"
					case errors.Is(r.err, ErrBackingOff):
						kind = "backing off"
					case errors.Is(r.err, context.DeadlineExceeded):
						kind = "timeout"
					}
					mu.Lock()
					outcomes[kind]++
					mu.Unlock()
				})
				if i%100 == 99 {
					peak = max(peak, runtime.NumGoroutine())
				}
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the calls are still running after 30s")
			}
			all := time.Since(start)
			// A new login after the clients gave up.
			r := await(t, goLogin(t.Context(), p, "alice", "alice-pass"))
			// Closed connections end their goroutines asynchronously.
			var after int
			deadline := time.Now().Add(10 * time.Second)
			for after = runtime.NumGoroutine(); after > baseline+50 && time.Now().Before(deadline); after = runtime.NumGoroutine() {
				time.Sleep(10 * time.Millisecond)
			}
			slices.Sort(durations)
			p50, p99, worst := durations[n/2], durations[n*99/100], durations[n-1]
			t.Logf("%s: %d abandoned logins in %v: p50 %v, p99 %v, max %v; goroutines: baseline %d, peak %d, after %d; a new login then: %v in %v; connections accepted by the black hole: %d; outcomes %v",
				mode, n, all.Round(time.Millisecond), p50.Round(time.Millisecond), p99.Round(time.Millisecond), worst.Round(time.Millisecond),
				baseline, peak, after, r.err, r.d.Round(time.Millisecond), b.Accepted(), outcomes)
			if after > baseline+50 {
				t.Errorf("goroutines: %d after the calls ended, baseline %d", after, baseline)
			}
			// Generous: the goal is 1.2s; a loaded -race run stays well
			// under this, the unfixed code does not (minutes).
			if p99 > 3*time.Second {
				t.Errorf("p99 %v with timeout = 1s", p99)
			}
			if !errors.Is(r.err, ErrBackend) || r.d > 3*time.Second {
				t.Errorf("a new login after the burst: %v in %v", r.err, r.d)
			}
		})
	}
}

// TestRecovery: a stopped directory is backed off, and logins work again
// within about backoff (1s by default) of its restart.
func TestRecovery(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	for _, mode := range []string{"search", "direct"} {
		o := modes(s)[mode]
		o.Timeout = who.Duration(time.Second)
		p := newPlugin(t, o)
		if uid, err := login(p, "alice", "alice-pass"); uid != "alice" {
			t.Fatalf("%s: before: %q %v", mode, uid, err)
		}
		s.Stop()
		calls := 0
		for {
			uid, err := login(p, "alice", "alice-pass")
			calls++
			if uid != "" || !errors.Is(err, ErrBackend) {
				t.Fatalf("%s: during the outage: %q, %v", mode, uid, err)
			}
			if errors.Is(err, ErrBackingOff) {
				break
			}
			if calls > DefaultBackoffAfter+1 {
				t.Fatalf("%s: no back-off after %d failed calls", mode, calls)
			}
		}
		s.Start()
		restarted := time.Now()
		for {
			uid, err := login(p, "alice", "alice-pass")
			if uid == "alice" {
				break
			}
			if time.Since(restarted) > 10*time.Second {
				t.Fatalf("%s: not recovered 10s after the restart: %q %v", mode, uid, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		d := time.Since(restarted)
		t.Logf("%s: back-off after %d failed calls; logins recovered %v after the restart", mode, calls-1, d.Round(time.Millisecond))
		if d > DefaultBackoff+2*time.Second {
			t.Errorf("%s: recovered %v after the restart; want about backoff (%v)", mode, d, DefaultBackoff)
		}
	}
}

// TestEqualizeTiming counts the binds slapd receives: with equalize_timing
// an unknown login costs one bind (of equalize_dn, with the password), as
// a wrong password does; without it, none.
func TestEqualizeTiming(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true, LogStats: true})
	o := modes(s)["search"]
	plain := newPlugin(t, o)
	o.EqualizeTiming = true
	eq := newPlugin(t, o)
	userBinds := func(after int, sentinel string) []string {
		t.Helper()
		out := s.WaitOutput(t, after, `BIND dn="`+sentinel+`"`)
		var binds []string
		for _, l := range strings.Split(out, "\n") {
			if i := strings.Index(l, `BIND dn="`); i >= 0 && !strings.Contains(l, testserver.ReaderDN) && !strings.Contains(l, sentinel) {
				binds = append(binds, l[i:])
			}
		}
		return binds
	}
	for _, tc := range []struct {
		name        string
		p           *Plugin
		user, pw    string
		wantBinds   int
		wantDNInLog string
	}{
		{"unknown user, plain", plain, "mallory", "guess", 0, ""},
		{"unknown user, equalized", eq, "mallory", "guess", 1, "cn=gowho-no-such-user," + testserver.BaseDN},
		{"wrong password, plain", plain, "bob", "guess", 1, testserver.UserDN("bob")},
		{"wrong password, equalized", eq, "bob", "guess", 1, testserver.UserDN("bob")},
		{"injection, equalized", eq, "*", "guess", 1, "cn=gowho-no-such-user," + testserver.BaseDN},
	} {
		mark := len(s.Output())
		if uid, err := login(tc.p, tc.user, tc.pw); uid != "" || err != nil {
			t.Fatalf("%s: %q %v", tc.name, uid, err)
		}
		// carol's wrong-password bind marks the end of this case in the log.
		if uid, err := login(plain, "carol", "x"); uid != "" || err != nil {
			t.Fatalf("sentinel: %q %v", uid, err)
		}
		binds := userBinds(mark, testserver.UserDN("carol"))
		if len(binds) != tc.wantBinds || (tc.wantDNInLog != "" && !strings.Contains(binds[0], tc.wantDNInLog)) {
			t.Errorf("%s: slapd saw user binds %q; want %d of %s", tc.name, binds, tc.wantBinds, tc.wantDNInLog)
		}
	}
	if uid, err := login(eq, "alice", "alice-pass"); uid != "alice" || err != nil {
		t.Fatalf("a good login with equalize_timing: %q %v", uid, err)
	}
}

// TestEqualizeTimingCost measures (and logs; no assertion: timing on a
// shared machine) an unknown login against a wrong password with a slow
// password hash, with and without equalize_timing, with equalize_dn an
// existing entry so the server hashes for both.
func TestEqualizeTimingCost(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement")
	}
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true, Hash: "argon2"})
	s.LDIF(s.UserLDIF("gowho-timing", "an unknowable password", 2000))
	for _, tc := range []struct {
		name string
		eq   bool
		dn   string
	}{
		{"plain", false, ""},
		{"equalize_timing, default dn", true, ""},
		{"equalize_timing, equalize_dn an entry", true, testserver.UserDN("gowho-timing")},
	} {
		o := modes(s)["search"]
		o.EqualizeTiming, o.EqualizeDN = tc.eq, tc.dn
		p := newPlugin(t, o)
		mean := func(user string) time.Duration {
			const n = 40
			start := time.Now()
			for range n {
				if uid, err := login(p, user, "guess"); uid != "" || err != nil {
					t.Fatalf("%s: %q %v", user, uid, err)
				}
			}
			return time.Since(start) / n
		}
		mean("bob") // warm the pools
		t.Logf("%s: unknown user %v, wrong password %v (mean of 40, argon2 directory)",
			tc.name, mean("mallory").Round(10*time.Microsecond), mean("bob").Round(10*time.Microsecond))
	}
}

// TestLongLoginCannotTripTheBackoff: a login over MaxLoginBytes is "no"
// without contacting the directory. Sent on, a 1 MiB login makes slapd
// drop the connection (sockbuf_max_incoming), a network failure:
// backoff_after such requests from an anonymous client backed the
// directory off for everyone.
func TestLongLoginCannotTripTheBackoff(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	for mode, o := range modes(s) {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			o.BackoffAfter, o.Backoff = 2, who.Duration(time.Hour)
			p := newPlugin(t, o)
			for _, n := range []int{MaxLoginBytes + 1, 100_000, 1 << 20} {
				for range 3 {
					if uid, err := login(p, strings.Repeat(",", n), "pw"); uid != "" || err != nil {
						t.Fatalf("login of %d bytes: %q, %v; want a plain no", n, uid, err)
					}
				}
			}
			if uid, err := login(p, "alice", "alice-pass"); uid != "alice" || err != nil {
				t.Fatalf("alice after the long logins: %q, %v", uid, err)
			}
			if uid, err := login(p, strings.Repeat("x", MaxLoginBytes), "pw"); uid != "" || err != nil {
				t.Fatalf("a login of MaxLoginBytes: %q, %v; want an answer from the directory", uid, err)
			}
		})
	}
}
