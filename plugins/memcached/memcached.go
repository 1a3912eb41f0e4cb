package memcached

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"golang.org/x/sync/singleflight"

	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultTTL           = 60 * time.Second
	DefaultTimeout       = 100 * time.Millisecond
	DefaultBackoff       = 2 * time.Second
	DefaultNearCacheSize = 10000
	DefaultMaxIdleConns  = 32
	DefaultKeyPrefix     = "gowho:"
)

// Sentinel errors of New and Resolve.
var (
	// ErrNothingToWrap: neither authenticator_name nor mdprovider_name.
	ErrNothingToWrap = errors.New("memcached: you must specify authenticator_name and/or mdprovider_name")
	// ErrNoSecret: secret is required, and every server sharing a cache
	// must use the same one.
	ErrNoSecret = errors.New("memcached: secret is required")
	// ErrPasswordlessKey: key_items on an authenticator wrap leave out
	// the password, so any password would hit a cached login.
	ErrPasswordlessKey = errors.New("memcached: key_items leave out \"password\": any password would log in from the cache (set allow_passwordless_keys = true if that is really wanted)")
	// ErrNoServers: memcached_urls is empty.
	ErrNoServers = errors.New("memcached: memcached_urls is required")
)

// Method names hashed into the keys, as the original's.
const (
	methodAuthenticate = "authenticate"
	methodAddMetadata  = "add_metadata"
)

// Words is who.Words: an array of strings or one string of names
// separated by spaces or commas.
type Words = who.Words

// Options configure the caching wrapper. The keys are repoze.who.plugins.memcached's
// where it has them.
type Options struct {
	// MemcachedURLs, key memcached_urls (required): "host:port" of each
	// server; a list, or one whitespace-separated string as the original.
	// A key lives on one server, chosen by a hash of the key.
	MemcachedURLs Words `toml:"memcached_urls"`
	// AuthenticatorName, key authenticator_name: the declared plugin whose
	// Authenticate results are cached (usually listed as "name;unused").
	AuthenticatorName string `toml:"authenticator_name"`
	// MDProviderName, key mdprovider_name: the declared plugin whose
	// AddMetadata results are cached. At least one of the two is required.
	MDProviderName string `toml:"mdprovider_name"`
	// KeyItems, key key_items: the identity items hashed into the cache
	// key. Default: every item of the identity, sorted. On an
	// authenticator wrap the list must hold "password" unless
	// AllowPasswordlessKeys.
	KeyItems Words `toml:"key_items"`
	// ValueItems, key value_items: the identity items stored with a
	// result. Default: the items the wrapped plugin added or changed. The
	// password is never stored.
	ValueItems Words `toml:"value_items"`
	// Secret, key secret (required): the HMAC key of cache keys and
	// values; every server sharing the cache uses the same secret.
	Secret string `toml:"secret"`
	// TTL, key ttl (default 60s): how long a result is cached, as "5m" or
	// seconds. It bounds how long a revoked user or an old password still
	// logs in.
	TTL who.Duration `toml:"ttl"`
	// AllowPasswordlessKeys, key allow_passwordless_keys (default false):
	// accept key_items without "password" on an authenticator wrap.
	AllowPasswordlessKeys bool `toml:"allow_passwordless_keys"`
	// NegativeTTL, key negative_ttl (default 0: off): how long a failed
	// authentication is cached, to keep repeated wrong passwords from the
	// backend. A password tried while wrong stays refused this long even
	// if it becomes right: keep it short.
	NegativeTTL who.Duration `toml:"negative_ttl"`
	// Timeout, key timeout (default 100ms): the connect and read/write
	// timeout of a memcached request; past it the wrapped plugin answers.
	Timeout who.Duration `toml:"timeout"`
	// Backoff, key backoff (default 2s): after a memcached failure, that
	// server is left alone this long and the wrapped plugin answers.
	Backoff who.Duration `toml:"backoff"`
	// NearCacheTTL, key near_cache_ttl (default 0: off): keep results in
	// this process too, this long (never longer than ttl), so a hit costs
	// no network round trip. Each process may then serve a result up to
	// this long after memcached dropped it.
	NearCacheTTL who.Duration `toml:"near_cache_ttl"`
	// NearCacheSize, key near_cache_size (default 10000): the most entries
	// the near-cache holds.
	NearCacheSize int `toml:"near_cache_size"`
	// MaxIdleConns, key max_idle_conns (default 32): idle connections kept
	// per memcached server.
	MaxIdleConns int `toml:"max_idle_conns"`
	// KeyPrefix, key key_prefix (default "gowho:"): prepended to every
	// memcached key.
	KeyPrefix string `toml:"key_prefix"`

	// Authenticator and MDProvider are the wrapped plugins for Go users;
	// from who.toml they are found by name at load.
	Authenticator who.Authenticator    `toml:"-"`
	MDProvider    who.MetadataProvider `toml:"-"`
	// Logger receives memcached failures (warn); nil: slog.Default().
	Logger *slog.Logger `toml:"-"`
}

