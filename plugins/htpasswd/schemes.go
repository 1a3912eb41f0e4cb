package htpasswd

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gowho/gowho/internal/passhash"
	"golang.org/x/crypto/bcrypt"
)

// Scheme names, as Hash takes them and SchemeOf returns them.
const (
	SchemeBcrypt   = "bcrypt"   // $2y$, $2a$, $2b$ (htpasswd -B)
	SchemeAPR1     = "apr1"     // $apr1$ MD5 (htpasswd -m, Apache's default)
	SchemeMD5Crypt = "md5crypt" // $1$ glibc MD5-crypt
	SchemeSHA      = "sha"      // {SHA} base64(SHA-1) (htpasswd -s)
	SchemeSHA256   = "sha256"   // $5$ SHA-256-crypt (htpasswd -2)
	SchemeSHA512   = "sha512"   // $6$ SHA-512-crypt (htpasswd -5)
	SchemeCrypt    = "crypt"    // traditional DES crypt (htpasswd -d)
	SchemePlain    = "plain"    // clear text (htpasswd -p)
)

// DefaultBcryptCost is the bcrypt cost Hash uses.
const DefaultBcryptCost = bcrypt.DefaultCost

// Errors callers can test with errors.Is.
var (
	// ErrUnknownScheme is returned for a hash (or a scheme name) this
	// package does not know.
	ErrUnknownScheme = errors.New("htpasswd: unknown hash scheme")
	// ErrMalformedHash is returned for a hash whose prefix names a scheme
	// but whose body is not well formed.
	ErrMalformedHash = errors.New("htpasswd: malformed hash")

	// A hash too costly to check is malformed: checking it would hold a
	// core for minutes to days, and every unknown user's fake check
	// would take its cost. The messages carry no cost, so each kind is
	// one warning line.
	errCostlyBcrypt   = fmt.Errorf("%w: bcrypt cost over %d, too slow to check (Apache's htpasswd -C makes 4 to %d): the line never matches", ErrMalformedHash, passhash.MaxBcryptCost, passhash.MaxBcryptCost)
	errCostlySHACrypt = fmt.Errorf("%w: SHA-crypt of more than %d rounds, too slow to check: the line never matches", ErrMalformedHash, passhash.MaxRounds)
)

// Schemes lists the scheme names Hash accepts.
func Schemes() []string {
	return []string{SchemeBcrypt, SchemeAPR1, SchemeMD5Crypt, SchemeSHA, SchemeSHA256, SchemeSHA512,
		SchemeCrypt, SchemePlain}
}

// parsedHash is a validated hash: its scheme, what verification needs,
// and its cost (for the fake hash of unknown users).
type parsedHash struct {
	scheme         string
	hash           string // as stored
	salt           string
	cost           int // bcrypt cost or SHA-crypt rounds; 0 for the others
	explicitRounds bool
}

