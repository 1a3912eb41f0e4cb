package memcached

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

// backend is a wrapped authenticator and metadata provider that counts its
// calls. (The cache under test is a real memcached; only the wrapped
// plugin is a stand-in here. bench/ runs the wrapper over a real slapd.)
type backend struct {
	mu        sync.Mutex
	passwords map[string]string
	err       error
	started   chan struct{} // if set, each Authenticate sends on it first
	release   chan struct{} // if set, each Authenticate then waits for it
	calls     atomic.Int64
	mdCalls   atomic.Int64
}

func newBackend() *backend {
	return &backend{passwords: map[string]string{"alice": "alice-pass", "bob": "bob-pass"}}
}

func (b *backend) setPassword(login, pw string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.passwords[login] = pw
}

func (b *backend) Authenticate(r *http.Request, id who.Identity) (string, error) {
	b.calls.Add(1)
	if b.started != nil {
		b.started <- struct{}{}
	}
	if b.release != nil {
		<-b.release
	}
	_ = r.Header.Get("X-Test") // as a backend that reads the request
	if b.err != nil {
		return "", b.err
	}
	login, pw := id.Str(who.KeyLogin), id.Str(who.KeyPassword)
	b.mu.Lock()
	want, ok := b.passwords[login]
	b.mu.Unlock()
	if !ok || pw == "" || pw != want {
		return "", nil
	}
	id["mail"] = login + "@example.org"
	id["groups"] = []string{"users", login}
	return "uid=" + login, nil
}

