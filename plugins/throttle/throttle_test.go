package throttle

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// backend is the wrapped authenticator: it counts its calls and knows
// alice's password.
type backend struct {
	calls atomic.Int64
	err   error
	mu    sync.Mutex
	users map[string]string
}

func newBackend() *backend {
	return &backend{users: map[string]string{"alice": "right", "bob": "bobs"}}
}

func (b *backend) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	b.calls.Add(1)
	if b.err != nil {
		return "", b.err
	}
	b.mu.Lock()
	want, ok := b.users[id.Str(who.KeyLogin)]
	b.mu.Unlock()
	if ok && id.Str(who.KeyPassword) == want {
		return id.Str(who.KeyLogin), nil
	}
	return "", nil
}

func newThrottle(t testing.TB, b who.Authenticator, mod func(*Options)) (*Throttle, *Clock, *whotest.LogBuffer) {
	t.Helper()
	logs := &whotest.LogBuffer{}
	o := Options{AuthenticatorName: "backend", Authenticator: b, MaxFailures: 3, Window: who.Duration(time.Minute),
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if mod != nil {
		mod(&o)
	}
	th, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Validate(); err != nil {
		t.Fatal(err)
	}
	clock := &Clock{}
	UseClock(th, clock)
	t.Cleanup(func() { th.Close() })
	return th, clock, logs
}

func from(addr string) *http.Request {
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = addr + ":4711"
	return r
}

func login(t testing.TB, th *Throttle, addr, user, pw string) string {
	t.Helper()
	uid, err := th.Authenticate(from(addr), who.Identity{who.KeyLogin: user, who.KeyPassword: pw})
	if err != nil {
		t.Fatalf("Authenticate(%s from %s): %v", user, addr, err)
	}
	return uid
}

// TestBan: per mode, max_failures wrong passwords ban; a banned login is
// "no" without a backend call, even with the right password; the ban ends
// after ban; the other subject is untouched.
func TestBan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode string
		// after alice's failures from 192.0.2.1:
		otherAddrRight bool // alice, right password, from another address
		otherUserRight bool // bob, right password, from the same address
	}{
		{ModeUser, false, true},
		{ModeIP, true, false},
		{ModeBoth, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			b := newBackend()
			th, clock, logs := newThrottle(t, b, func(o *Options) { o.Mode = tc.mode; o.Ban = who.Duration(10 * time.Minute) })
			for i := range 10 {
				if uid := login(t, th, "192.0.2.1", "alice", fmt.Sprint("wrong", i)); uid != "" {
					t.Fatalf("wrong password %d logged in as %q", i, uid)
				}
			}
			if n := b.calls.Load(); n != 3 {
				t.Fatalf("backend calls = %d, want max_failures = 3", n)
			}
			if uid := login(t, th, "192.0.2.1", "alice", "right"); uid != "" {
				t.Fatalf("banned: right password logged in as %q", uid)
			}
			if n := b.calls.Load(); n != 3 {
				t.Fatalf("a banned login reached the backend (%d calls)", n)
			}
			if got := login(t, th, "198.51.100.7", "alice", "right") != ""; got != tc.otherAddrRight {
				t.Errorf("alice from another address logged in = %v, want %v", got, tc.otherAddrRight)
			}
			if got := login(t, th, "192.0.2.1", "bob", "bobs") != ""; got != tc.otherUserRight {
				t.Errorf("bob from the same address logged in = %v, want %v", got, tc.otherUserRight)
			}
			wantBans := 1
			if tc.mode == ModeBoth {
				wantBans = 2 // the userid and the address
			}
			if n := strings.Count(logs.String(), `msg="gowho ban"`); n != wantBans {
				t.Errorf("%d ban lines, want %d:\n%s", n, wantBans, logs)
			}
			clock.Advance(10*time.Minute + time.Second)
			if uid := login(t, th, "192.0.2.1", "alice", "right"); uid != "alice" {
				t.Fatalf("after the ban: right password = %q, want alice", uid)
			}
			st := th.Stats()
			if st.Bans != int64(wantBans) || st.Refused == 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestUnknownUserLikeKnown: a login nobody has is counted and banned
// exactly as a real one: the ban reveals nothing about who exists.
func TestUnknownUserLikeKnown(t *testing.T) {
	t.Parallel()
	trace := func(user string) string {
		b := newBackend()
		th, _, _ := newThrottle(t, b, func(o *Options) { o.Mode = ModeUser })
		var out []string
		for range 6 {
			before := b.calls.Load()
			uid := login(t, th, "192.0.2.1", user, "guess")
			out = append(out, fmt.Sprintf("%q/%d", uid, b.calls.Load()-before))
		}
		return strings.Join(out, " ") + fmt.Sprintf(" bans=%d", th.Stats().Bans)
	}
	known, unknown := trace("alice"), trace("nobody-at-all")
	if known != unknown {
		t.Fatalf("known user: %s\nunknown user: %s", known, unknown)
	}
}

// TestSuccess: a success before the ban resets the userid's count (and
// not the address's); during a ban the right password changes nothing.
func TestSuccess(t *testing.T) {
	t.Parallel()
	t.Run("resets the user count", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		th, _, _ := newThrottle(t, b, func(o *Options) { o.Mode = ModeUser })
		for range 5 {
			login(t, th, "192.0.2.1", "alice", "wrong")
			login(t, th, "192.0.2.1", "alice", "wrong")
			if uid := login(t, th, "192.0.2.1", "alice", "right"); uid != "alice" {
				t.Fatalf("2 failures then the right password: %q", uid)
			}
		}
		if th.Stats().Bans != 0 {
			t.Fatal("banned though every run of failures stayed under max_failures")
		}
	})
	t.Run("keeps the address count", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		th, _, _ := newThrottle(t, b, func(o *Options) { o.Mode = ModeIP })
		// An attacker who knows bob's password interleaves it with
		// guesses at other users: the guesses still add up.
		for i := range 3 {
			login(t, th, "192.0.2.1", "bob", "bobs")
			login(t, th, "192.0.2.1", fmt.Sprint("user", i), "guess")
		}
		if th.Stats().Bans != 1 {
			t.Fatalf("bans = %d: successes reset the address's count", th.Stats().Bans)
		}
	})
}

