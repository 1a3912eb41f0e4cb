package memcached

import (
	"bytes"
	"context"
	"errors"
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
	delay     time.Duration
	err       error
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
	if b.delay > 0 {
		time.Sleep(b.delay)
	}
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
		MemcachedURLs:     Words{addr},
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
		return Options{MemcachedURLs: Words{"127.0.0.1:1"}, AuthenticatorName: "x", Secret: "s"}
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
		{"passwordless key", func(o *Options) { o.KeyItems = Words{"login"} }, ErrPasswordlessKey, "key_items"},
		{"passwordless allowed", func(o *Options) { o.KeyItems = Words{"login"}; o.AllowPasswordlessKeys = true }, nil, ""},
		{"passwordless md only", func(o *Options) {
			o.AuthenticatorName = ""
			o.MDProviderName = "m"
			o.KeyItems = Words{who.KeyUserID}
		}, nil, ""},
		{"key with password", func(o *Options) { o.KeyItems = Words{"login", "password"} }, nil, ""},
		{"negative ttl", func(o *Options) { o.TTL = -1 }, nil, "ttl"},
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

func TestWords(t *testing.T) {
	t.Parallel()
	var w Words
	if err := w.UnmarshalTOML("a  b\tc"); err != nil || strings.Join(w, ",") != "a,b,c" {
		t.Fatalf("string: %v %v", w, err)
	}
	if err := w.UnmarshalTOML([]any{"x", "y"}); err != nil || strings.Join(w, ",") != "x,y" {
		t.Fatalf("list: %v %v", w, err)
	}
	if err := w.UnmarshalTOML([]any{1}); err == nil {
		t.Fatal("list of ints accepted")
	}
	if err := w.UnmarshalTOML(3); err == nil {
		t.Fatal("int accepted")
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	b := newBackend()
	mk := func() *Cache {
		c, err := New(Options{MemcachedURLs: Words{"127.0.0.1:1"}, AuthenticatorName: "ldap", MDProviderName: "attrs", Secret: "s"})
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
	if err := mk().Resolve(map[string]any{"ldap": 42, "attrs": b}); err == nil || !strings.Contains(err.Error(), "not an authenticator") {
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
		key, _ := c.codec.key(methodAuthenticate, "backend", creds("alice", "alice-pass"), nil)
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
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-md"; o.KeyItems = Words{who.KeyUserID, who.KeyPassword} })
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
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-vi"; o.ValueItems = Words{"mail", "password"} })
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
		key, _ := c.codec.key(methodAuthenticate, "backend", creds("alice", "x"), nil)
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
		b.delay = 200 * time.Millisecond
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-sf" })
		var wg sync.WaitGroup
		var ok atomic.Int64
		for range 100 {
			wg.Go(func() {
				if uid, err := c.Authenticate(req(), creds("alice", "alice-pass")); err == nil && uid == "uid=alice" {
					ok.Add(1)
				}
			})
		}
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
		b.delay = 300 * time.Millisecond
		c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-cancel" })
		done := make(chan struct{})
		go func() {
			defer close(done)
			if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
				t.Error("the first caller failed")
			}
		}()
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Authenticate(req().WithContext(ctx), creds("alice", "alice-pass"))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 250*time.Millisecond {
			t.Fatalf("waiter: %v after %v", err, time.Since(start))
		}
		<-done
	})
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
// wrapped plugin, the dead server is not dialled on every request, and
// the cache is used again once memcached is back.
func TestOutage(t *testing.T) {
	t.Parallel()
	mc := testserver.Memcached(t)
	b := newBackend()
	backoff := 300 * time.Millisecond
	c := newCache(t, mc.Addr, b, func(o *Options) { o.Backoff = who.Duration(backoff) })
	auth(t, c, "alice", "alice-pass")
	auth(t, c, "alice", "alice-pass")
	if n := b.calls.Load(); n != 1 {
		t.Fatalf("backend calls = %d, want 1", n)
	}
	mc.Stop()
	for i := range 20 {
		start := time.Now()
		if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
			t.Fatalf("login %d during the outage failed", i)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("login %d during the outage took %v", i, d)
		}
	}
	if n := b.calls.Load(); n != 21 {
		t.Fatalf("during the outage: backend calls = %d, want 21", n)
	}
	if s := c.Stats(); s.Errors < 1 || s.Errors > 2 || s.Skipped < 18 {
		t.Fatalf("the dead server was dialled too often: %+v", s)
	}
	mc.Start()
	time.Sleep(backoff + 50*time.Millisecond)
	auth(t, c, "alice", "alice-pass") // miss (memcached restarted empty): fills
	calls := b.calls.Load()
	for range 5 {
		auth(t, c, "alice", "alice-pass")
	}
	if n := b.calls.Load(); n != calls {
		t.Fatalf("after memcached came back: %d more backend calls, want 0", n-calls)
	}
}

// TestSlowServer points the wrapper at a server that accepts and never
// answers: each lookup costs at most the timeout, then the back-off.
func TestSlowServer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	b := newBackend()
	c := newCache(t, l.Addr().String(), b, func(o *Options) {
		o.Timeout = who.Duration(50 * time.Millisecond)
		o.Backoff = who.Duration(time.Minute)
	})
	start := time.Now()
	for range 10 {
		if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
			t.Fatal("login failed with a black-holed memcached")
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("10 logins took %v with a black-holed memcached", d)
	}
	if s := c.Stats(); s.Errors != 1 {
		t.Fatalf("stats %+v, want exactly one failure then the back-off", s)
	}
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