func (b *backend) AddMetadata(r *http.Request, id who.Identity) error {
	b.mdCalls.Add(1)
	if b.err != nil {
		return b.err
	}
	id["displayName"] = strings.ToUpper(id.Str(who.KeyUserID))
	id["uidNumber"] = 1000
	return nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newCache(t *testing.T, addr string, b *backend, mod func(*Options)) *Cache {
	t.Helper()
	o := Options{
		MemcachedURLs:     who.Words{addr},
		AuthenticatorName: "backend",
		Authenticator:     b,
		MDProviderName:    "backend",
		MDProvider:        b,
		Secret:            "test secret",
		Logger:            quietLogger(),
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func req() *http.Request { return httptest.NewRequest("GET", "/", nil) }

func creds(login, pw string) who.Identity {
	return who.Identity{who.KeyLogin: login, who.KeyPassword: pw}
}

func auth(t *testing.T, c *Cache, login, pw string) (string, who.Identity) {
	t.Helper()
	id := creds(login, pw)
	uid, err := c.Authenticate(req(), id)
	if err != nil {
		t.Fatalf("Authenticate(%s): %v", login, err)
	}
	return uid, id
}

func TestOptions(t *testing.T) {
	t.Parallel()
	b := newBackend()
	base := func() Options {
		return Options{MemcachedURLs: who.Words{"127.0.0.1:1"}, AuthenticatorName: "x", Secret: "s"}
	}
	for _, tc := range []struct {
		name string
		mod  func(*Options)
		want error
		key  string
	}{
		{"ok", func(*Options) {}, nil, ""},
		{"no secret", func(o *Options) { o.Secret = "" }, ErrNoSecret, "secret"},
		{"no servers", func(o *Options) { o.MemcachedURLs = nil }, ErrNoServers, "memcached_urls"},
		{"nothing to wrap", func(o *Options) { o.AuthenticatorName = "" }, ErrNothingToWrap, "authenticator_name"},
		{"passwordless key", func(o *Options) { o.KeyItems = who.Words{"login"} }, ErrPasswordlessKey, "key_items"},
		{"passwordless allowed", func(o *Options) { o.KeyItems = who.Words{"login"}; o.AllowPasswordlessKeys = true }, nil, ""},
		{"passwordless md only", func(o *Options) {
			o.AuthenticatorName = ""
			o.MDProviderName = "m"
			o.KeyItems = who.Words{who.KeyUserID}
		}, nil, ""},
		{"key with password", func(o *Options) { o.KeyItems = who.Words{"login", "password"} }, nil, ""},
		{"negative ttl", func(o *Options) { o.TTL = -1 }, nil, "ttl"},
		{"negative call_timeout", func(o *Options) { o.CallTimeout = -1 }, nil, "call_timeout"},
		{"negative backoff_after", func(o *Options) { o.BackoffAfter = -1 }, nil, "backoff_after"},
		{"negative max_in_flight", func(o *Options) { o.MaxInFlight = -1 }, nil, "max_in_flight"},
		{"negative max_password_bytes", func(o *Options) { o.MaxPasswordBytes = -1 }, nil, "max_password_bytes"},
		{"bad prefix", func(o *Options) { o.KeyPrefix = "a b" }, nil, "key_prefix"},
		{"go plugin", func(o *Options) { o.AuthenticatorName = ""; o.Authenticator = b }, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := base()
			tc.mod(&o)
			_, err := New(o)
			if tc.key == "" && tc.want == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			var oe *who.OptionError
			if !errors.As(err, &oe) || oe.Key != tc.key {
				t.Fatalf("New: %v, want an OptionError on %q", err, tc.key)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	b := newBackend()
	mk := func() *Cache {
		c, err := New(Options{MemcachedURLs: who.Words{"127.0.0.1:1"}, AuthenticatorName: "ldap", MDProviderName: "attrs", Secret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := mk()
	refs := c.References()
	if len(refs) != 2 || refs[0] != (who.Reference{Key: "authenticator_name", Name: "ldap"}) ||
		refs[1] != (who.Reference{Key: "mdprovider_name", Name: "attrs"}) {
		t.Fatalf("References = %v", refs)
	}
	if err := c.Resolve(map[string]any{"ldap": b, "attrs": b}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := mk().Resolve(map[string]any{"attrs": b}); err == nil || !strings.Contains(err.Error(), `no plugin named "ldap"`) {
		t.Fatalf("missing: %v", err)
	}
	if err := mk().Resolve(map[string]any{"ldap": 42, "attrs": b}); err == nil || !strings.Contains(err.Error(), `plugin "ldap" (int) is not a who.Authenticator`) {
		t.Fatalf("wrong type: %v", err)
	}
	self := mk()
	if err := self.Resolve(map[string]any{"ldap": self, "attrs": b}); err != nil {
		t.Fatal(err)
	}
	if err := self.Validate(); err == nil {
		t.Fatal("a wrapper wrapping itself passed Validate")
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)

	t.Run("hit after miss, values merged, no password stored", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, nil)
		for i := range 3 {
			uid, id := auth(t, c, "alice", "alice-pass")
			if uid != "uid=alice" || id.Str("mail") != "alice@example.org" {
				t.Fatalf("round %d: uid %q, mail %q", i, uid, id.Str("mail"))
			}
			if g, ok := id["groups"].([]string); !ok || len(g) != 2 {
				t.Fatalf("round %d: groups %#v, want []string", i, id["groups"])
			}
		}
		if n := b.calls.Load(); n != 1 {
			t.Fatalf("backend calls = %d, want 1", n)
		}
		if s := c.Stats(); s.Hits != 2 || s.Misses != 1 {
			t.Fatalf("stats %+v", s)
		}
		id := creds("alice", "alice-pass")
		key, _ := c.codec.key(methodAuthenticate, "backend", id, c.keyItems(id))
		it, err := memcache.New(mc.Addr).Get(key)
		if err != nil {
			t.Fatalf("the entry is not in memcached under its key: %v", err)
		}
		if bytes.Contains(it.Value, []byte("alice-pass")) {
			t.Fatal("the cached value holds the password")
		}
		e, err := c.codec.decodeEntry(key, it.Value)
		if err != nil || e.userID != "uid=alice" || e.values["mail"] != "alice@example.org" {
			t.Fatalf("cached entry %+v, %v", e, err)
		}
	})

	t.Run("wrong password not cached by default", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-neg-off" })
		for range 3 {
			if uid, _ := auth(t, c, "alice", "nope"); uid != "" {
				t.Fatalf("wrong password gave %q", uid)
			}
		}
		if n := b.calls.Load(); n != 3 {
			t.Fatalf("backend calls = %d, want 3", n)
		}
	})

	t.Run("negative ttl", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-neg"; o.NegativeTTL = who.Duration(time.Second) })
		for range 3 {
			if uid, _ := auth(t, c, "alice", "nope"); uid != "" {
				t.Fatalf("wrong password gave %q", uid)
			}
		}
		if n := b.calls.Load(); n != 1 {
			t.Fatalf("backend calls = %d, want 1", n)
		}
		if s := c.Stats(); s.NegativeHits != 2 {
			t.Fatalf("stats %+v", s)
		}
		time.Sleep(2100 * time.Millisecond) // memcached expires on whole seconds
		auth(t, c, "alice", "nope")
		if n := b.calls.Load(); n != 2 {
			t.Fatalf("after negative_ttl: backend calls = %d, want 2", n)
		}
	})

	t.Run("no cross-identity poisoning", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-poison" })
		// One request, two identities, as repoze.who loops over them.
		r := req()
		if uid, _ := c.Authenticate(r, creds("alice", "wrong")); uid != "" {
			t.Fatal("alice/wrong authenticated")
		}
		if uid, _ := c.Authenticate(r, creds("bob", "bob-pass")); uid != "uid=bob" {
			t.Fatal("bob refused")
		}
		if uid, _ := auth(t, c, "alice", "wrong"); uid != "" {
			t.Fatalf("alice/wrong is now %q: the cache bound bob's result to alice's credentials", uid)
		}
	})

	t.Run("backend error is returned, not cached", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		b.err = errors.New("directory down")
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-err"; o.NegativeTTL = who.Duration(time.Minute) })
		for range 2 {
			uid, err := c.Authenticate(req(), creds("alice", "alice-pass"))
			if err == nil || uid != "" {
				t.Fatalf("got %q, %v; want the backend error", uid, err)
			}
		}
		if n := b.calls.Load(); n != 2 {
			t.Fatalf("backend calls = %d, want 2 (errors are never cached)", n)
		}
	})

	t.Run("password change", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-pwchange"; o.TTL = who.Duration(time.Second) })
		if uid, _ := auth(t, c, "alice", "alice-pass"); uid == "" {
			t.Fatal("old password refused")
		}
		b.setPassword("alice", "new-pass")
		if uid, _ := auth(t, c, "alice", "new-pass"); uid != "uid=alice" {
			t.Fatal("the new password is locked out by the cache")
		}
		time.Sleep(2100 * time.Millisecond)
		if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "" {
			t.Fatal("the old password still logs in after ttl")
		}
	})

	t.Run("metadata", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-md"; o.KeyItems = who.Words{who.KeyUserID, who.KeyPassword} })
		for range 3 {
			id := who.Identity{who.KeyUserID: "uid=carol"}
			if err := c.AddMetadata(req(), id); err != nil {
				t.Fatal(err)
			}
			if id.Str("displayName") != "UID=CAROL" || id["uidNumber"] != 1000 {
				t.Fatalf("metadata %#v", map[string]any(id))
			}
		}
		if n := b.mdCalls.Load(); n != 1 {
			t.Fatalf("metadata calls = %d, want 1", n)
		}
	})

	t.Run("value_items", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-vi"; o.ValueItems = who.Words{"mail", "password"} })
		auth(t, c, "bob", "bob-pass")
		uid, id := auth(t, c, "bob", "bob-pass")
		if uid != "uid=bob" || id.Str("mail") != "bob@example.org" || id["groups"] != nil {
			t.Fatalf("hit: %q %#v", uid, map[string]any(id))
		}
	})

	t.Run("tampered value is a miss", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-tamper" })
		id := creds("alice", "x")
		key, _ := c.codec.key(methodAuthenticate, "backend", id, c.keyItems(id))
		// Someone with write access to memcached but not the secret.
		forged, _ := newKeyCodec("other secret", DefaultKeyPrefix).encodeEntry(key, entry{userID: "uid=admin"})
		if err := memcache.New(mc.Addr).Set(&memcache.Item{Key: key, Value: forged}); err != nil {
			t.Fatal(err)
		}
		if uid, _ := auth(t, c, "alice", "x"); uid != "" {
			t.Fatalf("forged cache value logged in as %q", uid)
		}
		if n := b.calls.Load(); n != 1 {
			t.Fatalf("backend calls = %d, want 1", n)
		}
	})

	t.Run("singleflight", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		release := make(chan struct{})
		b.release = release
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-sf" })
		joined := make(chan struct{}, 100)
		OnJoin(c, func() { joined <- struct{}{} })
		var wg sync.WaitGroup
		var ok atomic.Int64
		for range 100 {
			wg.Go(func() {
				if uid, err := c.Authenticate(req(), creds("alice", "alice-pass")); err == nil && uid == "uid=alice" {
					ok.Add(1)
				}
			})
		}
		// The backend answers once the 99 others wait for its call,
		// however long their memcached lookups took.
		for range 99 {
			<-joined
		}
		close(release)
		wg.Wait()
		if ok.Load() != 100 {
			t.Fatalf("%d of 100 logins succeeded", ok.Load())
		}
		if n := b.calls.Load(); n != 1 {
			t.Fatalf("100 concurrent logins on a cold cache made %d backend calls, want 1", n)
		}
	})

	t.Run("cancelled waiter", func(t *testing.T) {
		t.Parallel()
		b := newBackend()
		b.started = make(chan struct{}, 1)
		release := make(chan struct{})
		b.release = release
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-cancel" })
		joined := make(chan struct{}, 1)
		OnJoin(c, func() { joined <- struct{}{} })
		first := make(chan string)
		go func() {
			uid, _ := c.Authenticate(req(), creds("alice", "alice-pass"))
			first <- uid
		}()
		<-b.started
		ctx, cancel := context.WithCancel(context.Background())
		waiter := make(chan error)
		go func() {
			_, err := c.Authenticate(req().WithContext(ctx), creds("alice", "alice-pass"))
			waiter <- err
		}()
		<-joined
		cancel()
		// The waiter leaves while the backend call is still blocked.
		if err := <-waiter; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
		}
		close(release)
		if uid := <-first; uid != "uid=alice" {
			t.Fatalf("the first caller got %q after the waiter left", uid)
		}
		if n := b.calls.Load(); n != 1 {
			t.Fatalf("backend calls = %d, want 1", n)
		}
	})
}