// parseHash detects the scheme of h from its prefix (or its DES shape)
// and validates it. Plain text is never detected: it returns
// ErrUnknownScheme for anything that is not a known hash, and
// ErrMalformedHash for a known prefix with a bad body.
func parseHash(h string) (parsedHash, error) {
	ph := parsedHash{hash: h}
	var ok bool
	switch {
	case strings.HasPrefix(h, "$2y$"), strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"):
		ph.scheme = SchemeBcrypt
		// $2y$ and $2b$ are the same algorithm as $2a$ for passwords
		// bcrypt can hash (at most 72 bytes, with no 8-bit wrap bug).
		c, err := bcrypt.Cost([]byte("$2a$" + h[4:]))
		if err != nil || len(h) != 60 || !passhash.IsCryptChars(h[7:]) || h[6] != '$' {
			return ph, fmt.Errorf("%w: bad bcrypt hash", ErrMalformedHash)
		}
		if c > passhash.MaxBcryptCost {
			return ph, errCostlyBcrypt
		}
		ph.cost, ok = c, true
	case strings.HasPrefix(h, "$apr1$"):
		ph.scheme = SchemeAPR1
		ph.salt, ok = passhash.ParseMD5Crypt(h, "$apr1$")
	case strings.HasPrefix(h, "$1$"):
		ph.scheme = SchemeMD5Crypt
		ph.salt, ok = passhash.ParseMD5Crypt(h, "$1$")
	case strings.HasPrefix(h, "$5$"):
		ph.scheme = SchemeSHA256
		ph.salt, ph.cost, ph.explicitRounds, ok = sha256Crypt.parse(h)
		if ok && ph.cost > passhash.MaxRounds {
			return ph, errCostlySHACrypt
		}
	case strings.HasPrefix(h, "$6$"):
		ph.scheme = SchemeSHA512
		ph.salt, ph.cost, ph.explicitRounds, ok = sha512Crypt.parse(h)
		if ok && ph.cost > passhash.MaxRounds {
			return ph, errCostlySHACrypt
		}
	case strings.HasPrefix(h, "{SHA}"):
		ph.scheme = SchemeSHA
		raw, err := base64.StdEncoding.DecodeString(h[5:])
		ok = err == nil && len(raw) == sha1.Size
	case passhash.IsDESHash(h):
		ph.scheme = SchemeCrypt
		ph.salt, ok = h[:2], true
	default:
		return ph, ErrUnknownScheme
	}
	if !ok {
		return ph, fmt.Errorf("%w: bad %s hash", ErrMalformedHash, ph.scheme)
	}
	return ph, nil
}

// MaxPasswordLen is the longest password, in bytes, Verify and HashCost
// take; a longer one never matches. SHA-crypt's work grows with the
// square of the password's length, so without a limit one request with a
// huge Basic header could hold a CPU for minutes. Apache's htpasswd reads
// at most 255 bytes. The plugin's own bound is Options.MaxPasswordBytes.
const MaxPasswordLen = 1024

// bcryptMaxPassword is where bcrypt stops reading a password.
const bcryptMaxPassword = 72

// verify reports whether password matches the parsed hash, in constant
// time for a given hash. Callers bound the password's length first.
func (ph *parsedHash) verify(password string) bool {
	var computed string
	switch ph.scheme {
	case SchemeBcrypt:
		pw := []byte(password)
		if len(pw) > bcryptMaxPassword {
			pw = pw[:bcryptMaxPassword] // what Apache's crypt_blowfish does
		}
		return bcrypt.CompareHashAndPassword([]byte("$2a$"+ph.hash[4:]), pw) == nil
	case SchemeAPR1:
		computed = passhash.MD5Crypt(password, ph.salt, "$apr1$")
	case SchemeMD5Crypt:
		computed = passhash.MD5Crypt(password, ph.salt, "$1$")
	case SchemeSHA256:
		computed = sha256Crypt.crypt(password, ph.salt, ph.cost, ph.explicitRounds)
	case SchemeSHA512:
		computed = sha512Crypt.crypt(password, ph.salt, ph.cost, ph.explicitRounds)
	case SchemeSHA:
		sum := sha1.Sum([]byte(password))
		computed = "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
	case SchemeCrypt:
		computed = desCrypt(password, ph.salt)
	case SchemePlain:
		computed = password
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(computed), []byte(ph.hash)) == 1
}

// SchemeOf returns the scheme name of a hash ("bcrypt", "apr1", ...), or
// "" when it is not a well-formed hash of a known scheme. Clear text is
// never recognised.
func SchemeOf(hash string) string {
	ph, err := parseHash(hash)
	if err != nil {
		return ""
	}
	return ph.scheme
}

// Verify reports whether password matches hash, a hash of any scheme
// but clear text (which it cannot tell from a hash). The comparison is in
// constant time; a password longer than MaxPasswordLen never matches. It
// returns ErrUnknownScheme or ErrMalformedHash (wrapped) when hash is not
// a well-formed hash of a known scheme.
func Verify(hash, password string) (bool, error) {
	ph, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	return ph.verify(password), nil
}

// Hash hashes password with scheme (one of Schemes) and a random salt,
// with the default cost: bcrypt cost 10, SHA-crypt 5000 rounds. "crypt"
// keeps only the first 8 bytes of the password, and "plain" returns it
// unchanged; both are insecure and exist for compatibility.
func Hash(scheme, password string) (string, error) {
	return HashCost(scheme, password, 0)
}

