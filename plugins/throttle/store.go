package throttle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"

	"github.com/gowho/gowho/internal/lru"
	"github.com/gowho/gowho/internal/memcachettl"
	"github.com/gowho/gowho/internal/redisclient"
	"github.com/gowho/gowho/internal/redisurl"
)

// store holds the counts and bans. Each operation is atomic on its own;
// attempt is the one that must be (concurrent logins on several instances
// each get a distinct attempt number).
type store interface {
	// attempt returns the ban's end when k is banned at now, else
	// counts one more attempt in the window (which starts with the first)
	// and returns its number.
	attempt(ctx context.Context, k keys, window time.Duration, now time.Time) (n int64, until time.Time, err error)
	// refund takes back one attempt that was no failure.
	refund(ctx context.Context, k keys) error
	// reset forgets the count.
	reset(ctx context.Context, k keys) error
	// ban bans k until until (kept ttl) and forgets the count, so the
	// next window starts afresh when the ban ends.
	ban(ctx context.Context, k keys, until time.Time, ttl time.Duration) error
	close() error
}

// memStore is the in-process store: two LRUs of at most max subjects
// each, one of counts and one of bans. They are apart so that a flood of
// distinct logins (each a fresh count) cannot evict a ban: only max other
// bans, each earned with max_failures failures, can.
type memStore struct {
	mu     sync.Mutex
	counts *lru.Cache[string, *memEntry] // by count key
	bans   *lru.Cache[string, *memEntry] // by count key: the ban's end
}

type memEntry struct {
	n   int64     // counts: the attempts in the window
	end time.Time // counts: the window's end; bans: the ban's end
}

func newMemStore(max int) *memStore {
	return &memStore{counts: lru.New[string, *memEntry](max), bans: lru.New[string, *memEntry](max)}
}

// entry returns key's entry in c, made when missing (the least recently
// used dropped when c is full), marked most recently used.
func entry(c *lru.Cache[string, *memEntry], key string) *memEntry {
	if e, ok := c.Get(key); ok {
		return e
	}
	e := &memEntry{}
	c.Put(key, e)
	return e
}

func (s *memStore) attempt(_ context.Context, k keys, window time.Duration, now time.Time) (int64, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bans.Get(k.count); ok {
		if b.end.After(now) {
			return 0, b.end, nil
		}
		s.bans.Remove(k.count)
	}
	e := entry(s.counts, k.count)
	if !now.Before(e.end) {
		e.n, e.end = 0, now.Add(window)
	}
	e.n++
	return e.n, time.Time{}, nil
}

func (s *memStore) refund(_ context.Context, k keys) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.counts.Peek(k.count); ok {
		if e.n > 0 {
			e.n--
		}
	}
	return nil
}

func (s *memStore) reset(_ context.Context, k keys) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Remove(k.count)
	return nil
}

func (s *memStore) ban(_ context.Context, k keys, until time.Time, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Remove(k.count)
	entry(s.bans, k.count).end = until
	return nil
}

func (s *memStore) close() error { return nil }

// len returns the number of subjects held, counts and bans (tests).
func (s *memStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts.Len() + s.bans.Len()
}

// redisStore keeps the state in Redis: attempt is one Lua script (the
// ban check, INCR and PEXPIRE of a new count, atomically), ban one
// MULTI.
type redisStore struct{ rc *redisclient.Client }

// attemptScript: KEYS[1] the ban, KEYS[2] the count; ARGV[1] the window
// in ms, ARGV[2] now in unix ms. Returns {0, until} when banned, else
// {n, 0}. The ban's end is compared with the caller's clock (Redis's TTL
// only collects it), so instances agree on a ban within their clock skew.
var attemptScript = redis.NewScript(`
local b = redis.call('GET', KEYS[1])
if b and tonumber(b) > tonumber(ARGV[2]) then
  return {0, tonumber(b)}
end
local n = redis.call('INCR', KEYS[2])
if n == 1 then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return {n, 0}
`)

// refundScript takes one attempt back and drops a count that reached 0
// (a DECR of an expired count would leave a -1 without TTL).
var refundScript = redis.NewScript(`
local n = redis.call('DECR', KEYS[1])
if n <= 0 then
  redis.call('DEL', KEYS[1])
end
return n
`)

func newRedisStore(url string, timeout time.Duration) (*redisStore, error) {
	opt, err := redisurl.Parse("throttle", url)
	if err != nil {
		return nil, err
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = timeout, timeout, timeout
	opt.PoolTimeout = timeout
	opt.DialerRetries = 1
	opt.MaxRetries = -1 // a retry would double the wait on a hung server
	// Renewed when the back-off opens (see redisclient): a call holds a
	// client for at most the pool wait, dial, write and read.
	return &redisStore{rc: redisclient.New(func() redis.UniversalClient { return redis.NewClient(opt) }, 4*timeout+time.Second)}, nil
}

// renew replaces the client, whose pool may have stopped dialling.
func (s *redisStore) renew() { s.rc.Renew() }

func (s *redisStore) attempt(ctx context.Context, k keys, window time.Duration, now time.Time) (int64, time.Time, error) {
	v, err := attemptScript.Run(ctx, s.rc.Get(), []string{k.ban, k.count}, window.Milliseconds(), now.UnixMilli()).Int64Slice()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("throttle: redis: %w", err)
	}
	if len(v) != 2 {
		return 0, time.Time{}, fmt.Errorf("throttle: redis: script answered %d values", len(v))
	}
	if v[0] == 0 {
		return 0, time.UnixMilli(v[1]), nil
	}
	return v[0], time.Time{}, nil
}