// TestDetachedCall: the shared call outlives the request that started it,
// whose chain goes on changing its identity and headers; the call works
// on copies (run with -race: it reports the shared maps otherwise).
func TestDetachedCall(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)
	b := newBackend()
	b.started = make(chan struct{}, 1)
	release := make(chan struct{})
	b.release = release
	c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-detached" })
	ctx, cancel := context.WithCancel(context.Background())
	r := req().WithContext(ctx)
	r.Header.Set("X-Test", "1")
	id := creds("alice", "alice-pass")
	left := make(chan error)
	go func() {
		_, err := c.Authenticate(r, id)
		left <- err
	}()
	<-b.started
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("first request: %v", err)
	}
	close(release)
	// The chain goes on with its request and identity while the call
	// finishes.
	id["mail"] = "changed@example.org"
	id[who.KeyUserID] = "someone"
	r.Header.Set("X-Test", "2")
	// The call finishes and fills the cache for the next request.
	uid, id2 := auth(t, c, "alice", "alice-pass")
	if uid != "uid=alice" || id2.Str("mail") != "alice@example.org" {
		t.Fatalf("next login: %q, %q", uid, id2.Str("mail"))
	}
}

func TestCollisions(t *testing.T) {
	t.Parallel()
	k := newKeyCodec("s", "p:")
	pairs := []struct{ a, b who.Identity }{
		{who.Identity{"login": "a", "password": "b\x00c"}, who.Identity{"login": "a\x00b", "password": "c"}},
		{who.Identity{"aaa": "x", "zzz": "y"}, who.Identity{"login": "x", "password": "y"}},
		{who.Identity{"login": "1"}, who.Identity{"login": 1}},
		{who.Identity{"g": []string{"a", "b"}}, who.Identity{"g": []string{"ab"}}},
		{who.Identity{"login": ""}, who.Identity{}},
		{who.Identity{"login": nil}, who.Identity{}},
	}
	for i, p := range pairs {
		ka, err1 := k.key(methodAuthenticate, "x", p.a, nil)
		kb, err2 := k.key(methodAuthenticate, "x", p.b, nil)
		if err1 != nil || err2 != nil || ka == kb {
			t.Errorf("pair %d: keys %q %q (%v %v)", i, ka, kb, err1, err2)
		}
	}
	id := creds("a", "b")
	k1, _ := k.key(methodAuthenticate, "x", id, nil)
	k2, _ := k.key(methodAddMetadata, "x", id, nil)
	k3, _ := k.key(methodAuthenticate, "y", id, nil)
	k4, _ := newKeyCodec("t", "p:").key(methodAuthenticate, "x", id, nil)
	if k1 == k2 || k1 == k3 || k1 == k4 {
		t.Error("method, plugin name and secret must all change the key")
	}
	if len(k1) != 2+64 || !memcacheLegal(k1) {
		t.Errorf("key %q", k1)
	}
	if _, err := k.key(methodAuthenticate, "x", who.Identity{"f": func() {}}, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("func value: %v", err)
	}
}

