package session

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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

// TestLazyRecord: a loaded record is checked whole but its data map is
// built only when asked for; lookupIn decodes one value, and finds the
// same values built or not.
func TestLazyRecord(t *testing.T) {
	t.Parallel()
	data := map[string]any{
		"gowho.plugins.oidc.x": map[string]any{"id_token": "t", "userid": "u-alice",
			"claims": map[string]any{"email": "a@example.org", "groups": []string{"g"}}},
		"strmap": map[string]string{"k": "v"},
		"scalar": 3,
	}
	b, err := (&record{created: time.Unix(1, 0), data: data}).encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, sub string
		want     any // nil: absent
	}{
		{"gowho.plugins.oidc.x", "userid", "u-alice"},
		{"gowho.plugins.oidc.x", "claims", map[string]any{"email": "a@example.org", "groups": []string{"g"}}},
		{"gowho.plugins.oidc.x", "nope", nil},
		{"strmap", "k", "v"},
		{"strmap", "x", nil},
		{"scalar", "x", nil},
		{"absent", "x", nil},
	}
	for _, built := range []bool{false, true} {
		var rc record
		if err := rc.decodeLazy(b); err != nil {
			t.Fatal(err)
		}
		if rc.data != nil {
			t.Fatal("decodeLazy built the data map")
		}
		if built {
			rc.dataMap()
		}
		for _, tc := range tests {
			got, ok := rc.lookupIn(tc.key, tc.sub)
			if ok != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("built %v: lookupIn(%q, %q) = %#v, %v; want %#v", built, tc.key, tc.sub, got, ok, tc.want)
			}
		}
		if !built && rc.data != nil {
			t.Error("lookupIn built the data map")
		}
		if again, err := rc.encode(nil); err != nil || string(again) != string(b) {
			t.Errorf("built %v: encodes to %x, %v; want %x", built, again, err, b)
		}
	}
	// A record that is corrupt past its header is refused at load, as
	// before, not when a key is read.
	var rc record
	if err := rc.decodeLazy(append(b[:len(b):len(b)], 0)); err == nil {
		t.Error("decodeLazy accepted trailing bytes")
	}
}
