package memcached

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/gowho/gowho/who"
)

// identityFrom builds an identity from fuzz input: names and values taken
// from sep-separated fields, with a few typed values.
func identityFrom(data []byte, kinds byte) who.Identity {
	id := who.Identity{}
	fields := bytes.Split(data, []byte{0xff})
	for i := 0; i+1 < len(fields); i += 2 {
		name, val := string(fields[i]), string(fields[i+1])
		switch (kinds >> (uint(i/2) % 8)) & 3 {
		case 0:
			id[name] = val
		case 1:
			id[name] = []string{val, name}
		case 2:
			id[name] = len(val)
		default:
			id[name] = map[string]any{val: []any{val, true, nil}}
		}
	}
	return id
}

// FuzzCacheKey checks that the key encoding is injective: two identities
// with the same encoding are equal; and that the default key items
// differ from every item only by NonCredentialItems: two identities get
// the same default key exactly when they are equal without those.
func FuzzCacheKey(f *testing.F) {
	f.Add([]byte("login\xffa\xffpassword\xffb\x00c"), []byte("login\xffa\x00b\xffpassword\xffc"), byte(0), byte(0))
	f.Add([]byte("aaa\xffx\xffzzz\xffy"), []byte("login\xffx\xffpassword\xffy"), byte(0), byte(0))
	f.Add([]byte("g\xffab"), []byte("g\xffa\xffb\xff"), byte(1), byte(1))
	f.Add([]byte("login\xffa\xffmax_age\xff60"), []byte("login\xffa\xffmax_age\xff86400"), byte(0), byte(8))
	f.Add([]byte("timestamp\xff1\xfftokens\xffa"), []byte("timestamp\xff22\xfftokens\xffa"), byte(2), byte(6))
	f.Fuzz(func(t *testing.T, a, b []byte, ka, kb byte) {
		ia, ib := identityFrom(a, ka), identityFrom(b, kb)
		ea, err1 := encodeKey(methodAuthenticate, "p", ia, nil)
		eb, err2 := encodeKey(methodAuthenticate, "p", ib, nil)
		if err1 != nil || err2 != nil {
			t.Fatalf("encode: %v %v", err1, err2)
		}
		if bytes.Equal(ea, eb) != reflect.DeepEqual(map[string]any(ia), map[string]any(ib)) {
			t.Fatalf("encodings equal=%v for identities %#v and %#v", bytes.Equal(ea, eb), ia, ib)
		}
		da, err1 := encodeKey(methodAuthenticate, "p", ia, defaultKeyItems(ia))
		db, err2 := encodeKey(methodAuthenticate, "p", ib, defaultKeyItems(ib))
		if err1 != nil || err2 != nil {
			t.Fatalf("encode: %v %v", err1, err2)
		}
		credentials := func(id who.Identity) map[string]any {
			m := map[string]any(id.Clone())
			for _, k := range NonCredentialItems {
				delete(m, k)
			}
			return m
		}
		if bytes.Equal(da, db) != reflect.DeepEqual(credentials(ia), credentials(ib)) {
			t.Fatalf("default keys equal=%v for identities %#v and %#v", bytes.Equal(da, db), ia, ib)
		}
	})
}

// FuzzCacheEntry feeds arbitrary bytes to the entry decoder (the value
// codec has its own fuzz target, in internal/codec): it must never panic,
// and whatever it accepts must encode back to the same bytes (one encoding
// per entry), never carry a password, and be bound to its key by the MAC.
func FuzzCacheEntry(f *testing.F) {
	k := newKeyCodec("s", "p:")
	for _, e := range []entry{
		{userID: "uid=alice", values: map[string]any{"mail": "a@x", "groups": []string{"a", "b"}, "n": 3,
			"m": map[string]any{"x": []any{1.5, true, nil, int64(-2), uint64(7), []byte{0}}}, "s": map[string]string{"a": "b"}}},
		{negative: true},
		{userID: "-"},
	} {
		b, err := k.encodeEntry("key", e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:len(b)-macLen])
	}
	f.Add([]byte{valVersion, 1, 0, 9, 1, 8, 'p', 'a', 's', 's', 'w', 'o', 'r', 'd', 6, 0}) // a password item
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := decodePayload(payload)
		if err != nil {
			return
		}
		if _, ok := e.values[who.KeyPassword]; ok {
			t.Fatal("decoded a password")
		}
		b, err := k.encodeEntry("key", e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(b[:len(b)-macLen], payload) {
			t.Fatalf("not canonical:\n in  %x\n out %x", payload, b[:len(b)-macLen])
		}
		if _, err := k.decodeEntry("key", b); err != nil {
			t.Fatalf("own MAC refused: %v", err)
		}
		if _, err := k.decodeEntry("other", b); err == nil {
			t.Fatal("a value moved to another key was accepted")
		}
	})
}