// HashCost is Hash with a cost: the bcrypt cost (4..17) for "bcrypt", the
// rounds (1000..1000000) for "sha256" and "sha512", written into the
// hash as "rounds=N$". Zero means the default; other schemes take no cost.
// bcrypt refuses passwords longer than 72 bytes, every scheme those
// longer than MaxPasswordLen.
func HashCost(scheme, password string, cost int) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("htpasswd: password longer than %d bytes", MaxPasswordLen)
	}
	switch scheme {
	case SchemeBcrypt:
		if cost == 0 {
			cost = DefaultBcryptCost
		}
		if cost < bcrypt.MinCost || cost > passhash.MaxBcryptCost {
			return "", fmt.Errorf("htpasswd: bcrypt cost %d outside %d..%d", cost, bcrypt.MinCost, passhash.MaxBcryptCost)
		}
		b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
		if err != nil {
			return "", fmt.Errorf("htpasswd: %w", err)
		}
		return "$2y$" + string(b[4:]), nil // as Apache writes it
	case SchemeSHA256, SchemeSHA512:
		v := sha256Crypt
		if scheme == SchemeSHA512 {
			v = sha512Crypt
		}
		if cost == 0 {
			return v.crypt(password, randomSalt(shaSaltMax), shaRoundsDefault, false), nil
		}
		if cost < shaRoundsMin || cost > passhash.MaxRounds {
			return "", fmt.Errorf("htpasswd: %s rounds %d outside %d..%d", scheme, cost, shaRoundsMin, passhash.MaxRounds)
		}
		return v.crypt(password, randomSalt(shaSaltMax), cost, true), nil
	}
	if cost != 0 {
		return "", fmt.Errorf("htpasswd: scheme %q takes no cost", scheme)
	}
	switch scheme {
	case SchemeAPR1:
		return passhash.MD5Crypt(password, randomSalt(8), "$apr1$"), nil
	case SchemeMD5Crypt:
		return passhash.MD5Crypt(password, randomSalt(8), "$1$"), nil
	case SchemeSHA:
		sum := sha1.Sum([]byte(password))
		return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:]), nil
	case SchemeCrypt:
		return desCrypt(password, randomSalt(2)), nil
	case SchemePlain:
		switch {
		case strings.ContainsAny(password, "\r\n"):
			return "", errors.New("htpasswd: a plain-text password cannot hold a line break")
		case password != strings.TrimRight(password, " \t"):
			return "", errors.New("htpasswd: a plain-text password cannot end with a space (lines are trimmed)")
		case password == "" || passhash.LooksLikeHash(password):
			return "", errors.New("htpasswd: this plain-text password would never match (it is empty or looks like a hash)")
		}
		return password, nil
	}
	return "", fmt.Errorf("%w %q (known: %s)", ErrUnknownScheme, scheme, strings.Join(Schemes(), ", "))
}

// randomSalt returns n random characters of the crypt alphabet.
func randomSalt(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = passhash.CryptAlphabet[b[i]&0x3f]
	}
	return string(b)
}

// work estimates the time one check of a hash of scheme and cost takes,
// in microseconds of one 2020s server core (measured with
// BenchmarkAuthenticate). Only the order matters: the fake hash of
// unknown users is the costliest the file holds.
func work(scheme string, cost int) float64 {
	switch scheme {
	case SchemeBcrypt:
		return 55 * float64(uint64(1)<<min(cost, 31))
	case SchemeSHA512:
		return 0.22 * float64(cost)
	case SchemeSHA256:
		return 0.11 * float64(cost)
	case SchemeAPR1, SchemeMD5Crypt:
		return 145
	case SchemeCrypt:
		return 36
	case SchemeSHA:
		return 0.3
	default: // plain
		return 0.1
	}
}

// costKey names a scheme and cost, for the fake hash of unknown users.
func costKey(scheme string, cost int) string { return scheme + "/" + strconv.Itoa(cost) }
