package throttle

import (
	"strings"
	"testing"
)

// FuzzEncodeKeys: any login a client sends makes keys memcached and Redis
// accept (at most 250 bytes, no space or control character), the same
// keys every time, and keys of their own for each kind and value.
func FuzzEncodeKeys(f *testing.F) {
	for _, s := range []string{"", "alice", "a b\r\nc", strings.Repeat("x", 5000), "\x00", "ünïcode", "192.0.2.1"} {
		f.Add(s, "other")
	}
	f.Fuzz(func(t *testing.T, value, other string) {
		for _, kind := range []string{"user", "ip"} {
			k := encodeKeys(DefaultKeyPrefix, kind, value)
			for _, key := range []string{k.ban, k.count} {
				if len(key) > 250 || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
					t.Fatalf("key %q for %q is no valid memcached key", key, value)
				}
			}
			if k != encodeKeys(DefaultKeyPrefix, kind, value) || k.ban == k.count {
				t.Fatalf("keys of %q: %+v", value, k)
			}
			if other != value && encodeKeys(DefaultKeyPrefix, kind, other) == k {
				t.Fatalf("%q and %q share keys", value, other)
			}
		}
		if encodeKeys(DefaultKeyPrefix, "user", value) == encodeKeys(DefaultKeyPrefix, "ip", value) {
			t.Fatalf("user and ip %q share keys", value)
		}
	})
}
