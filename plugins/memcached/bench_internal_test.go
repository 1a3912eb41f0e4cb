package memcached

import (
	"testing"

	"github.com/gowho/gowho/who"
)

// The codec's hot paths: a key per request, a value per hit.

var benchIdentity = who.Identity{who.KeyLogin: "alice", who.KeyPassword: "secret", "max_age": "60"}

var benchEntry = entry{userID: "uid=alice,ou=people,dc=example,dc=org",
	values: map[string]any{"mail": "alice@example.org", "groups": []string{"staff", "admins"}, "uidNumber": int64(1000)}}

func BenchmarkCacheKey(b *testing.B) {
	k := newKeyCodec("s", "p:")
	items := defaultKeyItems(benchIdentity)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.key(methodAuthenticate, "ldap", benchIdentity, items); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEntry(b *testing.B) {
	k := newKeyCodec("s", "p:")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.encodeEntry("key", benchEntry); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEntry(b *testing.B) {
	k := newKeyCodec("s", "p:")
	buf, err := k.encodeEntry("key", benchEntry)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.decodeEntry("key", buf); err != nil {
			b.Fatal(err)
		}
	}
}