func memcacheLegal(k string) bool {
	if len(k) > 250 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] >= 0x7f {
			return false
		}
	}
	return true
}

// TestOutage kills memcached mid-test: logins keep working through the
// wrapped plugin, the dead server is not dialled on every request (a run
// of backoff_after failures starts one back-off), and the cache is used
// again once memcached is back and the back-off is over.
func TestOutage(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)
	b := newBackend()
	backoff := time.Minute // the test clock moves past it
	c := newCache(t, mc.Addr, b, func(o *Options) { o.Backoff = who.Duration(backoff) })
	clk := &Clock{}
	UseClock(c, clk)
	auth(t, c, "alice", "alice-pass")
	auth(t, c, "alice", "alice-pass")
	if n := b.calls.Load(); n != 1 {
		t.Fatalf("backend calls = %d, want 1", n)
	}
	mc.Stop()
	for i := range 20 {
		if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
			t.Fatalf("login %d during the outage failed", i)
		}
	}
	if n := b.calls.Load(); n != 21 {
		t.Fatalf("during the outage: backend calls = %d, want 21", n)
	}
	// Login 1: get and set fail; login 2: get fails, the third in a row:
	// back-off. Logins 3 to 20 skip memcached.
	if s := c.Stats(); s.Errors != DefaultBackoffAfter || s.Backoffs != 1 || s.Skipped < 18 || Resets(c) != 1 {
		t.Fatalf("the dead server was dialled too often: %+v, %d client resets", s, Resets(c))
	}
	mc.Start()
	clk.Advance(backoff)
	auth(t, c, "alice", "alice-pass") // the probe: a miss (memcached restarted empty), then filled
	calls := b.calls.Load()
	for range 5 {
		auth(t, c, "alice", "alice-pass")
	}
	if n := b.calls.Load(); n != calls {
		t.Fatalf("after memcached came back: %d more backend calls, want 0; %+v", n-calls, c.Stats())
	}
}

