// Package passhash holds the password-hash rules the htpasswd and sqlauth
// plugins share: crypt(3)'s base-64 alphabet, MD5-crypt ($1$, $apr1$),
// passlib's PBKDF2 hashes ($pbkdf2-sha512$…), and the shape test that
// keeps a stored hash from ever being read as a clear-text password.
package passhash

import (
	"crypto/md5"
	"strings"
)

// CryptAlphabet is the base-64 alphabet of crypt(3): "./0-9A-Za-z".
const CryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// CryptIndex maps a crypt(3) base-64 character to its value, or -1.
var CryptIndex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(CryptAlphabet); i++ {
		t[CryptAlphabet[i]] = int8(i)
	}
	return t
}()

// IsCryptChars reports whether s holds only crypt(3) base-64 characters.
func IsCryptChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if CryptIndex[s[i]] < 0 {
			return false
		}
	}
	return true
}

// B64From24 appends n characters encoding the 24-bit value b2<<16|b1<<8|b0,
// lowest six bits first, as crypt(3) does.
func B64From24(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint32(b2)<<16 | uint32(b1)<<8 | uint32(b0)
	for ; n > 0; n-- {
		dst = append(dst, CryptAlphabet[w&0x3f])
		w >>= 6
	}
	return dst
}

// MD5Crypt is Poul-Henning Kamp's MD5-based crypt: magic "$1$" for glibc,
// "$apr1$" for Apache. salt is at most 8 characters, without '$'.
func MD5Crypt(password, salt, magic string) string {
	pw := []byte(password)
	s := []byte(salt)

	alt := md5.New()
	alt.Write(pw)
	alt.Write(s)
	alt.Write(pw)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write([]byte(magic))
	ctx.Write(s)
	for n := len(pw); n > 0; n -= 16 {
		ctx.Write(altSum[:min(n, 16)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)

	for i := range 1000 {
		c := md5.New()
		if i&1 != 0 {
			c.Write(pw)
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write(s)
		}
		if i%7 != 0 {
			c.Write(pw)
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write(pw)
		}
		final = c.Sum(final[:0])
	}

	out := make([]byte, 0, len(magic)+len(s)+1+22)
	out = append(out, magic...)
	out = append(out, s...)
	out = append(out, '$')
	out = B64From24(out, final[0], final[6], final[12], 4)
	out = B64From24(out, final[1], final[7], final[13], 4)
	out = B64From24(out, final[2], final[8], final[14], 4)
	out = B64From24(out, final[3], final[9], final[15], 4)
	out = B64From24(out, final[4], final[10], final[5], 4)
	out = B64From24(out, 0, 0, final[11], 2)
	return string(out)
}

// ParseMD5Crypt checks a "$1$salt$hash" or "$apr1$salt$hash" string and
// returns its salt.
func ParseMD5Crypt(h, magic string) (salt string, ok bool) {
	rest, found := strings.CutPrefix(h, magic)
	if !found {
		return "", false
	}
	salt, sum, found := strings.Cut(rest, "$")
	if !found || len(salt) > 8 || len(sum) != 22 || !IsCryptChars(sum) || strings.ContainsAny(salt, ":\x00") {
		return "", false
	}
	return salt, true
}

// IsDESHash reports whether h looks like a traditional DES crypt hash: 13
// characters of the crypt alphabet.
func IsDESHash(h string) bool {
	return len(h) == 13 && IsCryptChars(h)
}

// LooksLikeHash reports whether h is shaped like a hash of some scheme
// ("$id$…" or "{NAME}…", where NAME may hold "-", "." and "_" as
// Dovecot's "{SHA256.HEX}" and "{BLF_CRYPT}" do) or a DES hash, so that
// it is never read as clear text.
func LooksLikeHash(h string) bool {
	if IsDESHash(h) {
		return true
	}
	if len(h) > 2 && h[0] == '$' {
		id, _, ok := strings.Cut(h[1:], "$")
		return ok && id != "" && strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
	}
	if len(h) > 2 && h[0] == '{' {
		id, _, ok := strings.Cut(h[1:], "}")
		return ok && id != "" && strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._") == ""
	}
	return false
}
