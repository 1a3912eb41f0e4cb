package sqlauth

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
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
//   - "$pbkdf2-sha512$", "$pbkdf2-sha256$", "$pbkdf2$" (SHA-1): passlib's
//     PBKDF2 (CKAN stores $pbkdf2-sha512$), of at most
//     MaxPBKDF2Rounds rounds;
//   - anything else: clear text, compared only when allowPlain.
//
// A value shaped like a hash of another scheme ("$5$…", "$6$…", any
// "$id$…", "{MD5}…", "{CRYPT}…", any "{NAME}…", or 13 characters of
// [./0-9A-Za-z], a DES crypt), a bcrypt hash of a cost over MaxBcryptCost,
// a PBKDF2 hash of more than MaxPBKDF2Rounds, and 80 or 128 hex digits
// (salted hex, which Options.SaltedHex reads) never match, even with
// allowPlain: they are never read as clear text. An empty value never
// matches. The comparisons run in constant time for a given stored value.
func Compare(stored, password string, allowPlain bool) bool {
	s, _ := classify(stored, rules{allowPlain: allowPlain})
	return s.check(stored, password)
}

// MaxPBKDF2Rounds is the most rounds of a PBKDF2 hash sqlauth checks: a
// stored value of more never matches and costs no hashing, so that a
// hostile row (2^32-1 rounds is a valid passlib hash: hours of one core)
// cannot hang a login. It is passhash.MaxRounds, the limit htpasswd's
// SHA-crypt shares.
const MaxPBKDF2Rounds = passhash.MaxRounds

// MaxBcryptCost is the highest bcrypt cost sqlauth checks: a stored value
// of a higher cost never matches and costs no hashing. It is
// passhash.MaxBcryptCost (17, the highest Apache's htpasswd -C makes),
// the limit htpasswd shares.
const MaxBcryptCost = passhash.MaxBcryptCost

// rules are the options that change how a stored value is read.
type rules struct {
	allowPlain bool // a value of no scheme is clear text
	saltedHex  bool // 80 and 128 hex digits are salted SHA-1 and SHA-256 hex
}

// scheme is the kind of a stored value.
type scheme int

const (
	schemeNone         scheme = iota // never matches
	schemeBcrypt                     // cost: the bcrypt cost
	schemeAPR1                       // $apr1$
	schemeMD5Crypt                   // $1$
	schemeSHAHex                     // {SHA} + 40 hex digits
	schemeSHA                        // {SHA} + base64
	schemeSSHA                       // {SSHA} + base64
	schemePlain                      // clear text (allowPlain)
	schemePBKDF2SHA1                 // $pbkdf2$; cost: the rounds
	schemePBKDF2SHA256               // $pbkdf2-sha256$; cost: the rounds
	schemePBKDF2SHA512               // $pbkdf2-sha512$; cost: the rounds
	schemeSaltedSHA1                 // 40 hex of salt + sha1(password + salt) hex (CKAN before passlib)
	schemeSaltedSHA256               // 64 hex of salt + sha256(password + salt) hex (TurboGears 2)
)

// pbkdf2Schemes maps a PBKDF2 digest to its scheme.
var pbkdf2Schemes = [...]scheme{
	passhash.PBKDF2SHA1:   schemePBKDF2SHA1,
	passhash.PBKDF2SHA256: schemePBKDF2SHA256,
	passhash.PBKDF2SHA512: schemePBKDF2SHA512,
}

// classify returns the scheme of stored and, for bcrypt and PBKDF2, its
// cost.
func classify(stored string, r rules) (scheme, int) {
	switch {
	case strings.HasPrefix(stored, "$pbkdf2"):
		h, ok := passhash.ParsePBKDF2(stored)
		if !ok || h.Rounds > MaxPBKDF2Rounds {
			return schemeNone, 0
		}
		return pbkdf2Schemes[h.Digest], h.Rounds
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		c, err := bcrypt.Cost([]byte(stored))
		if err != nil || c > MaxBcryptCost {
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
	case (len(stored) == 2*2*sha1.Size || len(stored) == 2*2*sha256.Size) && isHex(stored):
		switch {
		case !r.saltedHex:
			return schemeNone, 0 // salted hex or another hash: never clear text
		case len(stored) == 2*2*sha1.Size:
			return schemeSaltedSHA1, 0
		}
		return schemeSaltedSHA256, 0
	case stored == "", strings.HasPrefix(stored, "$"), passhash.LooksLikeHash(stored):
		return schemeNone, 0 // no password set, or a scheme this package does not know
	case r.allowPlain:
		return schemePlain, 0
	}
	return schemeNone, 0
}

// check compares password with stored, a value of scheme s.
func (s scheme) check(stored, password string) bool {
	switch s {
	case schemeBcrypt:
		if c, err := bcrypt.Cost([]byte(stored)); err != nil || c > MaxBcryptCost {
			return false
		}
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
	case schemePBKDF2SHA1, schemePBKDF2SHA256, schemePBKDF2SHA512:
		h, ok := passhash.ParsePBKDF2(stored)
		return ok && h.Rounds <= MaxPBKDF2Rounds && h.Verify(password)
	case schemeSaltedSHA1:
		// CKAN before passlib, under Python 2: password.encode('ascii',
		// 'ignore') when it was unicode (its characters past ASCII
		// dropped), its bytes as they were (UTF-8) when it was str. Both
		// are tried, always, so the time does not depend on which matches.
		if len(stored) != 2*2*sha1.Size {
			return false
		}
		salt, want := stored[:2*sha1.Size], stored[2*sha1.Size:]
		a := sha1.Sum([]byte(password + salt))
		b := sha1.Sum([]byte(asciiOnly(password) + salt))
		okA, okB := eq(hex.EncodeToString(a[:]), want), eq(hex.EncodeToString(b[:]), want)
		return okA || okB
	case schemeSaltedSHA256:
		// TurboGears 2's quickstart: sha256((password +
		// salt).encode('utf-8')).hexdigest() after 64 hex of salt.
		if len(stored) != 2*2*sha256.Size {
			return false
		}
		salt, want := stored[:2*sha256.Size], stored[2*sha256.Size:]
		sum := sha256.Sum256([]byte(password + salt))
		return eq(hex.EncodeToString(sum[:]), want)
	}
	return false
}

// asciiOnly is s without its bytes past ASCII: Python 2's
// s.encode('ascii', 'ignore') of a unicode string (which drops a
// character, all of whose UTF-8 bytes are past ASCII).
func asciiOnly(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] < 0x80 {
			b = append(b, s[i])
		}
	}
	return string(b)
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
	case schemeSaltedSHA1:
		return 0.6
	case schemeSaltedSHA256:
		return 0.4
	case schemePBKDF2SHA1, schemePBKDF2SHA256:
		return 0.2 * float64(cost) // per round: two compressions of one block
	case schemePBKDF2SHA512:
		return 0.6 * float64(cost)
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
	case schemePBKDF2SHA1, schemePBKDF2SHA256, schemePBKDF2SHA512:
		d := passhash.PBKDF2Digest(slices.Index(pbkdf2Schemes[:], s))
		return passhash.PBKDF2{Digest: d, Rounds: cost, Salt: []byte("sqlauth fake 16b"), Sum: make([]byte, d.Size())}.String()
	case schemeSaltedSHA1:
		return strings.Repeat("0", 2*2*sha1.Size)
	case schemeSaltedSHA256:
		return strings.Repeat("0", 2*2*sha256.Size)
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
