package memcached

import (
	"context"
	"crypto/rand"
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

	"github.com/gowho/gowho/internal/backoff"
	"github.com/gowho/gowho/internal/codec"
	"github.com/gowho/gowho/internal/memcachettl"
	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultTTL           = 60 * time.Second
	DefaultTimeout       = 500 * time.Millisecond
	DefaultBackoff       = 2 * time.Second
	DefaultBackoffAfter  = 3
	DefaultCallTimeout   = 5 * time.Second
	DefaultMaxInFlight   = 256
	DefaultNearCacheSize = 10000
	DefaultMaxIdleConns  = 32
	DefaultKeyPrefix     = "gowho:"
)

// NonCredentialItems are the identity items the default key leaves out:
// they do not say who is logging in, and a client (or every new ticket)
// varies them. who.KeyMaxAge is the form's "remember" field, which the
// client chooses; "timestamp" is auth_tkt's issue time, new on every
// ticket. Keying on them would let a client bypass the negative cache by
// varying them, and make every new ticket a miss.
var NonCredentialItems = []string{who.KeyMaxAge, "timestamp"}

// Sentinel errors of New and Resolve.
var (
	// ErrNothingToWrap: neither authenticator_name nor mdprovider_name.
	ErrNothingToWrap = errors.New("memcached: you must specify authenticator_name and/or mdprovider_name")
	// ErrNoSecret: secret is required when memcached_urls lists servers,
	// and every app server sharing a cache must use the same one.
	ErrNoSecret = errors.New("memcached: secret is required")
	// ErrPasswordlessKey: key_items on an authenticator wrap leave out
	// the password, so any password would hit a cached login.
	ErrPasswordlessKey = errors.New("memcached: key_items leave out \"password\": any password would log in from the cache (set allow_passwordless_keys = true if that is really wanted)")
	// ErrNoServers: memcached_urls is missing. An in-process cache with
	// no memcached is written memcached_urls = [] with near_cache_ttl.
	ErrNoServers = errors.New("memcached: memcached_urls is required (list the servers, or write memcached_urls = [] and set near_cache_ttl for an in-process cache only)")
	// ErrNoNearCache: memcached_urls = [] (no servers) without
	// near_cache_ttl, which would cache nothing.
	ErrNoNearCache = errors.New(`memcached: memcached_urls = [] (no servers) caches only in this process: set near_cache_ttl (e.g. "30s"), or list memcached servers`)
	// ErrTooBusy is wrapped by the error of a backend call refused because
	// max_in_flight calls of the wrapped plugin are already running: the
	// chain logs it and goes on, at once, instead of queueing behind a
	// hung backend.
	ErrTooBusy = errors.New("memcached: too many calls of the wrapped plugin in flight (max_in_flight); refusing more until some finish")
	// ErrCallTimeout is wrapped by the error of a backend call that did
	// not answer within call_timeout.
	ErrCallTimeout = errors.New("memcached: the wrapped plugin did not answer within call_timeout")
)

// Method names hashed into the keys, as the original's.
const (
	methodAuthenticate = "authenticate"
	methodAddMetadata  = "add_metadata"
)

