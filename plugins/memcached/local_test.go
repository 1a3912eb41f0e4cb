package memcached

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/plugins/htpasswd"
	"github.com/gowho/gowho/who"
)

// newLocal returns an in-process-only cache (memcached_urls = []) in
// front of a, with near_cache_ttl 1m and no secret unless mod sets them.
func newLocal(t *testing.T, a who.Authenticator, mod func(*Options)) *Cache {
	t.Helper()
	o := Options{
		MemcachedURLs:     who.Words{},
		AuthenticatorName: "backend",
		Authenticator:     a,
		NearCacheTTL:      who.Duration(time.Minute),
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

// TestLocalOptions: memcached_urls = [] is valid only with near_cache_ttl;
// a missing memcached_urls is still an error, and each error names the
// key to set. Without servers the secret may be left out; with servers it
// may not.
func TestLocalOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Options
		want error
		key  string
	}{
		{"empty urls and near_cache_ttl", Options{MemcachedURLs: who.Words{}, AuthenticatorName: "x", NearCacheTTL: who.Duration(time.Second)}, nil, ""},
		{"empty urls, no near_cache_ttl", Options{MemcachedURLs: who.Words{}, AuthenticatorName: "x", Secret: "s"}, ErrNoNearCache, "near_cache_ttl"},
		{"no urls at all", Options{AuthenticatorName: "x", NearCacheTTL: who.Duration(time.Second), Secret: "s"}, ErrNoServers, "memcached_urls"},
		{"servers, no secret", Options{MemcachedURLs: who.Words{"127.0.0.1:1"}, AuthenticatorName: "x", NearCacheTTL: who.Duration(time.Second)}, ErrNoSecret, "secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil {
				var oe *who.OptionError
				if !errors.As(err, &oe) || oe.Key != tc.key {
					t.Fatalf("err = %v, want an OptionError for %q", err, tc.key)
				}
				return
			}
			defer c.Close()
			if !c.Local() || len(c.servers) != 0 {
				t.Fatalf("Local() = %v with %d servers", c.Local(), len(c.servers))
			}
			if c.o.TTL != tc.o.NearCacheTTL {
				t.Fatalf("ttl = %v, want near_cache_ttl %v when ttl is not set", c.o.TTL, tc.o.NearCacheTTL)
			}
		})
	}
	if !strings.Contains(ErrNoNearCache.Error(), "set near_cache_ttl") || !strings.Contains(ErrNoServers.Error(), "memcached_urls = []") {
		t.Fatal("the errors do not say what to set")
	}
}

