package authtkt

import (
	"encoding/binary"
	"strings"
	"sync"
)

// Bounds of the verified-ticket cache. It is emptied when adding an entry
// would pass cacheMaxEntries or cacheMaxBytes.
const (
	cacheMaxEntries = 4096
	// cacheMaxBytes bounds the memory the entries account for (keys,
	// fields and a fixed per-entry overhead).
	cacheMaxBytes = 4 << 20
	// cacheMaxEntryBytes is the longest key cached; a longer ticket is
	// verified on every request instead.
	cacheMaxEntryBytes = 2048
	// cacheEntryOverhead approximates the map slot, the entry, its boxed
	// identity values and the string headers.
	cacheEntryOverhead = 256
	// cacheKeyStack is the key buffer kept on the stack by lookup.
	cacheKeyStack = 512
)

// ticketCache remembers tickets that verified with the current secret
// (and no IP binding), so a returning browser costs a map lookup instead
// of two hashes and a few allocations. It is keyed by the ticket's
// canonical form (cacheKey), not by the cookie value, so the many cookie
// spellings of one ticket (quotes, %-escapes, base64, a hex case) are one
// entry. Only verified tickets enter it, so forged cookies cannot fill
// it; the timeout is still checked on every hit.
type ticketCache struct {
	mu    sync.RWMutex
	m     map[string]*cacheEntry
	bytes int // accounted size of the entries in m
}

// cacheEntry holds a verified ticket and its identity values, boxed once.
// It is never modified after put: Identify hands each request its own
// copy of tokens.
type cacheEntry struct {
	f       found
	uid, ts any
	ud      any
	tokens  []string // without the MaxAgeToken
	maxAge  any      // the MaxAgeToken's int64, nil when none
}

// cacheKey appends the canonical form of a decoded ticket to dst: the
// digest, the timestamp and the digested userid, tokens and user data,
// length-prefixed so that no two tickets share a key. Two cookie values
// have the same key exactly when their digests are computed over the same
// bytes and compared with the same digest, so a hit needs no verify.
func cacheKey(dst []byte, t *raw, uid string) []byte {
	dst = append(dst, t.digest...)
	dst = binary.BigEndian.AppendUint32(dst, t.ts)
	dst = binary.AppendUvarint(dst, uint64(len(uid)))
	dst = append(dst, uid...)
	dst = binary.AppendUvarint(dst, uint64(len(t.tokens)))
	dst = append(dst, t.tokens...)
	return append(dst, t.userdata...)
}

// get returns the entry of key, or nil.
func (c *ticketCache) get(key []byte) *cacheEntry {
	c.mu.RLock()
	e := c.m[string(key)]
	c.mu.RUnlock()
	return e
}

// put caches f under key and returns the entry; a key longer than
// cacheMaxEntryBytes is not cached (nil).
func (c *ticketCache) put(key []byte, f found) *cacheEntry {
	if len(key) > cacheMaxEntryBytes {
		return nil
	}
	// Clone what is kept, so that no entry pins a request's Cookie header.
	f.uid = strings.Clone(f.uid)
	f.p.digest, f.p.quid = "", ""
	f.p.tokens = strings.Clone(f.p.tokens)
	f.p.userdata = strings.Clone(f.p.userdata)
	var tokens []string
	rest, maxAge := splitMaxAge(f.p.tokens)
	if rest != "" {
		tokens = strings.Split(rest, ",")
	}
	e := &cacheEntry{f: f, uid: f.uid, ts: int64(f.p.ts), tokens: tokens, ud: normUserData(f.p.userdata)}
	if maxAge > 0 {
		e.maxAge = maxAge
	}
	size := entrySize(len(key), e)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[string(key)]; ok {
		return old
	}
	if c.m == nil || len(c.m) >= cacheMaxEntries || c.bytes+size > cacheMaxBytes {
		c.m = make(map[string]*cacheEntry, 64)
		c.bytes = 0
	}
	c.m[string(key)] = e
	c.bytes += size
	return e
}

// entrySize is what an entry of a key of n bytes accounts for.
func entrySize(n int, e *cacheEntry) int {
	size := cacheEntryOverhead + 2*n + len(e.f.uid) + len(e.f.p.tokens) + 2*len(e.f.p.userdata) + 16*len(e.tokens)
	return size
}
