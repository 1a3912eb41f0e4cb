package memcached

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"slices"
	"sort"
	"sync"

	"github.com/gowho/gowho/internal/codec"
	"github.com/gowho/gowho/who"
)

// ErrUnsupported is returned (wrapped) when an identity value has a type
// the cache cannot encode exactly (see internal/codec's Exact rule); such
// an identity is not cached and goes straight to the wrapped plugin.
var ErrUnsupported = errors.New("memcached: value type not cacheable")

// errCorrupt is returned for a cached value that fails its MAC or does not
// parse, or was written in another format version: it counts as a miss.
var errCorrupt = errors.New("memcached: corrupt cache value")

// The format version of keys and values. Version 2 encodes values with
// internal/codec; a version 1 entry is never read under a version 2 key,
// and would be a miss if it were.
const (
	keyDomain  = "gowho/memcached/key/v2"
	valVersion = 2
	macLen     = 16
)

// appendValue appends v's canonical encoding, every type kept.
func appendValue(b []byte, v any) ([]byte, error) {
	b, err := codec.Append(b, v, codec.Exact)
	return b, codec.WrapUnsupported(err, ErrUnsupported)
}

// keyCodec computes cache keys: hex HMAC-SHA256 over the canonical,
// length-prefixed encoding of the method, the wrapped plugin's name and
// each key item's name, presence and value.
type keyCodec struct {
	keyMAC []byte // HMAC key for cache keys
	valMAC []byte // HMAC key for cached values
	prefix string
	pool   *sync.Pool // of *keyState
}

func newKeyCodec(secret, prefix string) keyCodec {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return keyCodec{keyMAC: derive("gowho/memcached/key"), valMAC: derive("gowho/memcached/value"), prefix: prefix, pool: &sync.Pool{}}
}

// encodeKey returns the canonical encoding that is hashed into the key.
// items nil means every identity item, sorted.
func encodeKey(method, plugin string, id who.Identity, items []string) ([]byte, error) {
	if items == nil {
		items = make([]string, 0, len(id))
		for k := range id {
			items = append(items, k)
		}
		sort.Strings(items)
	}
	return appendKey(make([]byte, 0, 128), method, plugin, id, items)
}

// appendKey appends the key encoding over items to b.
func appendKey(b []byte, method, plugin string, id who.Identity, items []string) ([]byte, error) {
	b = codec.AppendString(b, keyDomain)
	b = codec.AppendString(b, method)
	b = codec.AppendString(b, plugin)
	b = codec.AppendUvarint(b, uint64(len(items)))
	var err error
	for _, k := range items {
		b = codec.AppendString(b, k)
		v, ok := id[k]
		if !ok {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		if b, err = appendValue(b, v); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// key returns the memcached key for the identity: prefix + 64 hex digits.
// items nil means every identity item, sorted.
func (c keyCodec) key(method, plugin string, id who.Identity, items []string) (string, error) {
	return c.keyExcept(method, plugin, id, items, nil)
}

// keyExcept is key; with items nil, over every identity item except
// those in except, sorted (the same key as key over that list, without
// allocating it).
func (c keyCodec) keyExcept(method, plugin string, id who.Identity, items, except []string) (string, error) {
	st, _ := c.pool.Get().(*keyState)
	if st == nil {
		st = &keyState{mac: hmac.New(sha256.New, c.keyMAC)}
	}
	defer c.pool.Put(st)
	if items == nil {
		st.names = st.names[:0]
		for k := range id {
			if !slices.Contains(except, k) {
				st.names = append(st.names, k)
			}
		}
		sort.Strings(st.names)
		items = st.names
	}
	enc, err := appendKey(st.buf[:0], method, plugin, id, items)
	if err != nil {
		return "", err
	}
	if cap(enc) <= 4096 {
		st.buf = enc
	}
	st.mac.Reset()
	st.mac.Write(enc)
	var sum [sha256.Size]byte
	var out [100 + 2*sha256.Size]byte
	k := append(out[:0], c.prefix...)
	k = hex.AppendEncode(k, st.mac.Sum(sum[:0]))
	return string(k), nil
}

// keyState is the reusable state of one key computation.
type keyState struct {
	mac   hash.Hash
	buf   []byte
	names []string
}

// entry is one cached answer: a userid (authenticate) and the identity
// items to merge, or a negative answer. Encoded (version 2): valVersion, 1
// (0: negative), the userid as a string, the items as a map, then the MAC.
type entry struct {
	negative bool
	userID   string
	values   map[string]any
}

// encodeEntry encodes e and appends a MAC binding it to key, so a value
// written under another key, or by someone without the secret, is a miss.
func (c keyCodec) encodeEntry(key string, e entry) ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, valVersion)
	if e.negative {
		b = append(b, 0)
	} else {
		b = append(b, 1)
	}
	b = codec.AppendString(b, e.userID)
	b, err := appendValue(b, e.values)
	if err != nil {
		return nil, err
	}
	return append(b, c.valueMAC(key, b)...), nil
}

func (c keyCodec) valueMAC(key string, payload []byte) []byte {
	m := hmac.New(sha256.New, c.valMAC)
	m.Write(codec.AppendString(nil, key))
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

// decodeEntry checks the MAC and decodes a value stored under key.
func (c keyCodec) decodeEntry(key string, b []byte) (entry, error) {
	if len(b) < macLen+1 {
		return entry{}, errCorrupt
	}
	payload, mac := b[:len(b)-macLen], b[len(b)-macLen:]
	if subtle.ConstantTimeCompare(mac, c.valueMAC(key, payload)) != 1 {
		return entry{}, errCorrupt
	}
	return decodePayload(payload)
}

func decodePayload(payload []byte) (entry, error) {
	d := codec.NewDecoder(payload)
	if d.Byte() != valVersion {
		return entry{}, errCorrupt
	}
	var e entry
	switch d.Byte() {
	case 0:
		e.negative = true
	case 1:
	default:
		return entry{}, errCorrupt
	}
	e.userID = d.String()
	e.values = d.Map()
	if d.Finish() != nil {
		return entry{}, errCorrupt
	}
	if _, ok := e.values[who.KeyPassword]; ok {
		return entry{}, errCorrupt // never merge a password from the cache
	}
	return e, nil
}
