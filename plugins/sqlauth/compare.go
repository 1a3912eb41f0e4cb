package sqlauth

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gowho/gowho/internal/passhash"
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
// A value shaped like a hash of another scheme ("$5$…", "$6$…", any
// "$id$…", "{MD5}…", "{CRYPT}…", any "{NAME}…", or 13 characters of
// [./0-9A-Za-z], a DES crypt) never matches, even with allowPlain: it is
// never read as clear text. An empty value never matches. The comparisons
// run in constant time for a given stored value.
func Compare(stored, password string, allowPlain bool) bool {
	s, _ := classify(stored, allowPlain)
	return s.check(stored, password)
}

// scheme is the kind of a stored value.
type scheme int

const (
	schemeNone     scheme = iota // never matches
	schemeBcrypt                 // cost: the bcrypt cost
	schemeAPR1                   // $apr1$
	schemeMD5Crypt               // $1$
	schemeSHAHex                 // {SHA} + 40 hex digits
	schemeSHA                    // {SHA} + base64
	schemeSSHA                   // {SSHA} + base64
	schemePlain                  // clear text (allowPlain)
)

// classify returns the scheme of stored and, for bcrypt, its cost.
func classify(stored string, allowPlain bool) (scheme, int) {
	switch {
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		c, err := bcrypt.Cost([]byte(stored))
		if err != nil {
			return schemeNone, 0
		}
		return schemeBcrypt, c
	case strings.HasPrefix(stored, "$apr1$"):
		return schemeAPR1, 0
	case strings.HasPrefix(stored, "$1$"):
		return schemeMD5Crypt, 0
	case strings.HasPrefix(stored, "{SHA}"):
		if v := stored[len("{SHA}"):]; len(v) == 40 && isHex(v) {
			return schemeSHAHex, 0
		}
		return schemeSHA, 0
	case strings.HasPrefix(stored, "{SSHA}"):
		return schemeSSHA, 0
	case stored == "", strings.HasPrefix(stored, "$"), passhash.LooksLikeHash(stored):
		return schemeNone, 0 // no password set, or a scheme this package does not know
	case allowPlain:
		return schemePlain, 0
	}
	return schemeNone, 0
}

// check compares password with stored, a value of scheme s.
func (s scheme) check(stored, password string) bool {
	switch s {
	case schemeBcrypt:
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil
	case schemeAPR1:
		return md5CryptMatches(password, stored, "$apr1$")
	case schemeMD5Crypt:
		return md5CryptMatches(password, stored, "$1$")
	case schemeSHAHex:
		sum := sha1.Sum([]byte(password))
		return eq(hex.EncodeToString(sum[:]), strings.ToLower(stored[len("{SHA}"):]))
	case schemeSHA:
		sum := sha1.Sum([]byte(password))
		return eq(base64.StdEncoding.EncodeToString(sum[:]), stored[len("{SHA}"):])
	case schemeSSHA:
		raw, err := base64.StdEncoding.DecodeString(stored[len("{SSHA}"):])
		if err != nil || len(raw) <= sha1.Size {
			return false
		}
		sum := sha1.Sum(append([]byte(password), raw[sha1.Size:]...))
		return subtle.ConstantTimeCompare(sum[:], raw[:sha1.Size]) == 1
	case schemePlain:
		return eq(password, stored)
	}
	return false
}

// work estimates the time one check of scheme s at cost takes, in
// microseconds of one server core; only the order matters.
func (s scheme) work(cost int) float64 {
	switch s {
	case schemeBcrypt:
		return 55 * float64(uint64(1)<<min(cost, 31))
	case schemeAPR1, schemeMD5Crypt:
		return 145
	case schemeSHAHex, schemeSHA, schemeSSHA:
		return 0.3
	case schemePlain:
		return 0.1
	}
	return -1
}

// fakeBcrypt is a bcrypt hash (cost 4) of a random password nobody knows;
// fakeStored rewrites its cost.
const fakeBcrypt = "$2y$04$V8JqjDPiQvt6VMDvrXZ8j.UlClB4q/IyxZOBfQ4KqhUfV5DgOPWDC"

// fakeStored returns a stored value of scheme s and cost that no
// password is expected to match: checking it costs what checking a real
// one does.
func fakeStored(s scheme, cost int) string {
	switch s {
	case schemeBcrypt:
		return fmt.Sprintf("$2y$%02d%s", cost, fakeBcrypt[6:])
	case schemeAPR1:
		return "$apr1$sqlfake0$JfOH6bjxzNIDe9e.ROZ8A/"
	case schemeMD5Crypt:
		return "$1$sqlfake0$JfOH6bjxzNIDe9e.ROZ8A/"
	case schemeSHAHex:
		return "{SHA}" + strings.Repeat("0", 40)
	case schemeSHA:
		return "{SHA}AAAAAAAAAAAAAAAAAAAAAAAAAAA="
	case schemeSSHA:
		return "{SSHA}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	}
	return "\x00 no password \x00"
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

// md5CryptMatches reports whether password gives stored, an MD5-crypt
// hash with magic ("$1$" or "$apr1$"); a malformed one never matches.
func md5CryptMatches(password, stored, magic string) bool {
	salt, ok := passhash.ParseMD5Crypt(stored, magic)
	return ok && eq(passhash.MD5Crypt(password, salt, magic), stored)
}
