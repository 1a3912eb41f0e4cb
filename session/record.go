package session

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/gowho/gowho/internal/codec"
	"github.com/gowho/gowho/who"
)

// ErrUnsupportedType is returned (wrapped) by Set for a value a session
// cannot store: only strings, numbers, bools, nil, []byte, lists and
// string-keyed maps of those are session data.
var ErrUnsupportedType = errors.New("session: unsupported value type")

// errCorrupt is what decoding returns for bytes encode did not write.
var errCorrupt = errors.New("session: corrupt record")

// checkValue reports whether v is session data, without keeping its
// encoding.
func checkValue(v any) error {
	return codec.WrapUnsupported(codec.Check(v, codec.Widen), ErrUnsupportedType)
}

// recordVersion is the first byte of every record. The rest is the four
// times (zig-zag varint nanoseconds since the epoch, 0 for the zero time),
// the flashes (a count, then category and message strings) and the data
// map, in package internal/codec's encoding with its Widen integer rule.
const recordVersion = 1

// A Flash is a one-time message set by Flash and read by Flashes.
type Flash struct {
	Category string
	Message  string
}

// record is what a store keeps for one session.
type record struct {
	created  time.Time // when the session was created
	accessed time.Time // when the record was last saved
	idleEnd  time.Time // zero: no idle deadline
	absEnd   time.Time // zero: no absolute deadline
	flashes  []Flash
	data     map[string]any // nil while lazy: built from raw by dataMap
	raw      string         // while data is nil: the data map's encoding, checked
}

// dataMap returns the record's data, building it from raw on first use.
func (rc *record) dataMap() map[string]any {
	if rc.data == nil {
		d := codec.NewStringDecoder(rc.raw)
		rc.data = d.Map()
		if rc.data == nil { // not reached: decodeLazy checked raw
			rc.data = map[string]any{}
		}
		rc.raw = ""
	}
	return rc.data
}

// lookupIn returns the value under sub in the map[string]any or
// map[string]string under key, decoding only that value while the data
// map is not built (the value is then the caller's own).
func (rc *record) lookupIn(key, sub string) (any, bool) {
	if rc.data != nil {
		switch m := rc.data[key].(type) {
		case map[string]any:
			v, ok := m[sub]
			return v, ok
		case map[string]string:
			v, ok := m[sub]
			if !ok {
				return nil, false
			}
			return v, true
		}
		return nil, false
	}
	d := codec.NewStringDecoder(rc.raw)
	if !d.Find(key) {
		return nil, false
	}
	if !d.IsMap() { // a map[string]string, or no map: decode it whole
		if m, ok := d.Value().(map[string]string); ok {
			if v, ok := m[sub]; ok {
				return v, true
			}
		}
		return nil, false
	}
	if !d.Find(sub) {
		return nil, false
	}
	return d.Value(), true
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

func readTime(d *codec.Decoder) time.Time {
	if v := d.Varint(); v != 0 {
		return time.Unix(0, v)
	}
	return time.Time{}
}

// encode appends the record to b.
func (rc *record) encode(b []byte) ([]byte, error) {
	b = append(b, recordVersion)
	b = appendTime(b, rc.created)
	b = appendTime(b, rc.accessed)
	b = appendTime(b, rc.idleEnd)
	b = appendTime(b, rc.absEnd)
	b = codec.AppendUvarint(b, uint64(len(rc.flashes)))
	for _, f := range rc.flashes {
		b = codec.AppendString(codec.AppendString(b, f.Category), f.Message)
	}
	if rc.data == nil && rc.raw != "" {
		// Not built: nobody holds a value to change, and the encoding is
		// canonical, so the bytes loaded are what encoding the map gives.
		return append(b, rc.raw...), nil
	}
	b, err := codec.Append(b, rc.data, codec.Widen)
	if err != nil {
		return b, codec.WrapUnsupported(err, ErrUnsupportedType)
	}
	return b, nil
}

// decodeRecord reads what encode wrote; bytes it did not write give an
// error, never a panic.
func decodeRecord(b []byte) (*record, error) {
	rc := &record{}
	if err := rc.decode(b); err != nil {
		return nil, err
	}
	return rc, nil
}

// decode fills rc from b, its data map built.
func (rc *record) decode(b []byte) error {
	if err := rc.decodeLazy(b); err != nil {
		return err
	}
	rc.dataMap()
	return nil
}

// decodeLazy fills rc from b but leaves the data map encoded (in raw)
// until dataMap or lookupIn needs it: a request that reads one key of a
// large record (an OIDC login's tokens and claims) decodes that key only.
// It checks all of b, so it fails on exactly the bytes a full decode
// fails on.
func (rc *record) decodeLazy(b []byte) error {
	if len(b) == 0 || b[0] != recordVersion {
		return errCorrupt
	}
	// One copy of the record for all its strings, instead of one each
	// (the store may reuse b).
	all := string(b[1:])
	d := codec.NewStringDecoder(all)
	for _, t := range []*time.Time{&rc.created, &rc.accessed, &rc.idleEnd, &rc.absEnd} {
		*t = readTime(&d)
	}
	rc.flashes = nil
	if n := d.Count(2); n > 0 {
		rc.flashes = make([]Flash, n)
		for i := range rc.flashes {
			rc.flashes[i] = Flash{Category: d.String(), Message: d.String()}
		}
	}
	start := len(all) - d.Remaining()
	d.SkipMap()
	if d.Finish() != nil {
		return errCorrupt
	}
	rc.data, rc.raw = nil, all[start:]
	return nil
}

// keyUserID is the identity key holding the logged-in userid.
const keyUserID = who.KeyUserID

// authenticated reports whether the record holds a logged-in user: a
// non-empty userid under keyUserID at the top level or in a map at the top
// level (plugins/sessionid keeps {keyUserID: uid, …} under its key_name).
func (rc *record) authenticated() bool {
	data := rc.dataMap()
	if s, _ := data[keyUserID].(string); s != "" {
		return true
	}
	for _, v := range data {
		switch m := v.(type) {
		case map[string]any:
			if s, _ := m[keyUserID].(string); s != "" {
				return true
			}
		case map[string]string:
			if m[keyUserID] != "" {
				return true
			}
		}
	}
	return false
}

// expiry is the earlier of the two deadlines (zero when neither is set).
func (rc *record) expiry() time.Time {
	switch {
	case rc.idleEnd.IsZero():
		return rc.absEnd
	case rc.absEnd.IsZero() || rc.idleEnd.Before(rc.absEnd):
		return rc.idleEnd
	default:
		return rc.absEnd
	}
}

// expired reports whether either deadline has passed at now.
func (rc *record) expired(now time.Time) bool {
	return !rc.idleEnd.IsZero() && !now.Before(rc.idleEnd) ||
		!rc.absEnd.IsZero() && !now.Before(rc.absEnd)
}