// TestLocalKeyIsHMAC: without a configured secret each cache draws its
// own, so the same credentials get different keys in two processes; with
// the same configured secret they get the same key. A key is the prefix
// and 64 hex digits whatever the password, and no entry holds the
// password.
func TestLocalKeyIsHMAC(t *testing.T) {
	t.Parallel()
	id := creds("alice", "alice-pass")
	keyOf := func(c *Cache) string {
		k, err := c.codec.key(methodAuthenticate, c.name(methodAuthenticate), id, c.keyItems(id))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	b := newBackend()
	p1, p2 := newLocal(t, b, nil), newLocal(t, b, nil)
	if keyOf(p1) == keyOf(p2) {
		t.Fatal("two caches without a secret computed the same key: the secret is not per process")
	}
	s1 := newLocal(t, b, func(o *Options) { o.Secret = "configured" })
	s2 := newLocal(t, b, func(o *Options) { o.Secret = "configured" })
	if keyOf(s1) != keyOf(s2) {
		t.Fatal("two caches with the same secret computed different keys")
	}
	k := keyOf(p1)
	if len(k) != len(DefaultKeyPrefix)+64 || strings.Trim(k[len(DefaultKeyPrefix):], "0123456789abcdef") != "" {
		t.Fatalf("key %q is not the prefix and a hex HMAC-SHA256", k)
	}
	if uid, _ := auth(t, p1, "alice", "alice-pass"); uid != "uid=alice" {
		t.Fatalf("uid %q", uid)
	}
	p1.near.mu.Lock()
	defer p1.near.mu.Unlock()
	for key, ne := range p1.near.m {
		if strings.Contains(key, "alice-pass") || strings.Contains(fmt.Sprint(ne.e), "alice-pass") {
			t.Fatalf("the near-cache holds the password: %q %+v", key, ne.e)
		}
		if _, ok := ne.e.values[who.KeyPassword]; ok {
			t.Fatalf("entry holds a password item: %+v", ne.e)
		}
	}
}

// TestLocalPasswords: a wrong password is never a hit (it is another
// key) and, with negative_ttl unset, every try asks the backend; after a
// password change the new password logs in at once, the old one only
// until its entry expires (ttl), then never again.
func TestLocalPasswords(t *testing.T) {
	t.Parallel()
	b := newBackend()
	c := newLocal(t, b, func(o *Options) { o.NearCacheTTL = who.Duration(30 * time.Second) })
	clock := &Clock{}
	UseClock(c, clock)
	if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
		t.Fatalf("first login: %q", uid)
	}
	for i := range 3 {
		if uid, _ := auth(t, c, "alice", "wrong"); uid != "" {
			t.Fatalf("wrong password logged in as %q", uid)
		}
		if got := b.calls.Load(); got != int64(2+i) {
			t.Fatalf("wrong password try %d: %d backend calls, want %d (a failure must not be cached by default)", i+1, got, 2+i)
		}
	}
	if s := c.Stats(); s.NearHits != 0 || s.NegativeHits != 0 {
		t.Fatalf("a wrong password was answered from the cache: %+v", s)
	}

	b.setPassword("alice", "new-pass")
	if uid, _ := auth(t, c, "alice", "new-pass"); uid != "uid=alice" {
		t.Fatalf("the new password was refused: %q", uid)
	}
	clock.Advance(29 * time.Second)
	if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "uid=alice" {
		t.Fatalf("within ttl the old password's entry should still answer (documented), got %q", uid)
	}
	clock.Advance(2 * time.Second)
	before := b.calls.Load()
	if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "" {
		t.Fatalf("the old password logged in after its entry expired: %q", uid)
	}
	if b.calls.Load() != before+1 {
		t.Fatal("an expired entry did not go to the backend")
	}
	if uid, _ := auth(t, c, "alice", "alice-pass"); uid != "" {
		t.Fatalf("the old password logged in on a later try: %q", uid)
	}
}

// TestLocalNegativeTTL: with negative_ttl, a wrong password is answered
// "no" from the cache until negative_ttl has passed, even once it became
// right (the documented cost of caching failures).
func TestLocalNegativeTTL(t *testing.T) {
	t.Parallel()
	b := newBackend()
	c := newLocal(t, b, func(o *Options) { o.NegativeTTL = who.Duration(5 * time.Second) })
	clock := &Clock{}
	UseClock(c, clock)
	auth(t, c, "alice", "soon-right")
	b.setPassword("alice", "soon-right")
	if uid, _ := auth(t, c, "alice", "soon-right"); uid != "" || c.Stats().NegativeHits != 1 {
		t.Fatalf("uid %q, stats %+v: want a cached failure", uid, c.Stats())
	}
	clock.Advance(6 * time.Second)
	if uid, _ := auth(t, c, "alice", "soon-right"); uid != "uid=alice" {
		t.Fatalf("after negative_ttl: %q", uid)
	}
}

// TestLocalBounded: the cache holds at most near_cache_size entries
// however many users log in.
func TestLocalBounded(t *testing.T) {
	t.Parallel()
	b := newBackend()
	c := newLocal(t, b, func(o *Options) { o.NearCacheSize = 50 })
	for i := range 500 {
		u := fmt.Sprintf("u%d", i)
		b.setPassword(u, "pw")
		if uid, _ := auth(t, c, u, "pw"); uid != "uid="+u {
			t.Fatalf("%s: %q", u, uid)
		}
		if n := c.nearLen(); n > 50 {
			t.Fatalf("after %d logins the cache holds %d entries, bound 50", i+1, n)
		}
	}
	if s := c.Stats(); s.Errors != 0 || s.Hits != 0 {
		t.Fatalf("an in-process cache reported memcached activity: %+v", s)
	}
}

// counting counts the calls of a wrapped authenticator.
type counting struct {
	a     who.Authenticator
	calls atomic.Int64
}

