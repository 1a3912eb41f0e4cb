package authtkt

import (
	"strings"
	"sync"
)

// cacheMax bounds the verified-ticket cache; it is emptied when full.
const cacheMax = 4096

// ticketCache remembers tickets that verified with the current secret
// (and no IP binding), keyed by the exact cookie value, so a returning
// browser costs a map lookup instead of two hashes and a few allocations.
// Only verified values enter it, so forged cookies cannot fill it; the
// timeout is still checked on every hit.
type ticketCache struct {
	mu sync.RWMutex
	m  map[string]*cacheEntry
}

// cacheEntry holds a verified ticket and its identity values, boxed once.
// The tokens slice is shared by every identity built from the entry: treat
// identity values as read-only.
type cacheEntry struct {
	f               found
	uid, ts, tokens any
	ud              any
}

func (c *ticketCache) get(v string) *cacheEntry {
	c.mu.RLock()
	e := c.m[v]
	c.mu.RUnlock()
	return e
}

func (c *ticketCache) put(f found) *cacheEntry {
	f.value = strings.Clone(f.value) // do not pin the whole Cookie header
	var tokens []string
	if f.p.tokens != "" {
		tokens = strings.Split(f.p.tokens, ",")
	}
	f.uid = strings.Clone(f.uid)
	f.p.digest, f.p.quid = "", ""
	f.p.tokens = strings.Clone(f.p.tokens)
	f.p.userdata = strings.Clone(f.p.userdata)
	e := &cacheEntry{f: f, uid: f.uid, ts: int64(f.p.ts), tokens: tokens, ud: normUserData(f.p.userdata)}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheMax {
		c.m = make(map[string]*cacheEntry, 64)
	}
	c.m[f.value] = e
	c.mu.Unlock()
	return e
}
