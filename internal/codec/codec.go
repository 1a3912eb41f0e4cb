// Package codec is the one binary codec of gowho's value model: the values
// an identity (who.Identity) or a session holds — nil, bool, string,
// []byte, integers, floats, []string, map[string]string, []any and
// map[string]any (who.Identity encodes as a map[string]any) — nested at
// most MaxDepth deep.
//
// The encoding is a tag byte, then the payload: varints for numbers and
// lengths, 8 big-endian bytes for a float, length-prefixed strings, counted
// lists, and maps with their keys sorted. It carries data only, no type
// descriptions (no gob, no pickle: nothing that builds code-bearing
// values), and it is canonical: one encoding per value, which the decoder
// enforces (minimal varints, sorted unique keys), so equal bytes mean
// equal values and a cache key can hash them.
//
// The tags are those session records have always used (records stored by
// earlier releases decode unchanged), plus one for int64. Callers choose how
// integers are written with an Ints rule: Widen for session data, Exact
// for cache values that must come back with the type they went in with.
package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"unsafe"

	"github.com/gowho/gowho/who"
)

// ErrUnsupported is returned (wrapped) when a value is outside the value
// model, or nested deeper than MaxDepth.
var ErrUnsupported = errors.New("unsupported value type")

// unsupportedError is Append's error: ErrUnsupported and what was wrong.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string        { return ErrUnsupported.Error() + ": " + e.what }
func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupported }

// WrapUnsupported returns err, when it is an ErrUnsupported of Append or
// Check, as sentinel (a package's own exported error) wrapped with what
// was wrong: "session: unsupported value type: chan int". Other errors
// are returned as they are.
func WrapUnsupported(err, sentinel error) error {
	if err == nil {
		return nil // the hot path: no errors.As, which allocates
	}
	var ue *unsupportedError
	if errors.As(err, &ue) {
		return fmt.Errorf("%w: %s", sentinel, ue.what)
	}
	return err
}

// ErrCorrupt is the decoder's error for bytes the encoder did not write.
var ErrCorrupt = errors.New("corrupt encoding")

// Value tags. Their numbers are stored in session records: never renumber
// one, only add.
const (
	tagNil     byte = iota
	tagFalse        // false
	tagTrue         // true
	tagInt          // zig-zag varint; decodes as int
	tagUint         // uvarint; decodes as uint64
	tagFloat        // 8 bytes IEEE 754, big-endian; decodes as float64
	tagString       // uvarint length, bytes
	tagBytes        // uvarint length, bytes; decodes as []byte
	tagList         // uvarint count, values; decodes as []any
	tagMap          // uvarint count, (string, value) pairs, keys sorted; decodes as map[string]any
	tagStrings      // uvarint count, strings; decodes as []string
	tagStrMap       // uvarint count, (string, string) pairs, keys sorted; decodes as map[string]string
	tagInt64        // zig-zag varint; decodes as int64 (written by Exact only)
)

// MaxDepth bounds nesting, so a hostile encoding cannot exhaust the stack.
const MaxDepth = 32

// Ints is the rule by which Append writes integers (and float32).
type Ints uint8

const (
	// Widen accepts every Go integer type and float32: a signed integer,
	// or an unsigned one up to math.MaxInt64, decodes as int, a larger
	// unsigned one as uint64, a float32 as float64. It is the rule of
	// session data.
	Widen Ints = iota
	// Exact accepts int, int64, uint64 and float64 only, and each decodes
	// as the type it was: a value comes back exactly as it went in. Other
	// numeric types are ErrUnsupported. It is the rule of cache values and
	// cache keys.
	Exact
)

// AppendUvarint appends n as a uvarint.
func AppendUvarint(b []byte, n uint64) []byte { return binary.AppendUvarint(b, n) }

// AppendString appends s, length-prefixed (no tag).
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Append appends v's tagged encoding to b, writing integers by rule ints.
// A value outside the value model is ErrUnsupported (wrapped, with its
// type).
func Append(b []byte, v any, ints Ints) ([]byte, error) {
	return appendValue(b, v, ints, 0)
}

