package session

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder (the
// value codec has its own fuzz target, in internal/codec): no panic, and
// what it accepts encodes back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	rc := &record{created: time.Unix(100, 0), accessed: time.Unix(200, 0), absEnd: time.Unix(300, 0),
		flashes: []Flash{{"info", "m"}}, data: map[string]any{"u": "alice", "n": 3}}
	b, _ := rc.encode(nil)
	f.Add(b)
	f.Add([]byte{recordVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := decodeRecord(b)
		var lazy record
		if lerr := lazy.decodeLazy(b); (lerr == nil) != (err == nil) {
			t.Fatalf("decodeLazy says %v where decode says %v", lerr, err)
		}
		if err != nil {
			return
		}
		// The lazy record encodes to the same bytes unbuilt, and finds
		// what the built one holds.
		if lb, err := lazy.encode(nil); err != nil || !bytes.Equal(lb, b) {
			t.Fatalf("lazy record encodes to %x, %v; want %x", lb, err, b)
		}
		for k, v := range rc.data {
			if m, ok := v.(map[string]any); ok {
				for sub := range m {
					if _, ok := lazy.lookupIn(k, sub); !ok {
						t.Fatalf("lookupIn(%q, %q) did not find it", k, sub)
					}
				}
			}
		}
		b2, err := rc.encode(nil)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, b2)
		}
	})
}

// FuzzValidID holds ValidID to what it stands for: a 43-character
// string that strict unpadded base64url decodes (so one spelling per id),
// with none of the newlines that decoder skips.
func FuzzValidID(f *testing.F) {
	f.Add(NewID())
	f.Add(strings.Repeat("A", IDLen-1) + "B") // padding bits set
	f.Add(strings.Repeat("_", IDLen))
	f.Add(strings.Repeat("A", IDLen-1) + "=")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := base64.RawURLEncoding.Strict().DecodeString(s)
		want := len(s) == IDLen && err == nil && !strings.ContainsAny(s, "\r\n")
		if got := ValidID(s); got != want {
			t.Fatalf("ValidID(%q) = %v, want %v", s, got, want)
		}
	})
}
