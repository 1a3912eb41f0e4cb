package session

import (
	"bytes"
	"testing"
	"time"
)

func FuzzDecode(f *testing.F) {
	for _, v := range []any{nil, 1, "x", []any{1, "a", map[string]any{"k": []string{"v"}}}, map[string]string{"a": "b"}, 1.5, []byte("b")} {
		b, _ := Encode(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes (the map keys are
		// sorted, so the encoding is canonical) unless ints were widened.
		b2, err := Encode(v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		v2, err := Decode(b2)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if b3, _ := Encode(v2); !bytes.Equal(b2, b3) {
			t.Fatalf("encoding not stable")
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	rc := &record{created: time.Unix(100, 0), accessed: time.Unix(200, 0), absEnd: time.Unix(300, 0),
		flashes: []Flash{{"info", "m"}}, data: map[string]any{"u": "alice", "n": 3}}
	b, _ := rc.encode(nil)
	f.Add(b)
	f.Add([]byte{recordVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := decodeRecord(b)
		if err != nil {
			return
		}
		if _, err := rc.encode(nil); err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
	})
}