// Options configure the caching wrapper. The keys are repoze.who.plugins.memcached's
// where it has them.
type Options struct {
	// MemcachedURLs, key memcached_urls (required): "host:port" of each
	// server; a list, or one whitespace-separated string as the original.
	// A key lives on one server, chosen by a hash of the key. Explicitly
	// empty (memcached_urls = [], who.Words{} from Go; not nil) with
	// NearCacheTTL > 0 is an in-process cache only, with no network,
	// what Apache's mod_authn_socache with shmcb is to mod_auth_basic:
	// each process then keeps its own entries, and Secret may be left
	// out (a random one is drawn per process).
	MemcachedURLs who.Words `toml:"memcached_urls"`
	// AuthenticatorName, key authenticator_name: the declared plugin whose
	// Authenticate results are cached (usually listed as "name;unused").
	AuthenticatorName string `toml:"authenticator_name"`
	// MDProviderName, key mdprovider_name: the declared plugin whose
	// AddMetadata results are cached. At least one of the two is required.
	MDProviderName string `toml:"mdprovider_name"`
	// KeyItems, key key_items: the identity items hashed into the cache
	// key. Default: every item of the identity except NonCredentialItems
	// (the form's max_age, auth_tkt's timestamp), sorted. On an
	// authenticator wrap the list must hold "password" unless
	// AllowPasswordlessKeys.
	KeyItems who.Words `toml:"key_items"`
	// ValueItems, key value_items: the identity items stored with a
	// result. Default: the items the wrapped plugin added or changed. The
	// password is never stored.
	ValueItems who.Words `toml:"value_items"`
	// Secret, key secret (required with servers): the HMAC key of cache
	// keys and values; every server sharing the cache uses the same
	// secret. With memcached_urls = [] it may be left out: 32 random
	// bytes are drawn when the cache is built, so keys differ in each
	// process and across restarts.
	Secret string `toml:"secret"`
	// TTL, key ttl (default 60s; with memcached_urls = [] and no ttl,
	// near_cache_ttl): how long a result is cached, as "5m" or seconds.
	// It bounds how long a revoked user or an old password still logs in.
	TTL who.Duration `toml:"ttl"`
	// AllowPasswordlessKeys, key allow_passwordless_keys (default false):
	// accept key_items without "password" on an authenticator wrap.
	AllowPasswordlessKeys bool `toml:"allow_passwordless_keys"`
	// NegativeTTL, key negative_ttl (default 0: off): how long a failed
	// authentication is cached, to keep repeated wrong passwords from the
	// backend. A password tried while wrong stays refused this long even
	// if it becomes right: keep it short.
	NegativeTTL who.Duration `toml:"negative_ttl"`
	// Timeout, key timeout (default 500ms): the connect and read/write
	// timeout of a memcached request; past it the wrapped plugin answers.
	// It is a bound for a hung server, not a latency target: a loaded
	// memcached on a loaded LAN answers within a few milliseconds, and a
	// too-short timeout turns load into cache bypass.
	Timeout who.Duration `toml:"timeout"`
	// BackoffAfter, key backoff_after (default 3), and Backoff, key
	// backoff (default 2s): after backoff_after memcached failures in a
	// row (refused, reset, timed out; a success ends the run), that
	// server is left alone for backoff and the wrapped plugin answers;
	// then one request tries it again, and its answer ends the back-off
	// or starts the next one.
	BackoffAfter int          `toml:"backoff_after"`
	Backoff      who.Duration `toml:"backoff"`
	// CallTimeout, key call_timeout (default 5s): the deadline of each
	// call of the wrapped plugin, shared by the requests that wait for
	// it; each waits no longer than its own request either, and a call
	// nobody waits for any more is cancelled.
	CallTimeout who.Duration `toml:"call_timeout"`
	// MaxInFlight, key max_in_flight (default 256): calls of the wrapped
	// plugin running at once (one per key, however many requests wait for
	// it); one more fails at once with an error wrapping ErrTooBusy.
	MaxInFlight int `toml:"max_in_flight"`
	// MaxPasswordBytes, key max_password_bytes (default
	// who.DefaultMaxPasswordBytes, 1024): a longer password is "no",
	// before any key is hashed or the wrapped plugin asked.
	MaxPasswordBytes int `toml:"max_password_bytes"`
	// NearCacheTTL, key near_cache_ttl (default 0: off; required with
	// memcached_urls = []): keep results in this process too, this long
	// (never longer than ttl), so a hit costs no network round trip. Each
	// process may then serve a result up to this long after memcached
	// dropped it.
	NearCacheTTL who.Duration `toml:"near_cache_ttl"`
	// NearCacheSize, key near_cache_size (default 10000): the most entries
	// the near-cache holds; when it is full, expired entries go first,
	// then arbitrary ones. An entry is a key of 70 bytes, the userid and
	// the value items: about 300 bytes for a userid alone.
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
	// Name is the plugin's name in the configuration (the factory sets
	// it), the Plugin of the cache events it reports to the chain's
	// observers (who.Report); "": the name the chain lists.
	Name string `toml:"-"`
}