// TestPassThrough: identities without a password (a cookie, a token)
// reach the wrapped authenticator uncounted, banned address or not; a
// backend error is returned and counts nothing.
func TestPassThrough(t *testing.T) {
	t.Parallel()
	b := newBackend()
	th, _, _ := newThrottle(t, b, nil)
	for range 10 {
		if _, err := th.Authenticate(from("192.0.2.1"), who.Identity{who.KeyUserID: "alice", "tokens": []string{"x"}}); err != nil {
			t.Fatal(err)
		}
	}
	if b.calls.Load() != 10 || th.Stats().Bans != 0 {
		t.Fatalf("cookie identities: calls %d, stats %+v", b.calls.Load(), th.Stats())
	}
	b.err = errors.New("directory down")
	for range 10 {
		if _, err := th.Authenticate(from("192.0.2.1"), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "x"}); err == nil {
			t.Fatal("backend error lost")
		}
	}
	b.err = nil
	if uid := login(t, th, "192.0.2.1", "alice", "right"); uid != "alice" {
		t.Fatalf("after backend errors: %q (errors were counted as failures)", uid)
	}
}

// TestFoldCase: "Alice " and "alice" are one userid by default, two with
// fold_case = false.
func TestFoldCase(t *testing.T) {
	t.Parallel()
	for _, fold := range []bool{true, false} {
		t.Run(fmt.Sprint(fold), func(t *testing.T) {
			t.Parallel()
			th, _, _ := newThrottle(t, newBackend(), func(o *Options) { o.Mode = ModeUser; o.FoldCase = &fold })
			for _, u := range []string{"ALICE", "Alice ", " alice", "aLiCe"} {
				login(t, th, "192.0.2.1", u, "wrong")
			}
			if got := th.Stats().Bans == 1; got != fold {
				t.Fatalf("fold_case %v: banned = %v", fold, got)
			}
		})
	}
}

