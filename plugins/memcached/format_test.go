package memcached

import (
	"errors"
	"os"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

// TestOldFormatIsAMiss: entries of format version 1 (testdata/entry-v1.*,
// written by the codec before internal/codec) are never read under the
// keys of today's format, and one found under such a key anyway is a miss
// the backend answers and a fresh entry replaces: never an error or a
// panic.
func TestOldFormatIsAMiss(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile("testdata/entry-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	oldKey, err := os.ReadFile("testdata/entry-v1.key")
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyCodec("s", "p:")
	key, err := k.key(methodAuthenticate, "auth", who.Identity{"login": "alice", "password": "pw"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key == string(oldKey) {
		t.Fatal("the version 2 key of an identity is its version 1 key")
	}
	if _, err := k.decodeEntry(string(oldKey), old); !errors.Is(err, errCorrupt) {
		t.Fatalf("decodeEntry of a version 1 entry under its own key = %v; want errCorrupt (a miss)", err)
	}
	// The same entry with a valid MAC under the key the cache reads.
	payload := old[:len(old)-macLen]
	forged := append(payload[:len(payload):len(payload)], k.valueMAC(key, payload)...)
	if _, err := k.decodeEntry(key, forged); !errors.Is(err, errCorrupt) {
		t.Fatalf("decodeEntry of a version 1 entry = %v; want errCorrupt (a miss)", err)
	}

	mc := testserver.Memcached(t)
	b := newBackend()
	c := newCache(t, mc.Addr, b, func(o *Options) { o.Secret = "s-old-format" })
	id := creds("alice", "alice-pass")
	key, err = c.codec.key(methodAuthenticate, "backend", id, c.keyItems(id))
	if err != nil {
		t.Fatal(err)
	}
	forged = append(payload[:len(payload):len(payload)], c.codec.valueMAC(key, payload)...)
	client := memcache.New(mc.Addr)
	if err := client.Set(&memcache.Item{Key: key, Value: forged}); err != nil {
		t.Fatal(err)
	}
	uid, err := c.Authenticate(req(), id)
	if err != nil || uid != "uid=alice" {
		t.Fatalf("Authenticate over a version 1 entry = %q, %v; want uid=alice", uid, err)
	}
	if n, s := b.calls.Load(), c.Stats(); n != 1 || s.Misses != 1 || s.Hits != 0 {
		t.Fatalf("backend calls %d, stats %+v; want one miss answered by the backend", n, s)
	}
	it, err := client.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := c.codec.decodeEntry(key, it.Value); err != nil || e.userID != "uid=alice" {
		t.Fatalf("the version 1 entry was not replaced: %+v, %v", e, err)
	}
}