// Check reports whether Append would accept v, without keeping the bytes.
func Check(v any, ints Ints) error {
	switch v.(type) {
	case nil, bool, string, int, float64, []byte, []string, map[string]string:
		return nil // the common cases, without encoding them
	}
	_, err := appendValue(nil, v, ints, 0)
	return err
}

func appendValue(b []byte, v any, ints Ints, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return b, &unsupportedError{fmt.Sprintf("nested deeper than %d", MaxDepth)}
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
		return AppendString(append(b, tagString), x), nil
	case []byte:
		return AppendString(append(b, tagBytes), string(x)), nil
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int64:
		if ints == Exact {
			return binary.AppendVarint(append(b, tagInt64), x), nil
		}
		return binary.AppendVarint(append(b, tagInt), x), nil
	case uint64:
		if ints == Exact || x > math.MaxInt64 {
			return binary.AppendUvarint(append(b, tagUint), x), nil
		}
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case float64:
		return appendFloat(b, x), nil
	case []string:
		b = binary.AppendUvarint(append(b, tagStrings), uint64(len(x)))
		for _, s := range x {
			b = AppendString(b, s)
		}
		return b, nil
	case map[string]string:
		b = binary.AppendUvarint(append(b, tagStrMap), uint64(len(x)))
		for _, k := range sortedKeys(x) {
			b = AppendString(AppendString(b, k), x[k])
		}
		return b, nil
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, e, ints, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]any:
		return appendMap(b, x, ints, depth)
	case who.Identity:
		return appendMap(b, x, ints, depth)
	}
	if ints == Widen {
		if b, ok := appendWidened(b, v); ok {
			return b, nil
		}
	}
	return b, &unsupportedError{fmt.Sprintf("%T", v)}
}

// appendWidened appends the numeric types only Widen accepts.
func appendWidened(b []byte, v any) ([]byte, bool) {
	var n int64
	switch x := v.(type) {
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case uint:
		return appendValue64(b, uint64(x)), true
	case uint8:
		n = int64(x)
	case uint16:
		n = int64(x)
	case uint32:
		n = int64(x)
	case float32:
		return appendFloat(b, float64(x)), true
	default:
		return b, false
	}
	return binary.AppendVarint(append(b, tagInt), n), true
}

func appendValue64(b []byte, u uint64) []byte {
	if u > math.MaxInt64 {
		return binary.AppendUvarint(append(b, tagUint), u)
	}
	return binary.AppendVarint(append(b, tagInt), int64(u))
}

func appendFloat(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(f))
}

