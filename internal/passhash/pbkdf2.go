package passhash

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
)

// PBKDF2 is a passlib PBKDF2-HMAC hash, "$pbkdf2-sha512$ROUNDS$SALT$SUM"
// (what CKAN stores since it moved to passlib), "$pbkdf2-sha256$…" or "$pbkdf2$…"
// (SHA-1): salt and checksum in passlib's adapted base64 ("ab64": the
// standard alphabet with '.' for '+', no padding).
type PBKDF2 struct {
	Digest PBKDF2Digest
	Rounds int    // 1 to 2^32-1, as passlib allows
	Salt   []byte // 0 to 1024 bytes, as passlib allows
	Sum    []byte // the digest's size
}

// PBKDF2Digest is the HMAC digest of a PBKDF2 hash.
type PBKDF2Digest int

// The digests of passlib's pbkdf2_sha1, pbkdf2_sha256 and pbkdf2_sha512.
const (
	PBKDF2SHA1 PBKDF2Digest = iota
	PBKDF2SHA256
	PBKDF2SHA512
)

var pbkdf2Digests = [...]struct {
	ident string
	size  int
	new   func() hash.Hash
}{
	PBKDF2SHA1:   {"$pbkdf2$", sha1.Size, sha1.New},
	PBKDF2SHA256: {"$pbkdf2-sha256$", sha256.Size, sha256.New},
	PBKDF2SHA512: {"$pbkdf2-sha512$", sha512.Size, sha512.New},
}

// Ident is the digest's prefix: "$pbkdf2$", "$pbkdf2-sha256$" or
// "$pbkdf2-sha512$".
func (d PBKDF2Digest) Ident() string { return pbkdf2Digests[d].ident }

// Size is the digest's size in bytes: the checksum's.
func (d PBKDF2Digest) Size() int { return pbkdf2Digests[d].size }

// maxPBKDF2Salt is passlib's max_salt_size.
const maxPBKDF2Salt = 1024

// ab64 is passlib's adapted base64 once '.' is read as '+'.
var ab64 = base64.RawStdEncoding

// ParsePBKDF2 parses a passlib PBKDF2 hash as passlib's from_string does:
// the rounds a decimal number without leading zeros from 1 to 2^32-1, a
// salt of at most 1024 bytes and a checksum of exactly the digest's size,
// both ab64 ('+' is accepted for '.', as passlib does). Anything else is
// not ok. It does no hashing: the caller bounds Rounds before Verify.
func ParsePBKDF2(h string) (PBKDF2, bool) {
	for d, dg := range pbkdf2Digests {
		rest, found := strings.CutPrefix(h, dg.ident)
		if !found {
			continue
		}
		rounds, rest, ok1 := strings.Cut(rest, "$")
		salt, sum, ok2 := strings.Cut(rest, "$")
		if !ok1 || !ok2 {
			return PBKDF2{}, false
		}
		n, ok := parseRounds(rounds)
		if !ok {
			return PBKDF2{}, false
		}
		s, ok := decodeAB64(salt)
		if !ok || len(s) > maxPBKDF2Salt {
			return PBKDF2{}, false
		}
		c, ok := decodeAB64(sum)
		if !ok || len(c) != dg.size {
			return PBKDF2{}, false
		}
		return PBKDF2{Digest: PBKDF2Digest(d), Rounds: n, Salt: s, Sum: c}, true
	}
	return PBKDF2{}, false
}

// parseRounds reads passlib's rounds field: decimal digits, no leading
// zero, 1 to 2^32-1.
func parseRounds(s string) (int, bool) {
	if s == "" || len(s) > 10 || s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return int(n), true
}

// decodeAB64 decodes passlib's ab64: "A-Za-z0-9./" (or '+'), no padding.
// Go's decoder skips '\r' and '\n', passlib's does not accept them as
// part of a hash: they are refused here.
func decodeAB64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n=") {
		return nil, false
	}
	b, err := ab64.DecodeString(strings.ReplaceAll(s, ".", "+"))
	return b, err == nil
}

// String renders h as passlib does.
func (h PBKDF2) String() string {
	enc := func(b []byte) string { return strings.ReplaceAll(ab64.EncodeToString(b), "+", ".") }
	return h.Digest.Ident() + strconv.Itoa(h.Rounds) + "$" + enc(h.Salt) + "$" + enc(h.Sum)
}

// Verify reports, in constant time for a given h, whether password (UTF-8,
// as passlib encodes it) gives h's checksum. It runs h.Rounds rounds: the
// caller bounds them.
func (h PBKDF2) Verify(password string) bool {
	dg := pbkdf2Digests[h.Digest]
	if h.Rounds < 1 || len(h.Sum) != dg.size {
		return false
	}
	key, err := pbkdf2.Key(dg.new, password, h.Salt, h.Rounds, dg.size)
	return err == nil && subtle.ConstantTimeCompare(key, h.Sum) == 1
}