// Stats counts what the wrapper did, for tests and monitoring.
type Stats struct {
	Hits         int64 // answers from memcached
	NearHits     int64 // answers from the near-cache
	NegativeHits int64 // cached failures served (part of Hits/NearHits)
	Misses       int64 // lookups that found nothing
	BackendCalls int64 // calls of the wrapped plugin
	Errors       int64 // memcached failures (each starts a back-off)
	Skipped      int64 // lookups skipped during a back-off or for an uncacheable identity
}

// Cache wraps an authenticator and/or a metadata provider and caches their
// answers in memcached. It is safe for concurrent use.
type Cache struct {
	o       Options
	codec   keyCodec
	servers []*server
	near    *nearCache
	group   singleflight.Group
	log     *slog.Logger

	auth who.Authenticator
	md   who.MetadataProvider

	hits, nearHits, negHits, misses, backend, errs, skipped atomic.Int64
}

// server is one memcached server and its back-off state.
type server struct {
	addr      string
	timeout   time.Duration
	maxIdle   int
	client    atomic.Pointer[memcache.Client]
	downUntil atomic.Int64 // unix nanoseconds; 0: up
}

// reset replaces the client, dropping its idle connections: after a
// failure they are likely dead (memcached restarted), and each would cost
// one more failure and back-off.
func (s *server) reset() {
	mc := memcache.New(s.addr)
	mc.Timeout = s.timeout
	mc.MaxIdleConns = s.maxIdle
	if old := s.client.Swap(mc); old != nil {
		_ = old.Close()
	}
}

var (
	_ who.Authenticator    = (*Cache)(nil)
	_ who.MetadataProvider = (*Cache)(nil)
	_ who.Resolver         = (*Cache)(nil)
	_ who.Validator        = (*Cache)(nil)
)