// Stats counts what the wrapper did, for tests and monitoring.
type Stats struct {
	Hits         int64 // answers from memcached
	NearHits     int64 // answers from the near-cache
	NegativeHits int64 // cached failures served (part of Hits/NearHits)
	Misses       int64 // lookups that found nothing
	BackendCalls int64 // calls of the wrapped plugin
	Errors       int64 // memcached failures (backoff_after in a row start a back-off)
	Backoffs     int64 // back-offs started
	Skipped      int64 // lookups skipped during a back-off or for an uncacheable identity
	Joined       int64 // requests that waited for another request's backend call
	TooBusy      int64 // backend calls refused past max_in_flight
	Timeouts     int64 // requests whose backend call ran past call_timeout
}

// Cache wraps an authenticator and/or a metadata provider and caches their
// answers in memcached. It is safe for concurrent use.
type Cache struct {
	o       Options
	codec   keyCodec
	servers []*server
	near    *nearCache
	log     *slog.Logger
	now     func() time.Time // time.Now; tests move it

	auth     who.Authenticator
	md       who.MetadataProvider
	authCall backendCall // c.auth.Authenticate, bound once (a closure per request allocates)

	mu      sync.Mutex
	flights map[string]*flight // backend calls in flight, by key
	running atomic.Int64       // backend calls running (max_in_flight)
	onJoin  func()             // tests: a request joined a flight

	hits, nearHits, negHits, misses, backend, errs, backoffs, skipped, joined, tooBusy, timeouts atomic.Int64
}

// server is one memcached server and its back-off state.
type server struct {
	addr    string
	timeout time.Duration
	maxIdle int
	client  atomic.Pointer[memcache.Client]

	br     backoff.Breaker // backoff_after failures in a row: the server is left alone for backoff
	resets atomic.Int64    // clients replaced after the first
}

// reset replaces the client, dropping its idle connections: when a
// back-off starts they are likely dead (memcached restarted), and each
// would cost one more failure. It runs once per back-off.
func (s *server) reset() {
	mc := memcache.New(s.addr)
	mc.Timeout = s.timeout
	mc.MaxIdleConns = s.maxIdle
	if old := s.client.Swap(mc); old != nil {
		s.resets.Add(1)
		_ = old.Close()
	}
}

var (
	_ who.Authenticator    = (*Cache)(nil)
	_ who.MetadataProvider = (*Cache)(nil)
	_ who.Resolver         = (*Cache)(nil)
	_ who.Validator        = (*Cache)(nil)
	_ who.SecretKeyer      = (*Cache)(nil)
)

// SecretKeys forwards the keys the wrapped authenticator and metadata
// provider declare secret (who.SecretKeysOf over both), so that a chain
// listing the wrapper in their place masks what they would. Before
// Resolve (a configuration that has not loaded yet) it names only
// who.KeyPassword.
func (c *Cache) SecretKeys() []string {
	var wrapped []any
	if c.auth != nil {
		wrapped = append(wrapped, c.auth)
	}
	if c.md != nil {
		wrapped = append(wrapped, c.md)
	}
	return who.SecretKeysOf(wrapped...)
}