// TestMemoryBounded: a flood of distinct logins keeps at most
// max_entries subjects in memory.
func TestMemoryBounded(t *testing.T) {
	t.Parallel()
	th, _, _ := newThrottle(t, newBackend(), func(o *Options) { o.MaxEntries = 100; o.Mode = ModeUser })
	for i := range 5000 {
		login(t, th, "192.0.2.1", fmt.Sprint("user", i), "x")
	}
	if n := th.local.len(); n > 100 {
		t.Fatalf("%d entries, max_entries 100", n)
	}
}

// TestClientAddr: the address counted, normalised.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:1234", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:80", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"192.0.2.9", "192.0.2.9"},
		{"@", "unknown"},
		{"", "unknown"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if got := clientAddr(r); got != tc.want {
			t.Errorf("clientAddr(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
	// Behind a trusted proxy the middleware puts the client it named in
	// the context: that is the address counted, not the proxy's.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:4711"
	r = r.WithContext(who.WithOrigin(r.Context(), who.Origin{Client: netip.MustParseAddr("203.0.113.5")}))
	if got := clientAddr(r); got != "203.0.113.5" {
		t.Errorf("behind a trusted proxy: clientAddr = %q, want the client the proxy named", got)
	}
	// A trusted proxy that names no readable client: counted under one
	// address, not skipped (an unreadable hop must not escape the limit).
	r = r.WithContext(who.WithOrigin(r.Context(), who.Origin{}))
	if got := clientAddr(r); got != "unknown" {
		t.Errorf("unknown client: clientAddr = %q, want \"unknown\"", got)
	}
}

// TestOptionErrors: each wrong option is an *who.OptionError on its key,
// all of them at once.
func TestOptionErrors(t *testing.T) {
	t.Parallel()
	_, err := New(Options{})
	if !errors.Is(err, ErrNothingToWrap) {
		t.Fatalf("no authenticator_name: %v", err)
	}
	_, err = New(Options{AuthenticatorName: "x", Mode: "users", OnStoreError: "maybe", MaxFailures: -1, Window: -1,
		RedisURL: "redis://127.0.0.1:1", MemcachedURLs: who.Words{"127.0.0.1:1"}, KeyPrefix: "a b"})
	for _, key := range []string{"mode", "on_store_error", "max_failures", "window", "memcached_urls", "key_prefix"} {
		if err == nil || !strings.Contains(err.Error(), key+": ") {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
	var oe *who.OptionError
	if !errors.As(err, &oe) {
		t.Errorf("%v is no *who.OptionError", err)
	}
	if _, err := New(Options{AuthenticatorName: "x", RedisURL: "http://nope"}); err == nil || !strings.Contains(err.Error(), "redis_url: ") {
		t.Errorf("bad redis_url: %v", err)
	}
	// A redis_url that does not parse is named, its password masked
	// (url.Parse's own message quotes the whole URL).
	_, err = New(Options{AuthenticatorName: "x", RedisURL: "redis://app:s3cr/et@127.0.0.1:port/0"})
	if err == nil || strings.Contains(err.Error(), "s3cr") || !strings.Contains(err.Error(), "redis://app:xxxxx@") {
		t.Errorf("unparsable redis_url with a password: %v", err)
	}
}

// TestStoreDown: a shared store that never answers costs at most about
// timeout per login, and on_store_error decides; one warning per
// back-off, without the password.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode       string
		wantCalls  int64 // backend calls for 10 wrong passwords
		rightLogin bool  // then the right password logs in
	}{
		{StoreErrorLocal, 3, false},
		{StoreErrorOpen, 10, true},
		{StoreErrorClosed, 0, false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			hole := testserver.StartBlackHole(t)
			b := newBackend()
			th, _, logs := newThrottle(t, b, func(o *Options) {
				o.RedisURL = "redis://" + hole.Addr
				o.Timeout = who.Duration(100 * time.Millisecond)
				o.OnStoreError = tc.mode
				o.Mode = ModeUser
			})
			start := time.Now()
			for range 10 {
				login(t, th, "192.0.2.1", "alice", "secret-guess")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("10 logins took %v with a hung store (timeout 100ms, backoff 5s)", d)
			}
			if n := b.calls.Load(); n != tc.wantCalls {
				t.Errorf("backend calls = %d, want %d", n, tc.wantCalls)
			}
			if got := login(t, th, "192.0.2.1", "alice", "right") != ""; got != tc.rightLogin {
				t.Errorf("right password logged in = %v, want %v", got, tc.rightLogin)
			}
			out := logs.String()
			if n := strings.Count(out, "throttle: shared store failed"); n != 1 {
				t.Errorf("%d store warnings, want 1:\n%s", n, out)
			}
			if strings.Contains(out, "secret-guess") || strings.Contains(out, "right") {
				t.Errorf("a password reached the log:\n%s", out)
			}
		})
	}
}

// TestRedisRecoveryAfterPoolGaveUp: go-redis's pool stops dialling after
// PoolSize failed dials and then probes only once a second, which behind
// the throttle's back-off kept refusing logins (on_store_error =
// "closed") for up to a second after Redis was back. The throttle renews
// its client when its back-off opens.
func TestRedisRecoveryAfterPoolGaveUp(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	const poolSize = 2
	th, _, _ := newThrottle(t, newBackend(), func(o *Options) {
		o.RedisURL = fmt.Sprintf("redis://%s/0?pool_size=%d", srv.Addr, poolSize)
		o.Timeout = who.Duration(200 * time.Millisecond)
		o.Backoff = who.Duration(time.Millisecond)
		o.OnStoreError = StoreErrorClosed
		o.Mode = ModeUser
	})
	if login(t, th, "192.0.2.1", "alice", "right") != "alice" {
		t.Fatal("no login with Redis up")
	}
	srv.Stop()
	for range 3 + 4*poolSize { // failed dials, each a probe after the 1 ms back-off
		if login(t, th, "192.0.2.1", "alice", "right") != "" {
			t.Fatal("a login with Redis stopped and on_store_error = closed")
		}
		time.Sleep(2 * time.Millisecond)
	}
	srv.Start()
	started := time.Now()
	for login(t, th, "192.0.2.1", "alice", "right") != "alice" {
		if time.Since(started) > 10*time.Second {
			t.Fatal("no login 10 s after Redis came back")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if took := time.Since(started); took > 500*time.Millisecond {
		t.Errorf("a login worked again %v after Redis was back; want it at the next probe (1 ms back-off)", took)
	}
}

// TestBackoffEnds: once the shared store is back, the throttle uses it
// again after the back-off. The probe's ticket was dropped and no answer
// was ever recorded, so one back-off kept the store unused (and logins
// refused with "closed") until the process restarted; and failures far
// apart, with answers between them, added up to a back-off.
func TestBackoffEnds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start func(testing.TB) *testserver.Server
		set   func(*Options, string)
	}{
		{"redis", testserver.Redis, func(o *Options, addr string) { o.RedisURL = "redis://" + addr + "/0" }},
		{"memcached", testserver.Memcached, func(o *Options, addr string) { o.MemcachedURLs = who.Words{addr} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tc.start(t)
			th, _, _ := newThrottle(t, newBackend(), func(o *Options) {
				tc.set(o, srv.Addr)
				o.Timeout = who.Duration(200 * time.Millisecond)
				o.Backoff = who.Duration(time.Millisecond)
				o.OnStoreError = StoreErrorClosed
				o.Mode = ModeUser
			})
			right := func() bool { return login(t, th, "192.0.2.1", "alice", "right") == "alice" }
			// Failures with answers between them are no run of failures.
			for range 4 {
				srv.Stop()
				if right() {
					t.Fatal("a login with the store stopped and on_store_error = closed")
				}
				srv.Start()
				if !right() {
					t.Fatal("no login with the store up after one failure")
				}
			}
			srv.Stop()
			for range 4 { // a run of failures: the back-off opens
				if right() {
					t.Fatal("a login with the store stopped and on_store_error = closed")
				}
				time.Sleep(2 * time.Millisecond)
			}
			srv.Start()
			deadline := time.Now().Add(5 * time.Second)
			for !right() {
				if time.Now().After(deadline) {
					t.Fatal("the store unused 5 s after it came back (back-off 1 ms)")
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
}