func (c *counting) Authenticate(r *http.Request, id who.Identity) (string, error) {
	c.calls.Add(1)
	return c.a.Authenticate(r, id)
}

// bcryptFile is examples/passwd: alice / wonderland and bob / builder,
// bcrypt cost 10.
const bcryptFile = "../../examples/passwd"

// TestLocalSingleflightBcrypt: 100 requests with the same Basic
// credentials arriving at once cost one bcrypt check (htpasswd, cost 10),
// not 100; they all log in; a wrong password among them is not let in by
// the others' flight.
func TestLocalSingleflightBcrypt(t *testing.T) {
	t.Parallel()
	hp, err := htpasswd.New(htpasswd.Options{Filename: bcryptFile, ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counting{a: hp}
	// bcrypt under -race on a loaded machine can take seconds: the
	// test is about how many checks run, not how long one takes.
	c := newLocal(t, cnt, func(o *Options) { o.CallTimeout = who.Duration(2 * time.Minute) })
	var joined atomic.Int64
	OnJoin(c, func() { joined.Add(1) })
	start := make(chan struct{})
	var wg sync.WaitGroup
	var wrongIn atomic.Bool
	uids := make([]string, 100)
	for i := range 100 {
		wg.Go(func() {
			<-start
			uid, err := c.Authenticate(req(), creds("alice", "wonderland"))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			uids[i] = uid
		})
	}
	wg.Go(func() {
		<-start
		if uid, _ := c.Authenticate(req(), creds("alice", "wonderlanD")); uid != "" {
			wrongIn.Store(true)
		}
	})
	close(start)
	wg.Wait()
	for i, u := range uids {
		if u != "alice" {
			t.Fatalf("request %d: uid %q", i, u)
		}
	}
	if wrongIn.Load() {
		t.Fatal("a wrong password logged in")
	}
	if n := cnt.calls.Load(); n != 2 {
		t.Fatalf("%d calls of htpasswd for 100 requests with one credential and 1 with another; want 2", n)
	}
	t.Logf("%d requests joined the first one's bcrypt check, the others were hits", joined.Load())
}

// TestLocalConcurrent: many users logging in, expiring and being evicted
// at once (run with -race).
func TestLocalConcurrent(t *testing.T) {
	t.Parallel()
	b := newBackend()
	for i := range 20 {
		b.setPassword(fmt.Sprintf("u%d", i), "pw")
	}
	c := newLocal(t, b, func(o *Options) {
		o.NearCacheSize = 8
		o.NearCacheTTL = who.Duration(time.Millisecond)
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				u := fmt.Sprintf("u%d", (g+i)%20)
				pw := "pw"
				if i%7 == 0 {
					pw = "bad"
				}
				uid, err := c.Authenticate(req(), creds(u, pw))
				if err != nil || (pw == "pw") != (uid == "uid="+u) {
					t.Errorf("%s/%s: %q, %v", u, pw, uid, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.nearLen(); n > 8 {
		t.Fatalf("%d entries, bound 8", n)
	}
}

// TestKeyExcept: the key the wrapper computes without listing the items
// (keyExcept) is the key over defaultKeyItems, for every shape of
// identity, so the allocation-free path changes no key.
func TestKeyExcept(t *testing.T) {
	t.Parallel()
	k := newKeyCodec("s", DefaultKeyPrefix)
	for _, id := range []who.Identity{
		{},
		creds("alice", "pw"),
		{who.KeyLogin: "alice", who.KeyPassword: "pw", who.KeyMaxAge: "3600"},
		{"userid": "alice", "tokens": []string{"a"}, "userdata": "", "timestamp": int64(1)},
		{"timestamp": int64(1), who.KeyMaxAge: "1"},
	} {
		want, err1 := k.key(methodAuthenticate, "p", id, defaultKeyItems(id))
		got, err2 := k.keyExcept(methodAuthenticate, "p", id, nil, NonCredentialItems)
		if err1 != nil || err2 != nil || got != want {
			t.Fatalf("%v: keyExcept %q (%v), key over defaultKeyItems %q (%v)", id, got, err2, want, err1)
		}
	}
}