// New returns the caching wrapper. The wrapped plugins come from
// Options.Authenticator/MDProvider or, from who.toml, from Resolve.
func New(o Options) (*Cache, error) {
	if o.AuthenticatorName == "" && o.MDProviderName == "" && o.Authenticator == nil && o.MDProvider == nil {
		return nil, &who.OptionError{Key: "authenticator_name", Err: ErrNothingToWrap}
	}
	if len(o.MemcachedURLs) == 0 {
		return nil, &who.OptionError{Key: "memcached_urls", Err: ErrNoServers}
	}
	if o.Secret == "" {
		return nil, &who.OptionError{Key: "secret", Err: ErrNoSecret}
	}
	wrapsAuth := o.AuthenticatorName != "" || o.Authenticator != nil
	if wrapsAuth && o.KeyItems != nil && !slices.Contains(o.KeyItems, who.KeyPassword) && !o.AllowPasswordlessKeys {
		return nil, &who.OptionError{Key: "key_items", Err: ErrPasswordlessKey}
	}
	for _, d := range []struct {
		key string
		v   who.Duration
	}{{"ttl", o.TTL}, {"negative_ttl", o.NegativeTTL}, {"timeout", o.Timeout}, {"backoff", o.Backoff}, {"near_cache_ttl", o.NearCacheTTL}} {
		if d.v < 0 {
			return nil, &who.OptionError{Key: d.key, Err: fmt.Errorf("memcached: must not be negative, got %v", d.v)}
		}
	}
	if o.NearCacheSize < 0 {
		return nil, &who.OptionError{Key: "near_cache_size", Err: errors.New("memcached: must not be negative")}
	}
	if o.TTL == 0 {
		o.TTL = who.Duration(DefaultTTL)
	}
	if o.Timeout == 0 {
		o.Timeout = who.Duration(DefaultTimeout)
	}
	if o.Backoff == 0 {
		o.Backoff = who.Duration(DefaultBackoff)
	}
	if o.NearCacheSize == 0 {
		o.NearCacheSize = DefaultNearCacheSize
	}
	if o.MaxIdleConns == 0 {
		o.MaxIdleConns = DefaultMaxIdleConns
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if len(o.KeyPrefix) > 100 || strings.ContainsFunc(o.KeyPrefix, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return nil, &who.OptionError{Key: "key_prefix", Err: errors.New("memcached: at most 100 printable ASCII characters, no spaces")}
	}
	if o.KeyItems != nil {
		o.KeyItems = slices.Clone(o.KeyItems)
		slices.Sort(o.KeyItems)
		o.KeyItems = slices.Compact(o.KeyItems)
	}
	if o.ValueItems != nil {
		o.ValueItems = slices.DeleteFunc(slices.Clone(o.ValueItems), func(s string) bool { return s == who.KeyPassword })
	}
	c := &Cache{o: o, codec: newKeyCodec(o.Secret, o.KeyPrefix), auth: o.Authenticator, md: o.MDProvider, log: o.Logger}
	if c.log == nil {
		c.log = slog.Default()
	}
	for _, addr := range o.MemcachedURLs {
		addr = strings.TrimPrefix(addr, "memcached://")
		s := &server{addr: addr, timeout: o.Timeout.D(), maxIdle: o.MaxIdleConns}
		s.reset()
		c.servers = append(c.servers, s)
	}
	if o.NearCacheTTL > 0 {
		ttl := min(o.NearCacheTTL.D(), o.TTL.D())
		c.near = newNearCache(ttl, o.NearCacheSize)
	}
	return c, nil
}

// References names the wrapped plugins, for the loader.
func (c *Cache) References() []who.Reference {
	var refs []who.Reference
	if c.o.AuthenticatorName != "" {
		refs = append(refs, who.Reference{Key: "authenticator_name", Name: c.o.AuthenticatorName})
	}
	if c.o.MDProviderName != "" {
		refs = append(refs, who.Reference{Key: "mdprovider_name", Name: c.o.MDProviderName})
	}
	return refs
}

// Resolve finds the wrapped plugins among the declared ones.
func (c *Cache) Resolve(plugins map[string]any) error {
	var errs []error
	if n := c.o.AuthenticatorName; n != "" && c.auth == nil {
		p, ok := plugins[n]
		a, isAuth := p.(who.Authenticator)
		switch {
		case !ok:
			errs = append(errs, &who.OptionError{Key: "authenticator_name", Err: fmt.Errorf("memcached: no plugin named %q", n)})
		case !isAuth:
			errs = append(errs, &who.OptionError{Key: "authenticator_name", Err: fmt.Errorf("memcached: plugin %q (%T) is not an authenticator", n, p)})
		default:
			c.auth = a
		}
	}
	if n := c.o.MDProviderName; n != "" && c.md == nil {
		p, ok := plugins[n]
		m, isMD := p.(who.MetadataProvider)
		switch {
		case !ok:
			errs = append(errs, &who.OptionError{Key: "mdprovider_name", Err: fmt.Errorf("memcached: no plugin named %q", n)})
		case !isMD:
			errs = append(errs, &who.OptionError{Key: "mdprovider_name", Err: fmt.Errorf("memcached: plugin %q (%T) is not a metadata provider", n, p)})
		default:
			c.md = m
		}
	}
	return errors.Join(errs...)
}

// Validate checks that the wrapped plugins were found and are not the
// wrapper itself.
func (c *Cache) Validate() error {
	if c.auth == nil && c.md == nil {
		return ErrNothingToWrap
	}
	if a, ok := c.auth.(*Cache); ok && a == c {
		return &who.OptionError{Key: "authenticator_name", Err: errors.New("memcached: the wrapper cannot wrap itself")}
	}
	if m, ok := c.md.(*Cache); ok && m == c {
		return &who.OptionError{Key: "mdprovider_name", Err: errors.New("memcached: the wrapper cannot wrap itself")}
	}
	return nil
}

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits: c.hits.Load(), NearHits: c.nearHits.Load(), NegativeHits: c.negHits.Load(),
		Misses: c.misses.Load(), BackendCalls: c.backend.Load(), Errors: c.errs.Load(), Skipped: c.skipped.Load(),
	}
}

// Close closes the memcached connections.
func (c *Cache) Close() error {
	var errs []error
	for _, s := range c.servers {
		errs = append(errs, s.client.Load().Close())
	}
	return errors.Join(errs...)
}

func (c *Cache) name(method string) string {
	if method == methodAuthenticate {
		if c.o.AuthenticatorName != "" {
			return c.o.AuthenticatorName
		}
		return "authenticator"
	}
	if c.o.MDProviderName != "" {
		return c.o.MDProviderName
	}
	return "mdprovider"
}

// backendCall runs the wrapped plugin on a clone of the identity.
type backendCall func(r *http.Request, clone who.Identity) (string, error)

// result is the outcome of one backend call, shared by the callers that
// waited for it.
type result struct {
	userID string
	values map[string]any
}

