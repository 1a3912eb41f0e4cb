package session

import (
	"encoding/binary"
	"time"

	"github.com/gowho/gowho/who"
)

// recordVersion is the first byte of every record.
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
	data     map[string]any
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

func (d *decoder) time() (time.Time, error) {
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		return time.Time{}, errCorrupt
	}
	d.off += n
	if v == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, v), nil
}

// encode appends the record to b.
func (rc *record) encode(b []byte) ([]byte, error) {
	b = append(b, recordVersion)
	b = appendTime(b, rc.created)
	b = appendTime(b, rc.accessed)
	b = appendTime(b, rc.idleEnd)
	b = appendTime(b, rc.absEnd)
	b = binary.AppendUvarint(b, uint64(len(rc.flashes)))
	for _, f := range rc.flashes {
		b = appendString(appendString(b, f.Category), f.Message)
	}
	b, err := appendMap(b, rc.data, 0)
	return b, err
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

// decode fills rc from b.
func (rc *record) decode(b []byte) error {
	if len(b) == 0 || b[0] != recordVersion {
		return errCorrupt
	}
	// One copy of the record for all its strings, instead of one each.
	d := decoder{b: b, off: 1, s: string(b)}
	var err error
	for _, t := range []*time.Time{&rc.created, &rc.accessed, &rc.idleEnd, &rc.absEnd} {
		if *t, err = d.time(); err != nil {
			return err
		}
	}
	n, err := d.count()
	if err != nil {
		return err
	}
	if n > 0 {
		rc.flashes = make([]Flash, n)
		for i := range rc.flashes {
			if rc.flashes[i].Category, err = d.string(); err != nil {
				return err
			}
			if rc.flashes[i].Message, err = d.string(); err != nil {
				return err
			}
		}
	}
	if d.off >= len(b) || b[d.off] != tagMap {
		return errCorrupt
	}
	d.off++
	if rc.data, err = d.mapBody(0); err != nil {
		return err
	}
	if d.off != len(b) {
		return errCorrupt
	}
	return nil
}

// keyUserID is the identity key holding the logged-in userid.
const keyUserID = who.KeyUserID

// authenticated reports whether the record holds a logged-in user: a
// non-empty userid under keyUserID at the top level or in a map at the top
// level (plugins/sessionid keeps {keyUserID: uid, …} under its key_name).
func (rc *record) authenticated() bool {
	if s, _ := rc.data[keyUserID].(string); s != "" {
		return true
	}
	for _, v := range rc.data {
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