// TestSlowServer points the wrapper at a server that accepts and never
// answers: a run of backoff_after lookups costs the timeout, then the
// back-off.
func TestSlowServer(t *testing.T) {
	t.Parallel()
	bh := testserver.StartBlackHole(t)
	b := newBackend()
	c := newCache(t, bh.Addr, b, func(o *Options) {
		o.Timeout = who.Duration(50 * time.Millisecond)
		o.Backoff = who.Duration(time.Minute)
	})
	start := time.Now()
	for range 10 {
		if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
			t.Fatal("login failed with a black-holed memcached")
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("10 logins took %v with a black-holed memcached", d)
	}
	if s := c.Stats(); s.Errors != DefaultBackoffAfter || s.Backoffs != 1 {
		t.Fatalf("stats %+v, want %d failures then one back-off", s, DefaultBackoffAfter)
	}
}

// stallProxy forwards to a memcached, except that it drops the next
// answer after stall: that request times out, as behind a loaded switch.
type stallProxy struct {
	addr  string
	stall atomic.Bool
}

func startStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{addr: l.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			track(in)
			track(out)
			wg.Go(func() { io.Copy(out, in); out.Close() })
			wg.Go(func() {
				defer in.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := out.Read(buf)
					if n > 0 && !p.stall.CompareAndSwap(true, false) {
						if _, werr := in.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return p
}

// TestBackoff: one slow answer is not an outage; a run of failures backs
// off once and replaces the client once; after the back-off one request
// tries the server again.
func TestBackoff(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)

	t.Run("one slow answer keeps the cache on", func(t *testing.T) {
		t.Parallel()
		p := startStallProxy(t, mc.Addr)
		b := newBackend()
		c := newCache(t, p.addr, b, func(o *Options) {
			o.Secret = "s-slow-answer"
			o.Timeout = who.Duration(time.Second) // the dropped answer costs this; the others must not reach it
			o.Backoff = who.Duration(time.Hour)
		})
		p.stall.Store(true)
		auth(t, c, "alice", "alice-pass") // its get times out; the backend answers; the set works
		for range 5 {
			if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
				t.Fatal("login failed")
			}
		}
		s := c.Stats()
		if s.Errors != 1 || s.Backoffs != 0 || Resets(c) != 0 {
			t.Fatalf("one timed-out get: %+v, %d client resets; want 1 error, no back-off, no reset", s, Resets(c))
		}
		if s.Hits != 5 || b.calls.Load() != 1 {
			t.Fatalf("after one slow answer the cache was bypassed: %+v, %d backend calls", s, b.calls.Load())
		}
	})

	t.Run("a run of failures backs off and resets once", func(t *testing.T) {
		t.Parallel()
		bh := testserver.StartBlackHole(t)
		b := newBackend()
		c := newCache(t, bh.Addr, b, func(o *Options) {
			o.Secret = "s-run"
			o.Timeout = who.Duration(100 * time.Millisecond)
			o.Backoff = who.Duration(time.Hour)
		})
		var wg sync.WaitGroup
		for i := range 20 {
			login := fmt.Sprintf("user%d", i)
			b.setPassword(login, "pw")
			wg.Go(func() {
				if uid, err := c.Authenticate(req(), creds(login, "pw")); err != nil || uid != "uid="+login {
					t.Errorf("%s: %q, %v", login, uid, err)
				}
			})
		}
		wg.Wait()
		s := c.Stats()
		if s.Errors < DefaultBackoffAfter || s.Backoffs != 1 || Resets(c) != 1 {
			t.Fatalf("20 concurrent timeouts: %+v, %d client resets; want one back-off and one reset", s, Resets(c))
		}
		auth(t, c, "alice", "alice-pass")
		if s2 := c.Stats(); s2.Errors != s.Errors || s2.Skipped <= s.Skipped {
			t.Fatalf("memcached asked during the back-off: %+v", s2)
		}
	})

	t.Run("one probe after the back-off", func(t *testing.T) {
		t.Parallel()
		bh := testserver.StartBlackHole(t)
		b := newBackend()
		backoff := time.Hour
		c := newCache(t, bh.Addr, b, func(o *Options) {
			o.Secret = "s-probe"
			o.Timeout = who.Duration(100 * time.Millisecond)
			o.Backoff = who.Duration(backoff)
		})
		clk := &Clock{}
		UseClock(c, clk)
		for c.Stats().Backoffs == 0 {
			auth(t, c, "alice", "alice-pass")
		}
		before := c.Stats()
		clk.Advance(backoff)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { auth(t, c, "alice", "alice-pass") })
		}
		wg.Wait()
		s := c.Stats()
		if s.Errors != before.Errors+1 || s.Backoffs != 2 || Resets(c) != 2 {
			t.Fatalf("after the back-off: %+v (before %+v), %d resets; want exactly one probe, failed, and the next back-off",
				s, before, Resets(c))
		}
	})
}

