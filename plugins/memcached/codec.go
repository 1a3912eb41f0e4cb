package memcached

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/gowho/gowho/who"
)

// ErrUnsupported is returned (wrapped) when an identity value has a type
// the cache cannot encode canonically; such an identity is not cached and
// goes straight to the wrapped plugin.
var ErrUnsupported = errors.New("memcached: value type not cacheable")

// errCorrupt is returned for a cached value that fails its MAC or does not
// parse: it counts as a miss.
var errCorrupt = errors.New("memcached: corrupt cache value")

// Value tags of the codec shared by cache keys and cached values.
const (
	tagNil     = 'n'
	tagFalse   = 'f'
	tagTrue    = 't'
	tagString  = 's'
	tagBytes   = 'b'
	tagInt     = 'i'
	tagInt64   = 'l'
	tagUint64  = 'u'
	tagFloat   = 'd'
	tagStrings = 'S'
	tagList    = 'a'
	tagMap     = 'm'
	tagStrMap  = 'M'
)

const (
	keyDomain  = "gowho/memcached/key/v1"
	valVersion = 1
	macLen     = 16
	maxDepth   = 32
)

func appendUvarint(b []byte, n uint64) []byte { return binary.AppendUvarint(b, n) }

func appendString(b []byte, s string) []byte {
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends the canonical, length-prefixed encoding of v: a tag,
// then the payload; lists carry their length, maps their sorted keys.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("%w: nested deeper than %d", ErrUnsupported, maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case []byte:
		return appendString(append(b, tagBytes), string(x)), nil
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt64), x), nil
	case uint64:
		return binary.AppendUvarint(append(b, tagUint64), x), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case []string:
		b = appendUvarint(append(b, tagStrings), uint64(len(x)))
		for _, s := range x {
			b = appendString(b, s)
		}
		return b, nil
	case []any:
		b = appendUvarint(append(b, tagList), uint64(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = appendUvarint(append(b, tagStrMap), uint64(len(x)))
		for _, k := range keys {
			b = appendString(appendString(b, k), x[k])
		}
		return b, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = appendUvarint(append(b, tagMap), uint64(len(x)))
		var err error
		for _, k := range keys {
			b = appendString(b, k)
			if b, err = appendValue(b, x[k], depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case who.Identity:
		return appendValue(b, map[string]any(x), depth)
	default:
		return b, fmt.Errorf("%w: %T", ErrUnsupported, v)
	}
}

// reader decodes the codec; every read checks the remaining length.
type reader struct {
	b       []byte
	err     error
	scratch [binary.MaxVarintLen64]byte
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || k != len(binary.AppendUvarint(r.scratch[:0], n)) { // minimal encodings only
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *reader) varint() int64 {
	n, k := binary.Varint(r.b)
	if k <= 0 || k != len(binary.AppendVarint(r.scratch[:0], n)) {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a length and checks that at least min bytes per element
// remain, so a forged length cannot make a huge allocation.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) value(depth int) any {
	if depth > maxDepth {
		r.fail()
		return nil
	}
	switch r.byte() {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return r.string()
	case tagBytes:
		return []byte(r.string())
	case tagInt:
		n := r.varint()
		if n != int64(int(n)) {
			r.fail()
		}
		return int(n)
	case tagInt64:
		return r.varint()
	case tagUint64:
		return r.uvarint()
	case tagFloat:
		if len(r.b) < 8 {
			r.fail()
			return nil
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
		return f
	case tagStrings:
		n := r.count(1)
		out := make([]string, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, r.string())
		}
		return out
	case tagList:
		n := r.count(1)
		out := make([]any, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, r.value(depth+1))
		}
		return out
	case tagStrMap:
		n := r.count(2)
		out := make(map[string]string, n)
		prev := ""
		for i := 0; i < n && r.err == nil; i++ {
			k := r.string()
			if i > 0 && k <= prev {
				r.fail() // not canonical: keys sorted and unique
			}
			prev = k
			out[k] = r.string()
		}
		return out
	case tagMap:
		n := r.count(2)
		out := make(map[string]any, n)
		prev := ""
		for i := 0; i < n && r.err == nil; i++ {
			k := r.string()
			if i > 0 && k <= prev {
				r.fail()
			}
			prev = k
			out[k] = r.value(depth + 1)
		}
		return out
	default:
		r.fail()
		return nil
	}
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
	b = appendString(b, keyDomain)
	b = appendString(b, method)
	b = appendString(b, plugin)
	b = appendUvarint(b, uint64(len(items)))
	var err error
	for _, k := range items {
		b = appendString(b, k)
		v, ok := id[k]
		if !ok {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		if b, err = appendValue(b, v, 0); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// key returns the memcached key for the identity: prefix + 64 hex digits.
func (c keyCodec) key(method, plugin string, id who.Identity, items []string) (string, error) {
	st, _ := c.pool.Get().(*keyState)
	if st == nil {
		st = &keyState{mac: hmac.New(sha256.New, c.keyMAC)}
	}
	defer c.pool.Put(st)
	if items == nil {
		st.names = st.names[:0]
		for k := range id {
			st.names = append(st.names, k)
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
// items to merge, or a negative answer.
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
	b = appendString(b, e.userID)
	names := make([]string, 0, len(e.values))
	for k := range e.values {
		names = append(names, k)
	}
	sort.Strings(names)
	b = appendUvarint(b, uint64(len(names)))
	var err error
	for _, k := range names {
		b = appendString(b, k)
		if b, err = appendValue(b, e.values[k], 0); err != nil {
			return nil, err
		}
	}
	return append(b, c.valueMAC(key, b)...), nil
}

func (c keyCodec) valueMAC(key string, payload []byte) []byte {
	m := hmac.New(sha256.New, c.valMAC)
	m.Write(appendString(nil, key))
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
	r := &reader{b: payload}
	if r.byte() != valVersion {
		return entry{}, errCorrupt
	}
	var e entry
	switch r.byte() {
	case 0:
		e.negative = true
	case 1:
	default:
		return entry{}, errCorrupt
	}
	e.userID = r.string()
	n := r.count(2)
	if n > 0 {
		e.values = make(map[string]any, n)
	}
	prev := ""
	for i := 0; i < n && r.err == nil; i++ {
		k := r.string()
		if i > 0 && k <= prev {
			r.fail()
		}
		prev = k
		e.values[k] = r.value(0)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	if r.err != nil {
		return entry{}, r.err
	}
	if _, ok := e.values[who.KeyPassword]; ok {
		return entry{}, errCorrupt // never merge a password from the cache
	}
	return e, nil
}

// deepCopy copies the lists and maps of a decoded value, so a handler that
// changes its identity cannot change the near-cache.
func deepCopy(v any) any {
	switch x := v.(type) {
	case []string:
		return slices.Clone(x)
	case []byte:
		return slices.Clone(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}
