package sqlauth

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Compare reports whether password matches stored, by the scheme the
// stored value shows:
//
//   - "$2a$", "$2b$", "$2y$": bcrypt (htpasswd -B);
//   - "$apr1$": Apache's MD5 (htpasswd -m), and "$1$": MD5-crypt;
//   - "{SHA}" and 40 hex digits: SHA-1 hex, repoze.who's
//     default_password_compare;
//   - "{SHA}" and base64: SHA-1 base64 (htpasswd -s);
//   - "{SSHA}": salted SHA-1 base64 (LDAP);
//   - anything else: clear text, compared only when allowPlain.
//
// Other crypt schemes ("$5$", "$6$", DES crypt) never match. The
// comparisons run in constant time for a given stored value.
func Compare(stored, password string, allowPlain bool) bool {
	switch {
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil
	case strings.HasPrefix(stored, "$apr1$"):
		return eq(md5Crypt(password, stored, "$apr1$"), stored)
	case strings.HasPrefix(stored, "$1$"):
		return eq(md5Crypt(password, stored, "$1$"), stored)
	case strings.HasPrefix(stored, "{SHA}"):
		v := stored[len("{SHA}"):]
		sum := sha1.Sum([]byte(password))
		if len(v) == 40 && isHex(v) {
			return eq(hex.EncodeToString(sum[:]), strings.ToLower(v))
		}
		return eq(base64.StdEncoding.EncodeToString(sum[:]), v)
	case strings.HasPrefix(stored, "{SSHA}"):
		raw, err := base64.StdEncoding.DecodeString(stored[len("{SSHA}"):])
		if err != nil || len(raw) <= sha1.Size {
			return false
		}
		sum := sha1.Sum(append([]byte(password), raw[sha1.Size:]...))
		return subtle.ConstantTimeCompare(sum[:], raw[:sha1.Size]) == 1
	case strings.HasPrefix(stored, "$"), stored == "":
		return false // an unsupported crypt scheme, or no password set
	default:
		return allowPlain && eq(password, stored)
	}
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// md5Crypt is the MD5-crypt of FreeBSD (magic "$1$") and Apache's variant
// (magic "$apr1$"); stored gives the salt. It returns magic+salt+"$"+hash.
func md5Crypt(password, stored, magic string) string {
	salt := strings.TrimPrefix(stored, magic)
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	pw := []byte(password)
	alt := md5.Sum([]byte(password + salt + password))
	h := md5.New()
	h.Write(pw)
	h.Write([]byte(magic + salt))
	for i := len(pw); i > 0; i -= 16 {
		h.Write(alt[:min(i, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 == 1 {
			h.Write([]byte{0})
		} else {
			h.Write(pw[:1])
		}
	}
	sum := h.Sum(nil)
	for i := 0; i < 1000; i++ {
		h := md5.New()
		if i&1 == 1 {
			h.Write(pw)
		} else {
			h.Write(sum)
		}
		if i%3 != 0 {
			h.Write([]byte(salt))
		}
		if i%7 != 0 {
			h.Write(pw)
		}
		if i&1 == 1 {
			h.Write(sum)
		} else {
			h.Write(pw)
		}
		sum = h.Sum(nil)
	}
	var out strings.Builder
	out.WriteString(magic + salt + "$")
	enc := func(a, b, c byte, n int) {
		v := uint(a)<<16 | uint(b)<<8 | uint(c)
		for ; n > 0; n-- {
			out.WriteByte(cryptAlphabet[v&0x3f])
			v >>= 6
		}
	}
	enc(sum[0], sum[6], sum[12], 4)
	enc(sum[1], sum[7], sum[13], 4)
	enc(sum[2], sum[8], sum[14], 4)
	enc(sum[3], sum[9], sum[15], 4)
	enc(sum[4], sum[10], sum[5], 4)
	enc(0, 0, sum[11], 2)
	return out.String()
}