func TestNearCache(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)
	b := newBackend()
	c := newCache(t, mc.Addr, b, func(o *Options) {
		o.NearCacheTTL = who.Duration(2 * time.Second)
		o.NearCacheSize = 3
	})
	auth(t, c, "alice", "alice-pass")
	mc.Stop() // near hits need no memcached
	for range 5 {
		uid, id := auth(t, c, "alice", "alice-pass")
		if uid != "uid=alice" {
			t.Fatal("near-cache miss")
		}
		id["groups"].([]string)[0] = "changed by a handler"
	}
	if _, id := auth(t, c, "alice", "alice-pass"); id["groups"].([]string)[0] != "users" {
		t.Fatal("a handler changed the near-cache through its identity")
	}
	if s := c.Stats(); s.NearHits != 6 || b.calls.Load() != 1 {
		t.Fatalf("stats %+v, backend %d", s, b.calls.Load())
	}
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		b.setPassword(u, "pw")
		auth(t, c, u, "pw")
	}
	if n := c.nearLen(); n > 3 {
		t.Fatalf("near-cache holds %d entries, bound 3", n)
	}
	time.Sleep(2100 * time.Millisecond)
	before := b.calls.Load()
	auth(t, c, "u5", "pw")
	if b.calls.Load() != before+1 {
		t.Fatal("a near-cache entry outlived near_cache_ttl")
	}
}

