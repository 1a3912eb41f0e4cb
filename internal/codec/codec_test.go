package codec

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/gowho/gowho/who"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	nested := map[string]any{"a": map[string]any{"b": []string{"c"}}, "l": []any{1, "x", nil, []any{true}}}
	tests := []struct {
		name       string
		in         any
		widen      any // what Widen decodes; same as in when nil and exactOK
		exact      any // what Exact decodes
		exactError bool
	}{
		{name: "nil"},
		{name: "true", in: true, widen: true, exact: true},
		{name: "false", in: false, widen: false, exact: false},
		{name: "empty string", in: "", widen: "", exact: ""},
		{name: "string", in: "héllo", widen: "héllo", exact: "héllo"},
		{name: "int", in: -7, widen: -7, exact: -7},
		{name: "int64", in: int64(1 << 62), widen: 1 << 62, exact: int64(1 << 62)},
		{name: "small uint64", in: uint64(42), widen: 42, exact: uint64(42)},
		{name: "large uint64", in: uint64(math.MaxUint64), widen: uint64(math.MaxUint64), exact: uint64(math.MaxUint64)},
		{name: "int8", in: int8(-3), widen: -3, exactError: true},
		{name: "int32", in: int32(1 << 30), widen: 1 << 30, exactError: true},
		{name: "uint", in: uint(9), widen: 9, exactError: true},
		{name: "large uint", in: uint(math.MaxUint64), widen: uint64(math.MaxUint64), exactError: true},
		{name: "uint8", in: uint8(200), widen: 200, exactError: true},
		{name: "float64", in: 1.5, widen: 1.5, exact: 1.5},
		{name: "float32", in: float32(0.5), widen: 0.5, exactError: true},
		{name: "bytes", in: []byte{0, 1}, widen: []byte{0, 1}, exact: []byte{0, 1}},
		{name: "empty bytes", in: []byte{}, widen: []byte{}, exact: []byte{}},
		{name: "strings", in: []string{"a", "", "b"}, widen: []string{"a", "", "b"}, exact: []string{"a", "", "b"}},
		{name: "string map", in: map[string]string{"k": "v", "a": ""}, widen: map[string]string{"k": "v", "a": ""}, exact: map[string]string{"k": "v", "a": ""}},
		{name: "nested", in: nested, widen: nested, exact: nested},
		{name: "identity", in: who.Identity{"u": "alice"}, widen: map[string]any{"u": "alice"}, exact: map[string]any{"u": "alice"}},
		{name: "list of int64", in: []any{int64(1)}, widen: []any{1}, exact: []any{int64(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []struct {
				ints    Ints
				want    any
				wantErr bool
			}{{Widen, tc.widen, false}, {Exact, tc.exact, tc.exactError}} {
				b, err := Append(nil, tc.in, mode.ints)
				if mode.wantErr {
					if !errors.Is(err, ErrUnsupported) || !errors.Is(Check(tc.in, mode.ints), ErrUnsupported) {
						t.Errorf("ints %d: Append(%#v) = %v; want ErrUnsupported", mode.ints, tc.in, err)
					}
					continue
				}
				if err != nil || Check(tc.in, mode.ints) != nil {
					t.Fatalf("ints %d: Append(%#v): %v", mode.ints, tc.in, err)
				}
				got, err := Decode(b)
				if err != nil {
					t.Fatalf("ints %d: Decode(%x): %v", mode.ints, b, err)
				}
				if !reflect.DeepEqual(got, mode.want) {
					t.Errorf("ints %d: round trip of %#v = %#v; want %#v", mode.ints, tc.in, got, mode.want)
				}
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	deep := any("x")
	for range MaxDepth + 1 {
		deep = []any{deep}
	}
	for name, v := range map[string]any{
		"struct":   struct{}{},
		"chan":     make(chan int),
		"pointer":  new(int),
		"[]int":    []int{1},
		"map[int]": map[int]string{1: "a"},
		"nested":   map[string]any{"k": []any{struct{}{}}},
		"too deep": deep,
	} {
		for _, ints := range []Ints{Widen, Exact} {
			if _, err := Append(nil, v, ints); !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s, ints %d: Append = %v; want ErrUnsupported", name, ints, err)
			}
		}
	}
}

func TestCorrupt(t *testing.T) {
	t.Parallel()
	for name, b := range map[string][]byte{
		"empty":               {},
		"unknown tag":         {0xee},
		"trailing bytes":      {tagNil, 0},
		"short string":        {tagString, 5, 'a'},
		"short float":         {tagFloat, 1, 2},
		"non-minimal varint":  {tagInt, 0x80, 0x00},
		"non-minimal length":  {tagString, 0x81, 0x00, 'a'},
		"varint overflow":     {tagUint, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"huge count":          {tagList, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"unsorted map":        {tagMap, 2, 1, 'b', tagNil, 1, 'a', tagNil},
		"duplicate map key":   {tagMap, 2, 1, 'a', tagNil, 1, 'a', tagNil},
		"unsorted string map": {tagStrMap, 2, 1, 'b', 0, 1, 'a', 0},
		"truncated list":      {tagList, 2, tagNil},
		"too deep":            append(bytes.Repeat([]byte{tagList, 1}, MaxDepth+1), tagNil),
	} {
		if v, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decode(%x) = %#v, %v; want ErrCorrupt", name, b, v, err)
		}
		d := NewDecoder(b)
		if d.Skip(); !errors.Is(d.Finish(), ErrCorrupt) {
			t.Errorf("%s: Skip accepted %x", name, b)
		}
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	v := map[string]any{"a": 1, "m": map[string]any{"claims": map[string]any{"email": "e@x"}, "id_token": "t", "z": []any{nil}},
		"s": map[string]string{"k": "v"}, "z": "last"}
	b, err := Append(nil, v, Widen)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path []string
		want any // nil: not found
	}{
		{[]string{"a"}, 1},
		{[]string{"z"}, "last"},
		{[]string{"m", "id_token"}, "t"},
		{[]string{"m", "claims", "email"}, "e@x"},
		{[]string{"m", "claims"}, map[string]any{"email": "e@x"}},
		{[]string{"0"}, nil},      // before every key
		{[]string{"b"}, nil},      // between keys
		{[]string{"zz"}, nil},     // after every key
		{[]string{"a", "x"}, nil}, // not a map
		{[]string{"s", "k"}, nil}, // a map[string]string: no Find
		{[]string{"m", "claims", "name"}, nil},
	}
	for _, tc := range tests {
		d := NewStringDecoder(string(b))
		found := true
		for _, k := range tc.path {
			if !d.Find(k) {
				found = false
				break
			}
		}
		if !found {
			if tc.want != nil {
				t.Errorf("Find%q: not found, want %#v", tc.path, tc.want)
			}
			continue
		}
		if got := d.Value(); d.Err() != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Find%q: %#v, %v; want %#v", tc.path, got, d.Err(), tc.want)
		}
	}
	if d := NewDecoder([]byte{tagMap, 2, 1, 'b', tagNil, 1, 'a', tagNil}); d.Find("c") || d.Err() == nil {
		t.Error("Find passed unsorted keys")
	}
}

// TestSkipAllocs: checking an encoding allocates nothing.
func TestSkipAllocs(t *testing.T) {
	b, _ := Append(nil, map[string]any{"m": map[string]any{"claims": map[string]any{"email": "e@x"}, "l": []any{1, 2.5, []byte("x")}},
		"s": map[string]string{"k": "v"}, "t": []string{"a"}}, Widen)
	if n := testing.AllocsPerRun(100, func() {
		d := NewDecoder(b)
		d.SkipMap()
		if d.Finish() != nil {
			t.Fatal("Skip refused a good encoding")
		}
	}); n != 0 {
		t.Fatalf("Skip allocated %v times", n)
	}
}

func TestDecoderSequence(t *testing.T) {
	t.Parallel()
	b := AppendUvarint(nil, 3)
	b = AppendString(b, "abc")
	b, _ = Append(b, map[string]any{"k": "v"}, Widen)
	d := NewDecoder(b)
	d.ShareStrings()
	if n, s, m := d.Uvarint(), d.String(), d.Map(); n != 3 || s != "abc" || m["k"] != "v" || d.Finish() != nil {
		t.Fatalf("read %d, %q, %v, %v", n, s, m, d.Err())
	}
	d = NewDecoder([]byte{tagNil})
	if d.Map(); !errors.Is(d.Finish(), ErrCorrupt) {
		t.Fatal("Map accepted a nil")
	}
}

func TestClone(t *testing.T) {
	t.Parallel()
	in := map[string]any{"l": []any{[]string{"a"}}, "m": map[string]string{"k": "v"}, "b": []byte("x")}
	out := Clone(in).(map[string]any)
	out["l"].([]any)[0].([]string)[0] = "changed"
	out["m"].(map[string]string)["k"] = "changed"
	out["b"].([]byte)[0] = 'y'
	if !reflect.DeepEqual(in, map[string]any{"l": []any{[]string{"a"}}, "m": map[string]string{"k": "v"}, "b": []byte("x")}) {
		t.Fatalf("changing the clone changed the original: %#v", in)
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic,
// and what it accepts is canonical (Exact encodes it back to the same
// bytes) and round-trips under both rules.
func FuzzDecode(f *testing.F) {
	for _, v := range []any{nil, 1, int64(-2), uint64(7), "x", 1.5, []byte("b"), map[string]string{"a": "b"},
		[]any{1, "a", map[string]any{"k": []string{"v"}}, true, false}} {
		b, err := Append(nil, v, Exact)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{tagInt, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		sk := NewDecoder(b)
		sk.Skip()
		if serr := sk.Finish(); serr != err {
			t.Fatalf("Skip says %v where Decode says %v", serr, err)
		}
		if m, ok := v.(map[string]any); ok && err == nil {
			// Find finds what Map decoded, and nothing else.
			for k, want := range m {
				d := NewStringDecoder(string(b))
				if !d.Find(k) {
					t.Fatalf("Find(%q) did not find it", k)
				}
				got := d.Value()
				ge, _ := Append(nil, got, Exact) // not DeepEqual: NaN
				we, _ := Append(nil, want, Exact)
				if d.Err() != nil || !bytes.Equal(ge, we) {
					t.Fatalf("Find(%q) then Value = %#v, want %#v", k, got, want)
				}
			}
			const absent = "\xff\xffnot a key"
			if _, has := m[absent]; !has && func() bool { d := NewDecoder(b); return d.Find(absent) }() {
				t.Fatal("Find found a key Map did not decode")
			}
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		exact, err := Append(nil, v, Exact)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		if !bytes.Equal(exact, b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, exact)
		}
		widened, err := Append(nil, v, Widen)
		if err != nil {
			t.Fatalf("decoded value does not encode widened: %v", err)
		}
		v2, err := Decode(widened)
		if err != nil {
			t.Fatalf("widened encoding does not decode: %v", err)
		}
		if again, _ := Append(nil, v2, Widen); !bytes.Equal(again, widened) {
			t.Fatalf("widened encoding not stable:\n %x\n %x", widened, again)
		}
	})
}

func TestWrapUnsupported(t *testing.T) {
	t.Parallel()
	mine := errors.New("pkg: unsupported value type")
	_, err := Append(nil, map[string]any{"k": make(chan int)}, Widen)
	got := WrapUnsupported(err, mine)
	if !errors.Is(got, mine) || got.Error() != "pkg: unsupported value type: chan int" {
		t.Fatalf("WrapUnsupported = %v", got)
	}
	if WrapUnsupported(nil, mine) != nil || WrapUnsupported(ErrCorrupt, mine) != ErrCorrupt {
		t.Fatal("WrapUnsupported changed an error that is not ErrUnsupported")
	}
}