// Authenticate answers from the cache, or asks the wrapped authenticator
// once per key (concurrent misses wait for the same call) and caches a
// success (and, with negative_ttl, a failure). A backend error is
// returned, never cached.
func (c *Cache) Authenticate(r *http.Request, id who.Identity) (string, error) {
	if c.auth == nil || id == nil {
		return "", nil
	}
	res, err := c.lookup(r, methodAuthenticate, id, func(r *http.Request, clone who.Identity) (string, error) {
		return c.auth.Authenticate(r, clone)
	})
	if err != nil || res.userID == "" {
		return "", err
	}
	merge(id, res.values)
	return res.userID, nil
}

// AddMetadata adds the cached items of the wrapped metadata provider, or
// asks it once per key and caches what it added.
func (c *Cache) AddMetadata(r *http.Request, id who.Identity) error {
	if c.md == nil || id == nil {
		return nil
	}
	res, err := c.lookup(r, methodAddMetadata, id, func(r *http.Request, clone who.Identity) (string, error) {
		if err := c.md.AddMetadata(r, clone); err != nil {
			return "", err
		}
		return "-", nil
	})
	if err != nil {
		return err
	}
	merge(id, res.values)
	return nil
}

func merge(id who.Identity, values map[string]any) {
	for k, v := range values {
		if k == who.KeyPassword {
			continue
		}
		id[k] = deepCopy(v)
	}
}

// lookup is the common path: near-cache, memcached, then one backend call
// per key. call receives a clone of id and returns the userid ("" = no);
// for metadata any non-empty string means success.
func (c *Cache) lookup(r *http.Request, method string, id who.Identity, call backendCall) (result, error) {
	plugin := c.name(method)
	key, err := c.codec.key(method, plugin, id, c.o.KeyItems)
	if err != nil {
		c.skipped.Add(1)
		return c.callBackend(r, id, method, call) // not cacheable: ask the backend
	}
	if c.near != nil {
		if e, ok := c.near.get(key); ok {
			c.nearHits.Add(1)
			return c.fromEntry(e), nil
		}
	}
	if e, ok := c.get(r.Context(), key); ok {
		c.hits.Add(1)
		if c.near != nil {
			c.near.put(key, e, c.entryTTL(e))
		}
		return c.fromEntry(e), nil
	}
	c.misses.Add(1)
	// The shared call must not fail for everyone when the first caller
	// goes away: it runs detached from that caller's cancellation, and
	// each caller waits only as long as its own context allows.
	shared := r.WithContext(context.WithoutCancel(r.Context()))
	ch := c.group.DoChan(key, func() (any, error) {
		// A caller that missed just before another call for this key
		// finished (and stored its answer) starts a new call: look again,
		// so concurrent logins still make one backend call.
		if c.near != nil {
			if e, ok := c.near.get(key); ok {
				return c.fromEntry(e), nil
			}
		}
		if e, ok := c.get(shared.Context(), key); ok {
			return c.fromEntry(e), nil
		}
		res, err := c.callBackend(shared, id, method, call)
		if err != nil {
			return res, err
		}
		e := entry{negative: res.userID == "", userID: res.userID, values: res.values}
		if method == methodAddMetadata {
			e.userID = ""
		}
		if ttl := c.entryTTL(e); ttl > 0 {
			c.set(key, e, ttl)
			if c.near != nil {
				c.near.put(key, e, ttl)
			}
		}
		return res, nil
	})
	select {
	case out := <-ch:
		res, _ := out.Val.(result)
		return res, out.Err
	case <-r.Context().Done():
		return result{}, fmt.Errorf("memcached: waiting for %s: %w", plugin, r.Context().Err())
	}
}

func (c *Cache) fromEntry(e entry) result {
	if e.negative {
		c.negHits.Add(1)
		return result{}
	}
	return result{userID: e.userID, values: e.values}
}

// entryTTL is how long e may be cached: ttl, negative_ttl, or 0 (not at
// all).
func (c *Cache) entryTTL(e entry) time.Duration {
	if e.negative {
		return c.o.NegativeTTL.D()
	}
	return c.o.TTL.D()
}

// callBackend runs the wrapped plugin on a clone of id and collects the
// items to cache.
func (c *Cache) callBackend(r *http.Request, id who.Identity, method string, call backendCall) (result, error) {
	c.backend.Add(1)
	clone := id.Clone()
	uid, err := call(r, clone)
	if err != nil || uid == "" {
		return result{}, err
	}
	res := result{userID: uid, values: map[string]any{}}
	if method == methodAddMetadata {
		res.userID = "-"
	}
	if c.o.ValueItems != nil {
		for _, k := range c.o.ValueItems {
			if v, ok := clone[k]; ok {
				res.values[k] = v
			}
		}
	} else {
		for k, v := range clone {
			if k == who.KeyPassword || k == who.KeyUserID {
				continue
			}
			if old, ok := id[k]; !ok || !reflect.DeepEqual(old, v) {
				res.values[k] = v
			}
		}
	}
	if method == methodAuthenticate {
		delete(res.values, who.KeyUserID)
	}
	return res, nil
}

