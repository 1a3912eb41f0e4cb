package session

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// ErrUnsupportedType is returned (wrapped) by Set and Encode for a value
// the codec cannot store: only strings, numbers, bools, nil, []byte, lists
// and string-keyed maps of those are session data.
var ErrUnsupportedType = errors.New("session: unsupported value type")

// errCorrupt is what Decode returns for bytes it did not write.
var errCorrupt = errors.New("session: corrupt record")

// Value tags. One byte per value, no type descriptions: the codec is
// fixed, so a record carries its data and nothing else.
const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagInt    // zig-zag varint, decodes as int
	tagUint   // uvarint, decodes as uint64 (only above MaxInt64)
	tagFloat  // 8 bytes IEEE 754, decodes as float64
	tagString // uvarint length, bytes
	tagBytes  // uvarint length, bytes; decodes as []byte
	tagList   // uvarint count, values; decodes as []any
	tagMap    // uvarint count, (string, value) pairs; decodes as map[string]any
	tagStrs   // uvarint count, strings; decodes as []string
	tagStrMap // uvarint count, (string, string); decodes as map[string]string
)

// maxDepth bounds nesting, so a hostile record cannot exhaust the stack.
const maxDepth = 32

// appendValue appends v's encoding to b.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("%w: nested deeper than %d", ErrUnsupportedType, maxDepth)
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
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int8:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int16:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int32:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), x), nil
	case uint:
		return appendUint(b, uint64(x)), nil
	case uint8:
		return appendUint(b, uint64(x)), nil
	case uint16:
		return appendUint(b, uint64(x)), nil
	case uint32:
		return appendUint(b, uint64(x)), nil
	case uint64:
		return appendUint(b, x), nil
	case float32:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(float64(x))), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case []byte:
		b = binary.AppendUvarint(append(b, tagBytes), uint64(len(x)))
		return append(b, x...), nil
	case []string:
		b = binary.AppendUvarint(append(b, tagStrs), uint64(len(x)))
		for _, s := range x {
			b = appendString(b, s)
		}
		return b, nil
	case map[string]string:
		b = binary.AppendUvarint(append(b, tagStrMap), uint64(len(x)))
		for _, k := range sortedKeys(x) {
			b = appendString(appendString(b, k), x[k])
		}
		return b, nil
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]any:
		return appendMap(b, x, depth)
	default:
		return b, fmt.Errorf("%w %T", ErrUnsupportedType, v)
	}
}

func appendMap(b []byte, m map[string]any, depth int) ([]byte, error) {
	b = binary.AppendUvarint(append(b, tagMap), uint64(len(m)))
	var err error
	for _, k := range sortedKeys(m) {
		b = appendString(b, k)
		if b, err = appendValue(b, m[k], depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendUint(b []byte, u uint64) []byte {
	if u <= math.MaxInt64 {
		return binary.AppendVarint(append(b, tagInt), int64(u))
	}
	return binary.AppendUvarint(append(b, tagUint), u)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkValue reports whether v is session data, without encoding it.
func checkValue(v any) error {
	_, err := appendValue(nil, v, 0)
	return err
}

// decoder reads what appendValue wrote. Every read is bounds-checked, and
// counts are checked against the bytes left, so a hostile record cannot
// make it allocate more than a few times its own size.
type decoder struct {
	b   []byte
	off int
	s   string // a copy of b, when set: strings are sliced from it (one allocation)
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, errCorrupt
	}
	d.off += n
	return v, nil
}

func (d *decoder) count() (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.b)-d.off) { // every element takes at least one byte
		return 0, errCorrupt
	}
	return int(n), nil
}

func (d *decoder) raw() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)-d.off) {
		return nil, errCorrupt
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s, nil
}

func (d *decoder) string() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)-d.off) {
		return "", errCorrupt
	}
	start := d.off
	d.off += int(n)
	if d.s != "" {
		return d.s[start:d.off], nil
	}
	return string(d.b[start:d.off]), nil
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth || d.off >= len(d.b) {
		return nil, errCorrupt
	}
	tag := d.b[d.off]
	d.off++
	switch tag {
	case tagNil:
		return nil, nil
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagInt:
		v, n := binary.Varint(d.b[d.off:])
		if n <= 0 {
			return nil, errCorrupt
		}
		d.off += n
		return int(v), nil
	case tagUint:
		return d.uvarint()
	case tagFloat:
		if len(d.b)-d.off < 8 {
			return nil, errCorrupt
		}
		v := math.Float64frombits(binary.BigEndian.Uint64(d.b[d.off:]))
		d.off += 8
		return v, nil
	case tagString:
		return d.string()
	case tagBytes:
		s, err := d.raw()
		if err != nil {
			return nil, err
		}
		return append([]byte{}, s...), nil
	case tagStrs:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		out := make([]string, n)
		for i := range out {
			if out[i], err = d.string(); err != nil {
				return nil, err
			}
		}
		return out, nil
	case tagStrMap:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		out := make(map[string]string, n)
		for range n {
			k, err := d.string()
			if err != nil {
				return nil, err
			}
			if out[k], err = d.string(); err != nil {
				return nil, err
			}
		}
		return out, nil
	case tagList:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case tagMap:
		return d.mapBody(depth)
	default:
		return nil, errCorrupt
	}
}

func (d *decoder) mapBody(depth int) (map[string]any, error) {
	n, err := d.count()
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, n)
	for range n {
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		if out[k], err = d.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Encode encodes v (session data: see ErrUnsupportedType) with the
// session codec. It is exported for stores and tests.
func Encode(v any) ([]byte, error) { return appendValue(nil, v, 0) }

// Decode decodes what Encode wrote. Bytes it did not write give an error,
// never a panic.
func Decode(b []byte) (any, error) {
	d := decoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(b) {
		return nil, errCorrupt
	}
	return v, nil
}