func (s *redisStore) refund(ctx context.Context, k keys) error {
	if err := refundScript.Run(ctx, s.rc.Get(), []string{k.count}).Err(); err != nil {
		return fmt.Errorf("throttle: redis: %w", err)
	}
	return nil
}

func (s *redisStore) reset(ctx context.Context, k keys) error {
	if err := s.rc.Get().Del(ctx, k.count).Err(); err != nil {
		return fmt.Errorf("throttle: redis: %w", err)
	}
	return nil
}

func (s *redisStore) ban(ctx context.Context, k keys, until time.Time, ttl time.Duration) error {
	_, err := s.rc.Get().TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, k.ban, until.UnixMilli(), ttl)
		p.Del(ctx, k.count)
		return nil
	})
	if err != nil {
		return fmt.Errorf("throttle: redis: %w", err)
	}
	return nil
}

func (s *redisStore) close() error { return s.rc.Close() }

// memcacheStore keeps the state in memcached: a count is made with add
// and counted with incr, both atomic on the server.
type memcacheStore struct{ c *memcache.Client }

func newMemcacheStore(addrs []string, timeout time.Duration) *memcacheStore {
	clean := make([]string, len(addrs))
	for i, a := range addrs {
		clean[i] = strings.TrimPrefix(a, "memcached://")
	}
	c := memcache.New(clean...)
	c.Timeout = timeout
	return &memcacheStore{c: c}
}

func mcErr(err error) error {
	if err == nil || errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	return fmt.Errorf("throttle: memcached: %w", err)
}

// attempt checks the ban, counts, and checks the ban again: a ban (set,
// then the count deleted) written between the first check and the incr
// would otherwise leave this attempt a fresh count of 1 during the ban.
func (s *memcacheStore) attempt(ctx context.Context, k keys, window time.Duration, now time.Time) (int64, time.Time, error) {
	if until, err := s.banned(k, now); err != nil || !until.IsZero() {
		return 0, until, err
	}
	n, err := s.incr(k, window, now)
	if err != nil {
		return 0, time.Time{}, err
	}
	until, err := s.banned(k, now)
	if err != nil || !until.IsZero() {
		_ = s.refund(ctx, k)
		return 0, until, err
	}
	return n, time.Time{}, nil
}

// banned returns the end of k's ban, or zero.
func (s *memcacheStore) banned(k keys, now time.Time) (time.Time, error) {
	it, err := s.c.Get(k.ban)
	if err := mcErr(err); err != nil {
		return time.Time{}, err
	}
	if it != nil {
		if ms, perr := strconv.ParseInt(string(it.Value), 10, 64); perr == nil && ms > now.UnixMilli() {
			return time.UnixMilli(ms), nil
		}
	}
	return time.Time{}, nil
}

// incr counts one attempt: incr, add when missing, and incr again when
// another add won the race.
func (s *memcacheStore) incr(k keys, window time.Duration, now time.Time) (int64, error) {
	for range 3 {
		n, err := s.c.Increment(k.count, 1)
		if err == nil {
			return int64(n), nil
		}
		if !errors.Is(err, memcache.ErrCacheMiss) {
			return 0, mcErr(err)
		}
		err = s.c.Add(&memcache.Item{Key: k.count, Value: []byte("1"), Expiration: memcachettl.Expiration(window, now)})
		if err == nil {
			return 1, nil
		}
		if !errors.Is(err, memcache.ErrNotStored) {
			return 0, mcErr(err)
		}
	}
	return 0, errors.New("throttle: memcached: the count kept vanishing")
}

func (s *memcacheStore) refund(_ context.Context, k keys) error {
	_, err := s.c.Decrement(k.count, 1) // floors at 0; a miss is fine
	return mcErr(err)
}

func (s *memcacheStore) reset(_ context.Context, k keys) error {
	return mcErr(s.c.Delete(k.count))
}

func (s *memcacheStore) ban(_ context.Context, k keys, until time.Time, ttl time.Duration) error {
	err := s.c.Set(&memcache.Item{Key: k.ban, Value: strconv.AppendInt(nil, until.UnixMilli(), 10),
		Expiration: memcachettl.Expiration(ttl, until.Add(-ttl))})
	if err != nil {
		return mcErr(err)
	}
	return mcErr(s.c.Delete(k.count))
}

func (s *memcacheStore) close() error { return s.c.Close() }