func appendMap(b []byte, m map[string]any, ints Ints, depth int) ([]byte, error) {
	b = binary.AppendUvarint(append(b, tagMap), uint64(len(m)))
	var err error
	for _, k := range sortedKeys(m) {
		b = AppendString(b, k)
		if b, err = appendValue(b, m[k], ints, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// sortedKeys returns m's keys, sorted. (sort.Strings, not slices.Sort:
// with it the keys stay on the stack, and encoding a record allocates
// nothing.)
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Decode decodes one value Append wrote, which must be all of b. Bytes
// Append did not write give ErrCorrupt, never a panic.
func Decode(b []byte) (any, error) {
	d := NewDecoder(b)
	v := d.Value()
	return v, d.Finish()
}

// A Decoder reads what Append, AppendString and AppendUvarint wrote, in
// order. Every read is bounds-checked and counts are checked against the
// bytes left, so hostile bytes cannot make it allocate more than a few
// times their size. The first failure is sticky: later reads return zero
// values, and Err reports ErrCorrupt.
type Decoder struct {
	b   []byte
	off int
	s   string // when set, a copy of b that strings are sliced from
	err error
}

// NewDecoder returns a decoder of b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// NewStringDecoder returns a decoder of s whose strings are slices of s,
// not copies (what ShareStrings does, for a caller that holds its bytes as
// a string already): the strings decoded keep s alive.
func NewStringDecoder(s string) Decoder {
	// The decoder only reads b: aliasing s's bytes is safe.
	return Decoder{b: unsafe.Slice(unsafe.StringData(s), len(s)), s: s}
}

// ShareStrings makes the decoder copy its input once and slice every
// string from that copy: one allocation instead of one a string, for
// callers that keep most of what they decode (the strings then keep the
// whole input alive).
func (d *Decoder) ShareStrings() {
	if d.s == "" {
		d.s = string(d.b)
	}
}

// Remaining returns the number of bytes not read yet.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Err returns ErrCorrupt after a failed read, else nil.
func (d *Decoder) Err() error { return d.err }

// Finish returns Err, or ErrCorrupt when bytes are left unread.
func (d *Decoder) Finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail()
	}
	return d.err
}

func (d *Decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.off = len(d.b)
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.off >= len(d.b) {
		d.fail()
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// Uvarint reads a minimally encoded uvarint.
func (d *Decoder) Uvarint() uint64 {
	n, k := binary.Uvarint(d.b[d.off:])
	if k <= 0 || k > 1 && d.b[d.off+k-1] == 0 { // a zero last byte: not minimal
		d.fail()
		return 0
	}
	d.off += k
	return n
}

// Varint reads a minimally encoded zig-zag varint.
func (d *Decoder) Varint() int64 {
	u := d.Uvarint()
	n := int64(u >> 1)
	if u&1 != 0 {
		n = ^n
	}
	return n
}

// Count reads a count of elements each taking at least min bytes, and
// fails when fewer bytes are left than that many elements need.
func (d *Decoder) Count(min int) int {
	n := d.Uvarint()
	if n > uint64((len(d.b)-d.off)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

// String reads a length-prefixed string.
func (d *Decoder) String() string {
	start, end := d.span()
	return d.text(start, end)
}

// span reads a length-prefixed string and returns where its bytes are.
func (d *Decoder) span() (start, end int) {
	n := d.Uvarint()
	if n > uint64(len(d.b)-d.off) {
		d.fail()
		return d.off, d.off
	}
	start = d.off
	d.off += int(n)
	return start, d.off
}

// text is the string of b[start:end], sliced from the shared copy when
// there is one.
func (d *Decoder) text(start, end int) string {
	if d.s != "" {
		return d.s[start:end]
	}
	return string(d.b[start:end])
}

// key reads the i-th key of a map, which must sort after the previous one
// at prev (keys are written sorted and unique: anything else is not
// canonical), and returns where it is.
func (d *Decoder) key(i int, prev [2]int) [2]int {
	start, end := d.span()
	if i > 0 && bytes.Compare(d.b[start:end], d.b[prev[0]:prev[1]]) <= 0 {
		d.fail()
	}
	return [2]int{start, end}
}

// Value reads a tagged value.
func (d *Decoder) Value() any { return d.value(0, true) }

// Skip reads past a tagged value without building it: it fails on exactly
// the bytes Value fails on (one reader does both), and allocates nothing.
// A caller can check a whole encoding with Skip, then decode only the
// parts it needs (Find).
func (d *Decoder) Skip() { d.value(0, false) }

// SkipMap is Skip for a value that must be a map[string]any, as Map.
func (d *Decoder) SkipMap() {
	if d.Byte() != tagMap {
		d.fail()
		return
	}
	d.mapBody(0, false)
}

// IsMap reports whether the next value is a tagged map[string]any (what
// Map and Find read), without reading it.
func (d *Decoder) IsMap() bool { return d.err == nil && d.off < len(d.b) && d.b[d.off] == tagMap }

// Find reads a tagged map[string]any up to the value under key, which the
// next Value, Skip or Find reads, and reports whether key is there. When
// it is not, or the value is no map[string]any (see IsMap), the decoder
// is somewhere in the map: read anything else with a new one. It checks
// what it reads as Skip does, not the rest of the map: use it on bytes
// Skip accepted, where it finds what Map would.
func (d *Decoder) Find(key string) bool {
	if !d.IsMap() {
		return false
	}
	d.off++
	n := d.Count(2)
	var prev [2]int
	for i := 0; i < n && d.err == nil; i++ {
		prev = d.key(i, prev)
		switch k := d.b[prev[0]:prev[1]]; {
		case string(k) == key:
			return d.err == nil
		case string(k) > key:
			return false // keys are sorted: key is not there
		}
		d.value(1, false)
	}
	return false
}

// Map reads a tagged value that must be a map[string]any.
func (d *Decoder) Map() map[string]any {
	if d.Byte() != tagMap {
		d.fail()
		return nil
	}
	return d.mapBody(0, true)
}

// value reads a tagged value, and builds it when keep is set (else it
// returns nil): one reader for Value and Skip, so they accept the same
// bytes.
func (d *Decoder) value(depth int, keep bool) any {
	if depth > MaxDepth {
		d.fail()
		return nil
	}
	switch d.Byte() {
	case tagNil:
		return nil
	case tagFalse:
		if keep {
			return false
		}
	case tagTrue:
		if keep {
			return true
		}
	case tagInt:
		n := d.Varint()
		if n != int64(int(n)) {
			d.fail() // beyond a 32-bit int
		}
		if keep {
			return int(n)
		}
	case tagInt64:
		if n := d.Varint(); keep {
			return n
		}
	case tagUint:
		if n := d.Uvarint(); keep {
			return n
		}
	case tagFloat:
		if len(d.b)-d.off < 8 {
			d.fail()
			return nil
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(d.b[d.off:]))
		d.off += 8
		if keep {
			return f
		}
	case tagString:
		if start, end := d.span(); keep {
			return d.text(start, end)
		}
	case tagBytes:
		start, end := d.span()
		if d.err != nil {
			return nil
		}
		if keep {
			out := slices.Clone(d.b[start:end])
			if out == nil {
				out = []byte{}
			}
			return out
		}
	case tagStrings:
		n := d.Count(1)
		if !keep {
			for i := 0; i < n && d.err == nil; i++ {
				d.span()
			}
			return nil
		}
		out := make([]string, n)
		for i := range out {
			out[i] = d.String()
		}
		return out
	case tagStrMap:
		n := d.Count(2)
		var out map[string]string
		if keep {
			out = make(map[string]string, n)
		}
		var prev [2]int
		for i := 0; i < n && d.err == nil; i++ {
			prev = d.key(i, prev)
			vs, ve := d.span()
			if keep {
				out[d.text(prev[0], prev[1])] = d.text(vs, ve)
			}
		}
		if keep {
			return out
		}
	case tagList:
		n := d.Count(1)
		if !keep {
			for i := 0; i < n && d.err == nil; i++ {
				d.value(depth+1, false)
			}
			return nil
		}
		out := make([]any, n)
		for i := 0; i < n && d.err == nil; i++ {
			out[i] = d.value(depth+1, true)
		}
		return out
	case tagMap:
		if m := d.mapBody(depth, keep); keep {
			return m
		}
	default:
		d.fail()
	}
	return nil
}

// mapBody reads a map's count and entries; it builds the map only when
// keep is set (else it returns nil).
func (d *Decoder) mapBody(depth int, keep bool) map[string]any {
	n := d.Count(2)
	var out map[string]any
	if keep {
		out = make(map[string]any, n)
	}
	var prev [2]int
	for i := 0; i < n && d.err == nil; i++ {
		prev = d.key(i, prev)
		v := d.value(depth+1, keep)
		if keep {
			out[d.text(prev[0], prev[1])] = v
		}
	}
	return out
}

// Clone copies the lists and maps of a decoded value, deeply, so that a
// caller who changes its copy cannot change the original.
func Clone(v any) any {
	switch x := v.(type) {
	case []string:
		return slices.Clone(x)
	case []byte:
		return slices.Clone(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Clone(e)
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
			out[k] = Clone(e)
		}
		return out
	default:
		return v
	}
}
