package session

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStoredRecordsDecode decodes records written by the session codec as
// it was before it moved to internal/codec (testdata/record-*.bin): a
// record stored by an earlier release must keep decoding, to the same
// values, and encode back to the same bytes.
func TestStoredRecordsDecode(t *testing.T) {
	t.Parallel()
	start := time.Unix(1700000000, 0)
	tests := []struct {
		file string
		want record
	}{
		{"record-empty.bin", record{created: start, accessed: start, data: map[string]any{}}},
		{"record-scalars.bin", record{created: time.Unix(1700000000, 123), accessed: time.Unix(1700000100, 0),
			idleEnd: time.Unix(1700001900, 0), absEnd: time.Unix(1700028800, 0),
			data: map[string]any{"nil": nil, "true": true, "false": false, "str": "héllo", "empty": "",
				"int": -7, "int8": -3, "int64": 1 << 62, "uint": 9, "uint8": 200,
				"uint64big": uint64(1<<64 - 1), "uint64small": 42, "float64": 1.5, "float32": 0.25,
				"bytes": []byte{0, 1, 0xff}}}},
		{"record-containers.bin", record{created: start, accessed: start,
			flashes: []Flash{{"info", "saved"}, {"error", "nope"}},
			data: map[string]any{
				"strs":           []string{"a", "", "b"},
				"strmap":         map[string]string{"k": "v", "a": ""},
				"list":           []any{1, "x", nil, []any{true, 2.5}, map[string]any{"z": []byte("q")}},
				"repoze.who.tkt": map[string]any{"repoze.who.userid": "alice", "userdata": "ud", "tokens": []string{"t1", "t2"}},
				"emptylist":      []any{}, "emptymap": map[string]any{}, "emptystrs": []string{},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rc, err := decodeRecord(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got, want := fmt.Sprintf("%#v", *rc), fmt.Sprintf("%#v", tc.want); got != want {
				t.Errorf("decoded\n %s\nwant\n %s", got, want)
			}
			if again, err := rc.encode(nil); err != nil || string(again) != string(b) {
				t.Errorf("re-encoded %x, %v; want the stored bytes %x", again, err, b)
			}
		})
	}
}
