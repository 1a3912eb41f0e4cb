package throttle

import (
	"crypto/sha256"
	"encoding/base64"
)

// keys are the store keys of one subject: its ban and its count.
type keys struct{ ban, count string }

// encodeKeys returns the keys of the subject (kind, value). The value (a
// login a client chose, an address) is hashed, so a key is short, holds no
// character Redis or memcached would mind and says nothing readable about
// who tried; the hash is in braces, a Redis Cluster hash tag, so both keys
// of a subject live in one slot (one Lua script touches both).
func encodeKeys(prefix, kind, value string) keys {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(value))
	sum := h.Sum(nil)
	base := prefix + kind + ":{" + base64.RawURLEncoding.EncodeToString(sum[:18]) + "}:"
	return keys{ban: base + "b", count: base + "n"}
}