// TestDefaultKey: the default key holds the credential items only, so the
// form's client-chosen max_age ("remember") and auth_tkt's per-ticket
// timestamp neither bypass the negative cache nor make every new ticket
// a miss; every other item still changes the key.
func TestDefaultKey(t *testing.T) {
	t.Parallel()
	c, err := New(Options{MemcachedURLs: who.Words{"127.0.0.1:1"}, AuthenticatorName: "x", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const tktUser = "repoze.who.plugins.auth_tkt.userid"
	form := func(max any) who.Identity {
		id := creds("alice", "pw")
		if max != nil {
			id[who.KeyMaxAge] = max
		}
		return id
	}
	ticket := func(ts int64, tokens []string, ud string) who.Identity {
		return who.Identity{tktUser: "alice", "timestamp": ts, who.KeyTokens: tokens, who.KeyUserData: ud}
	}
	for _, tc := range []struct {
		name string
		a, b who.Identity
		same bool
	}{
		{"form remember varies", form(int64(60)), form(int64(86400)), true},
		{"form remember or not", form(nil), form(int64(60)), true},
		{"basic auth", creds("alice", "pw"), creds("alice", "pw"), true},
		{"new ticket", ticket(1700000000, []string{"a"}, ""), ticket(1700000600, []string{"a"}, ""), true},
		{"other password", creds("alice", "pw"), creds("alice", "pw2"), false},
		{"other login", creds("alice", "pw"), creds("bob", "pw"), false},
		{"other tokens", ticket(1, []string{"a"}, ""), ticket(1, []string{"admin"}, ""), false},
		{"other userdata", ticket(1, nil, ""), ticket(1, nil, "userid_type=int"), false},
		{"other item", who.Identity{"api_key": "k1"}, who.Identity{"api_key": "k2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ka, err1 := c.codec.key(methodAuthenticate, "x", tc.a, c.keyItems(tc.a))
			kb, err2 := c.codec.key(methodAuthenticate, "x", tc.b, c.keyItems(tc.b))
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if (ka == kb) != tc.same {
				t.Fatalf("same key = %v, want %v", ka == kb, tc.same)
			}
		})
	}

	t.Run("negative cache not bypassed by remember", func(t *testing.T) {
		mc := testserver.Memcached(t)
		b := newBackend()
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-remember"; o.NegativeTTL = who.Duration(time.Minute) })
		for i := range 5 {
			id := creds("alice", "guess")
			id[who.KeyMaxAge] = int64(i + 1)
			if uid, err := c.Authenticate(req(), id); uid != "" || err != nil {
				t.Fatalf("wrong password: %q, %v", uid, err)
			}
		}
		if n := b.calls.Load(); n != 1 {
			t.Fatalf("5 wrong passwords with 5 remember values made %d backend calls, want 1", n)
		}
		id := creds("alice", "alice-pass")
		id[who.KeyMaxAge] = int64(3600)
		if uid, _ := c.Authenticate(req(), id); uid != "uid=alice" {
			t.Fatalf("right password refused: %q", uid)
		}
		if id[who.KeyMaxAge] != int64(3600) {
			t.Fatalf("the request's max_age was changed: %v", id[who.KeyMaxAge])
		}
	})
}

// TestMaxPasswordBytes: a password over max_password_bytes is "no" before
// any key is hashed or the backend asked.
func TestMaxPasswordBytes(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)
	for _, tc := range []struct {
		name   string
		max    int
		pw     any
		calls  int64
		lookup bool // a key was computed (a miss)
	}{
		{"default, at the bound", 0, strings.Repeat("p", who.DefaultMaxPasswordBytes), 1, true},
		{"default, one over", 0, strings.Repeat("p", who.DefaultMaxPasswordBytes+1), 0, false},
		{"a megabyte", 0, strings.Repeat("p", 1<<20), 0, false},
		{"bytes, one over", 0, []byte(strings.Repeat("p", who.DefaultMaxPasswordBytes+1)), 0, false},
		{"configured", 8, "123456789", 0, false},
		{"configured, at the bound", 8, "12345678", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend()
			c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-maxpw-" + tc.name; o.MaxPasswordBytes = tc.max })
			uid, err := c.Authenticate(req(), who.Identity{who.KeyLogin: "alice", who.KeyPassword: tc.pw})
			if uid != "" || err != nil {
				t.Fatalf("got %q, %v; want no", uid, err)
			}
			s := c.Stats()
			if b.calls.Load() != tc.calls || (s.Misses == 1) != tc.lookup || s.Skipped != 0 {
				t.Fatalf("backend calls %d (want %d), stats %+v", b.calls.Load(), tc.calls, s)
			}
			// Metadata for such an identity comes from the provider, uncached.
			for range 2 {
				id := who.Identity{who.KeyUserID: "uid=alice", who.KeyPassword: tc.pw}
				if err := c.AddMetadata(req(), id); err != nil || id["uidNumber"] != 1000 {
					t.Fatalf("metadata: %v, %#v", err, id["uidNumber"])
				}
			}
			want := int64(2) // not cached
			if tc.lookup {
				want = 1
			}
			if n := b.mdCalls.Load(); n != want {
				t.Fatalf("2 metadata lookups made %d provider calls, want %d", n, want)
			}
		})
	}
}