func (c *Cache) pick(key string) *server {
	if len(c.servers) == 1 {
		return c.servers[0]
	}
	return c.servers[crc32.ChecksumIEEE([]byte(key))%uint32(len(c.servers))]
}

// available reports whether s is outside its back-off.
func (s *server) available(now time.Time) bool {
	until := s.downUntil.Load()
	return until == 0 || now.UnixNano() >= until
}

// failed records a server failure: memcached errors other than a miss.
func (c *Cache) failed(s *server, op string, err error) {
	c.errs.Add(1)
	s.downUntil.Store(time.Now().Add(c.o.Backoff.D()).UnixNano())
	s.reset()
	c.log.Warn("memcached: server failed; the wrapped plugin answers during the back-off",
		"server", s.addr, "op", op, "backoff", c.o.Backoff.String(), "err", err)
}

func isServerError(err error) bool {
	switch {
	case err == nil, errors.Is(err, memcache.ErrCacheMiss), errors.Is(err, memcache.ErrNotStored),
		errors.Is(err, memcache.ErrCASConflict), errors.Is(err, memcache.ErrMalformedKey):
		return false
	}
	return true
}

func (c *Cache) get(ctx context.Context, key string) (entry, bool) {
	s := c.pick(key)
	if !s.available(time.Now()) || ctx.Err() != nil {
		c.skipped.Add(1)
		return entry{}, false
	}
	it, err := s.client.Load().Get(key)
	if err != nil {
		if isServerError(err) {
			c.failed(s, "get", err)
		}
		return entry{}, false
	}
	s.downUntil.Store(0)
	e, err := c.codec.decodeEntry(key, it.Value)
	if err != nil {
		c.log.Warn("memcached: ignoring a cache value that fails its check", "server", s.addr)
		return entry{}, false
	}
	return e, true
}

func (c *Cache) set(key string, e entry, ttl time.Duration) {
	s := c.pick(key)
	if !s.available(time.Now()) {
		return
	}
	b, err := c.codec.encodeEntry(key, e)
	if err != nil {
		return // a value the codec cannot hold: not cached
	}
	if err := s.client.Load().Set(&memcache.Item{Key: key, Value: b, Expiration: expiration(ttl)}); err != nil && isServerError(err) {
		c.failed(s, "set", err)
	}
}

// expiration converts ttl to memcached's expiration: seconds (at least 1)
// up to 30 days, a unix time beyond.
func expiration(ttl time.Duration) int32 {
	secs := int64((ttl + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	if secs > 30*24*3600 {
		return int32(time.Now().Unix() + secs)
	}
	return int32(secs)
}

// nearCache is a small in-process cache with expiry and a size bound.
type nearCache struct {
	ttl  time.Duration
	size int
	mu   sync.Mutex
	m    map[string]nearEntry
}

type nearEntry struct {
	e   entry
	exp int64
}

func newNearCache(ttl time.Duration, size int) *nearCache {
	return &nearCache{ttl: ttl, size: size, m: make(map[string]nearEntry)}
}

func (n *nearCache) get(key string) (entry, bool) {
	now := time.Now().UnixNano()
	n.mu.Lock()
	ne, ok := n.m[key]
	if ok && now >= ne.exp {
		delete(n.m, key)
		ok = false
	}
	n.mu.Unlock()
	return ne.e, ok
}

func (n *nearCache) put(key string, e entry, ttl time.Duration) {
	now := time.Now()
	exp := now.Add(min(ttl, n.ttl)).UnixNano()
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.m[key]; !ok && len(n.m) >= n.size {
		// Full: drop the expired entries, then arbitrary ones (map order)
		// until there is room.
		for k, v := range n.m {
			if now.UnixNano() >= v.exp {
				delete(n.m, k)
			}
		}
		for k := range n.m {
			if len(n.m) < n.size {
				break
			}
			delete(n.m, k)
		}
	}
	n.m[key] = nearEntry{e: e, exp: exp}
}

// nearLen returns the number of entries in the near-cache (0 when off).
func (c *Cache) nearLen() int {
	if c.near == nil {
		return 0
	}
	c.near.mu.Lock()
	defer c.near.mu.Unlock()
	return len(c.near.m)
}