// New returns the caching wrapper. The wrapped plugins come from
// Options.Authenticator/MDProvider or, from who.toml, from Resolve.
func New(o Options) (*Cache, error) {
	if o.AuthenticatorName == "" && o.MDProviderName == "" && o.Authenticator == nil && o.MDProvider == nil {
		return nil, &who.OptionError{Key: "authenticator_name", Err: ErrNothingToWrap}
	}
	if o.MemcachedURLs == nil {
		return nil, &who.OptionError{Key: "memcached_urls", Err: ErrNoServers}
	}
	local := len(o.MemcachedURLs) == 0
	if local && o.NearCacheTTL <= 0 {
		return nil, &who.OptionError{Key: "near_cache_ttl", Err: ErrNoNearCache}
	}
	if o.Secret == "" {
		if !local {
			return nil, &who.OptionError{Key: "secret", Err: ErrNoSecret}
		}
		// Keys never leave this process: a secret of its own keeps them
		// unguessable (no one can precompute the key of a password).
		o.Secret = rand.Text() + rand.Text()
	}
	wrapsAuth := o.AuthenticatorName != "" || o.Authenticator != nil
	if wrapsAuth && o.KeyItems != nil && !slices.Contains(o.KeyItems, who.KeyPassword) && !o.AllowPasswordlessKeys {
		return nil, &who.OptionError{Key: "key_items", Err: ErrPasswordlessKey}
	}
	for _, d := range []struct {
		key string
		v   who.Duration
	}{{"ttl", o.TTL}, {"negative_ttl", o.NegativeTTL}, {"timeout", o.Timeout}, {"backoff", o.Backoff},
		{"near_cache_ttl", o.NearCacheTTL}, {"call_timeout", o.CallTimeout}} {
		if d.v < 0 {
			return nil, &who.OptionError{Key: d.key, Err: fmt.Errorf("memcached: must not be negative, got %v", d.v)}
		}
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"near_cache_size", o.NearCacheSize}, {"backoff_after", o.BackoffAfter}, {"max_in_flight", o.MaxInFlight},
		{"max_password_bytes", o.MaxPasswordBytes}, {"max_idle_conns", o.MaxIdleConns}} {
		if n.v < 0 {
			return nil, &who.OptionError{Key: n.key, Err: fmt.Errorf("memcached: must not be negative, got %d", n.v)}
		}
	}
	if o.TTL == 0 {
		o.TTL = who.Duration(DefaultTTL)
		if local {
			o.TTL = o.NearCacheTTL
		}
	}
	if o.Timeout == 0 {
		o.Timeout = who.Duration(DefaultTimeout)
	}
	if o.Backoff == 0 {
		o.Backoff = who.Duration(DefaultBackoff)
	}
	if o.BackoffAfter == 0 {
		o.BackoffAfter = DefaultBackoffAfter
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = who.Duration(DefaultCallTimeout)
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxPasswordBytes == 0 {
		o.MaxPasswordBytes = who.DefaultMaxPasswordBytes
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
	c := &Cache{o: o, codec: newKeyCodec(o.Secret, o.KeyPrefix), auth: o.Authenticator, md: o.MDProvider, log: o.Logger,
		now: time.Now, flights: make(map[string]*flight)}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.authCall = func(r *http.Request, clone who.Identity) (string, error) { return c.auth.Authenticate(r, clone) }
	for _, addr := range o.MemcachedURLs {
		addr = strings.TrimPrefix(addr, "memcached://")
		s := &server{addr: addr, timeout: o.Timeout.D(), maxIdle: o.MaxIdleConns,
			br: backoff.Breaker{Threshold: o.BackoffAfter, Interval: o.Backoff.D(), Now: func() time.Time { return c.now() }}}
		s.reset()
		c.servers = append(c.servers, s)
	}
	if o.NearCacheTTL > 0 {
		ttl := min(o.NearCacheTTL.D(), o.TTL.D())
		c.near = newNearCache(ttl, o.NearCacheSize, func() time.Time { return c.now() })
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
		a, err := who.Lookup[who.Authenticator](plugins, who.Reference{Key: "authenticator_name", Name: n})
		c.auth, errs = a, append(errs, err)
	}
	if n := c.o.MDProviderName; n != "" && c.md == nil {
		m, err := who.Lookup[who.MetadataProvider](plugins, who.Reference{Key: "mdprovider_name", Name: n})
		c.md, errs = m, append(errs, err)
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
		Misses: c.misses.Load(), BackendCalls: c.backend.Load(), Errors: c.errs.Load(), Backoffs: c.backoffs.Load(),
		Skipped: c.skipped.Load(), Joined: c.joined.Load(), TooBusy: c.tooBusy.Load(), Timeouts: c.timeouts.Load(),
	}
}

// Local reports whether c caches in this process only (memcached_urls =
// []): it then makes no network call of its own.
func (c *Cache) Local() bool { return len(c.servers) == 0 }

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
// success (and, with negative_ttl, a failure). A password longer than
// max_password_bytes is "no" at once. A backend error (including
// ErrTooBusy and ErrCallTimeout) is returned, never cached.
func (c *Cache) Authenticate(r *http.Request, id who.Identity) (string, error) {
	if c.auth == nil || id == nil {
		return "", nil
	}
	if c.passwordTooLong(id) {
		return "", nil // before any hashing: a long password buys no CPU
	}
	res, err := c.lookup(r, methodAuthenticate, id, c.authCall)
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
	call := func(r *http.Request, clone who.Identity) (string, error) {
		if err := c.md.AddMetadata(r, clone); err != nil {
			return "", err
		}
		return "-", nil
	}
	var res result
	var err error
	if c.passwordTooLong(id) {
		// Not hashed into a key: the wrapped provider answers, uncached.
		c.skipped.Add(1)
		res, err = c.callDirect(r, id, methodAddMetadata, call)
	} else {
		res, err = c.lookup(r, methodAddMetadata, id, call)
	}
	if err != nil {
		return err
	}
	merge(id, res.values)
	return nil
}

// passwordTooLong reports whether the identity's password is longer than
// max_password_bytes.
func (c *Cache) passwordTooLong(id who.Identity) bool {
	switch pw := id[who.KeyPassword].(type) {
	case string:
		return len(pw) > c.o.MaxPasswordBytes
	case []byte:
		return len(pw) > c.o.MaxPasswordBytes
	}
	return false
}

func merge(id who.Identity, values map[string]any) {
	for k, v := range values {
		if k == who.KeyPassword {
			continue
		}
		id[k] = codec.Clone(v)
	}
}

// keyItems returns the configured key_items, or the identity's items
// without NonCredentialItems, sorted.
func (c *Cache) keyItems(id who.Identity) []string {
	if c.o.KeyItems != nil {
		return c.o.KeyItems
	}
	return defaultKeyItems(id)
}

// defaultKeyItems returns the identity's items without
// NonCredentialItems, sorted.
func defaultKeyItems(id who.Identity) []string {
	items := make([]string, 0, len(id))
	for k := range id {
		if !slices.Contains(NonCredentialItems, k) {
			items = append(items, k)
		}
	}
	slices.Sort(items)
	return items
}

// flight is one backend call in flight for a key, shared by the requests
// that wait for it.
type flight struct {
	ctx     context.Context // the call's: call_timeout, cancelled when nobody waits
	cancel  context.CancelFunc
	waiters int           // under Cache.mu
	done    chan struct{} // closed when res and err are set
	res     result
	err     error
}

// lookup is the common path: near-cache, memcached, then one backend call
// per key. call receives a clone of id and returns the userid ("" = no);
// for metadata any non-empty string means success.
func (c *Cache) lookup(r *http.Request, method string, id who.Identity, call backendCall) (result, error) {
	plugin := c.name(method)
	// The default key items are the identity's without
	// NonCredentialItems (defaultKeyItems), listed without allocating.
	key, err := c.codec.keyExcept(method, plugin, id, c.o.KeyItems, NonCredentialItems)
	if err != nil {
		c.skipped.Add(1)
		return c.callDirect(r, id, method, call) // not cacheable: ask the backend
	}
	if c.near != nil {
		if e, ok := c.near.get(key); ok {
			c.nearHits.Add(1)
			who.Report(r.Context(), who.Event{Kind: who.EventCache, Plugin: c.o.Name, Outcome: who.OutcomeHit})
			return c.fromEntry(e), nil
		}
	}
	e, found, missed := c.get(r.Context(), key)
	if found {
		c.hits.Add(1)
		who.Report(r.Context(), who.Event{Kind: who.EventCache, Plugin: c.o.Name, Outcome: who.OutcomeHit})
		if c.near != nil {
			c.near.put(key, e, c.entryTTL(e))
		}
		return c.fromEntry(e), nil
	}
	c.misses.Add(1)
	who.Report(r.Context(), who.Event{Kind: who.EventCache, Plugin: c.o.Name, Outcome: who.OutcomeMiss})
	f, err := c.join(r, id, key, plugin, func(shared *http.Request, snapshot who.Identity) (result, error) {
		return c.fill(shared, key, snapshot, method, missed, call)
	})
	if err != nil {
		return result{}, err
	}
	return c.wait(r, key, plugin, f)
}

// join returns the flight for key, starting one that runs fill when none
// is running (or the running one is past its deadline). Starting one is
// refused past max_in_flight.
//
// The call may outlive the request that started it, whose chain goes on
// using its request and identity: fill gets a copy of the request, and
// the identity (which fill reads) is copied here before the call starts.
func (c *Cache) join(r *http.Request, id who.Identity, key, plugin string, fill func(*http.Request, who.Identity) (result, error)) (*flight, error) {
	c.mu.Lock()
	if f, ok := c.flights[key]; ok && f.ctx.Err() == nil {
		f.waiters++
		c.mu.Unlock()
		c.joined.Add(1)
		if c.onJoin != nil {
			c.onJoin()
		}
		return f, nil
	}
	if !c.admit() {
		c.mu.Unlock()
		return nil, c.busyError(plugin)
	}
	// The shared call must not fail for everyone when the first caller
	// goes away: it runs detached from that caller's cancellation, bounded
	// by call_timeout, and is cancelled when no caller waits any more.
	ctx, cancel := context.WithTimeoutCause(context.WithoutCancel(r.Context()), c.o.CallTimeout.D(), c.timeoutError(plugin))
	f := &flight{ctx: ctx, cancel: cancel, waiters: 1, done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()
	shared := r.Clone(ctx)
	snapshot := id.Clone()
	go func() {
		defer c.running.Add(-1)
		defer cancel()
		res, err := fill(shared, snapshot)
		c.mu.Lock()
		if c.flights[key] == f {
			delete(c.flights, key)
		}
		f.res, f.err = res, err
		c.mu.Unlock()
		close(f.done)
	}()
	return f, nil
}

// wait waits for f as long as the request and the call's deadline allow.
// A request that leaves stops waiting; the last one to leave cancels the
// call.
func (c *Cache) wait(r *http.Request, key, plugin string, f *flight) (result, error) {
	var res result
	var err error
	select {
	case <-f.done:
		res, err = f.res, f.err
	case <-r.Context().Done():
		c.leave(key, f)
		return result{}, fmt.Errorf("memcached: waiting for %s: %w", plugin, r.Context().Err())
	case <-f.ctx.Done():
		select {
		case <-f.done: // answered just in time
			res, err = f.res, f.err
		default:
			c.leave(key, f)
			err = context.Cause(f.ctx)
		}
	}
	if errors.Is(err, ErrCallTimeout) {
		c.timeouts.Add(1)
	}
	return res, err
}

// leave drops one waiter of f; with none left the call is cancelled and
// forgotten, so the next request for the key starts afresh.
func (c *Cache) leave(key string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	f.cancel()
}

// admit counts one more backend call running, unless max_in_flight are.
func (c *Cache) admit() bool {
	for {
		n := c.running.Load()
		if n >= int64(c.o.MaxInFlight) {
			c.tooBusy.Add(1)
			return false
		}
		if c.running.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (c *Cache) busyError(plugin string) error {
	return fmt.Errorf("memcached: not asking %s: %w", plugin, ErrTooBusy)
}

func (c *Cache) timeoutError(plugin string) error {
	return fmt.Errorf("memcached: %s, after %v (raise call_timeout or fix the backend): %w", plugin, c.o.CallTimeout, ErrCallTimeout)
}

// fill is the shared call for key: look again (a caller that missed just
// before another call for this key stored its answer starts a new call;
// looking again keeps concurrent logins at one backend call), then ask
// the backend and cache its answer. A memcached that failed the first
// lookup is not asked again.
func (c *Cache) fill(r *http.Request, key string, id who.Identity, method string, recheck bool, call backendCall) (result, error) {
	if c.near != nil {
		if e, ok := c.near.get(key); ok {
			return c.fromEntry(e), nil
		}
	}
	if recheck {
		if e, ok, _ := c.get(r.Context(), key); ok {
			return c.fromEntry(e), nil
		}
	}
	res, err := c.callBackend(r, id, method, call)
	if err != nil {
		if cause := context.Cause(r.Context()); cause != nil && errors.Is(cause, ErrCallTimeout) && !errors.Is(err, ErrCallTimeout) {
			err = fmt.Errorf("%w (%w)", cause, err)
		}
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
}

// callDirect asks the backend for an identity that is not cached, within
// max_in_flight and call_timeout like a shared call.
func (c *Cache) callDirect(r *http.Request, id who.Identity, method string, call backendCall) (result, error) {
	plugin := c.name(method)
	if !c.admit() {
		return result{}, c.busyError(plugin)
	}
	defer c.running.Add(-1)
	ctx, cancel := context.WithTimeoutCause(r.Context(), c.o.CallTimeout.D(), c.timeoutError(plugin))
	defer cancel()
	res, err := c.callBackend(r.WithContext(ctx), id, method, call)
	if err != nil && errors.Is(context.Cause(ctx), ErrCallTimeout) {
		c.timeouts.Add(1)
		if !errors.Is(err, ErrCallTimeout) {
			err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
		}
	}
	return res, err
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

// failed records a server failure (memcached errors other than a miss) on
// the server's breaker: backoff_after in a row, or a failed probe, start a
// back-off, which resets the client once.
func (c *Cache) failed(s *server, t backoff.Ticket, op string, err error) {
	c.errs.Add(1)
	if !t.Done(err, false) {
		return
	}
	c.backoffs.Add(1)
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

// get looks key up: found, or missed (memcached answered that it does not
// hold key, or a value failing its check), or neither (memcached was
// skipped or failed).
func (c *Cache) get(ctx context.Context, key string) (e entry, found, missed bool) {
	if len(c.servers) == 0 {
		return entry{}, false, false // in-process only: the near-cache was the lookup
	}
	s := c.pick(key)
	if ctx.Err() != nil {
		c.skipped.Add(1)
		return entry{}, false, false
	}
	t, err := s.br.Allow()
	if err != nil {
		c.skipped.Add(1)
		return entry{}, false, false
	}
	it, err := s.client.Load().Get(key)
	if isServerError(err) {
		c.failed(s, t, "get", err)
		// The server's error names the server, never the key.
		who.Report(ctx, who.Event{Kind: who.EventCache, Plugin: c.o.Name, Outcome: who.OutcomeError, Err: err})
		return entry{}, false, false
	}
	t.Done(nil, false)
	if err != nil {
		return entry{}, false, true
	}
	e, err = c.codec.decodeEntry(key, it.Value)
	if err != nil {
		c.log.Warn("memcached: ignoring a cache value that fails its check", "server", s.addr)
		return entry{}, false, true
	}
	return e, true, false
}

func (c *Cache) set(key string, e entry, ttl time.Duration) {
	if len(c.servers) == 0 {
		return
	}
	s := c.pick(key)
	b, err := c.codec.encodeEntry(key, e)
	if err != nil {
		return // a value the codec cannot hold: not cached
	}
	t, err := s.br.Allow()
	if err != nil {
		return
	}
	err = s.client.Load().Set(&memcache.Item{Key: key, Value: b, Expiration: memcachettl.Expiration(ttl, c.now())})
	if isServerError(err) {
		c.failed(s, t, "set", err)
		return
	}
	t.Done(nil, false)
}

// nearCache is a small in-process cache with expiry and a size bound.
type nearCache struct {
	ttl  time.Duration
	size int
	now  func() time.Time
	mu   sync.Mutex
	m    map[string]nearEntry
}

type nearEntry struct {
	e   entry
	exp int64
}

func newNearCache(ttl time.Duration, size int, now func() time.Time) *nearCache {
	return &nearCache{ttl: ttl, size: size, now: now, m: make(map[string]nearEntry)}
}

func (n *nearCache) get(key string) (entry, bool) {
	now := n.now().UnixNano()
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
	now := n.now()
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
