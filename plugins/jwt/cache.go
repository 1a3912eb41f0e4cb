package jwt

import (
	"crypto/sha256"
	"sync"
	"time"
)

// cache maps the SHA-256 of a token to what verifying it yielded, until
// the token's exp (or cache_ttl), with at most size entries: the same
// token again costs a hash and a map lookup instead of a signature check
// or an introspection request.
type cache struct {
	mu   sync.RWMutex
	size int
	m    map[[32]byte]cacheEntry
}

type cacheEntry struct {
	res   *Result
	until time.Time
}

func newCache(size int) *cache {
	return &cache{size: size, m: make(map[[32]byte]cacheEntry)}
}

func cacheKey(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// get returns a copy of the cached result, which the caller owns.
func (c *cache) get(k [32]byte, now time.Time) (*Result, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	res := &Result{UserID: e.res.UserID}
	if e.res.Claims != nil {
		res.Claims = make(map[string]any, len(e.res.Claims))
		for k, v := range e.res.Claims {
			res.Claims[k] = deepCopy(v)
		}
	}
	return res, true
}

// put keeps a copy of res until until. A full cache first drops its
// expired entries, then, if still full, arbitrary ones down to 9/10 of
// its size, so a burst of new tokens does not sweep the map on every put.
func (c *cache) put(k [32]byte, res *Result, now, until time.Time) {
	kept := &Result{UserID: res.UserID}
	if res.Claims != nil {
		kept.Claims = make(map[string]any, len(res.Claims))
		for k, v := range res.Claims {
			kept.Claims[k] = deepCopy(v)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.size {
		for ek, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, ek)
			}
		}
		for ek := range c.m {
			if len(c.m) <= c.size*9/10 {
				break
			}
			delete(c.m, ek)
		}
	}
	c.m[k] = cacheEntry{res: kept, until: until}
}

// deepCopy copies the JSON values (maps and slices) a claim may hold.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}
