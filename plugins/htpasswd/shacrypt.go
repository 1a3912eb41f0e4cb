package htpasswd

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
	"strings"

	"github.com/gowho/gowho/internal/passhash"
)

// SHA-crypt rounds, from Ulrich Drepper's specification
// (https://www.akkadia.org/drepper/SHA-crypt.txt).
const (
	shaRoundsDefault = 5000
	shaRoundsMin     = 1000
	shaRoundsMax     = 999999999
	shaSaltMax       = 16
)

// shaCryptVariant is SHA-256-crypt ("$5$") or SHA-512-crypt ("$6$").
type shaCryptVariant struct {
	magic string
	new   func() hash.Hash
	size  int
	perm  [][3]int // byte triples encoded four characters each
	tail  []int    // the last bytes, fewer characters
}

var sha256Crypt = &shaCryptVariant{
	magic: "$5$",
	new:   sha256.New,
	size:  32,
	perm: [][3]int{
		{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
	},
	tail: []int{31, 30}, // b64_from_24bit(0, [31], [30], 3)
}

var sha512Crypt = &shaCryptVariant{
	magic: "$6$",
	new:   sha512.New,
	size:  64,
	perm: [][3]int{
		{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
		{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
		{62, 20, 41},
	},
	tail: []int{63}, // b64_from_24bit(0, 0, [63], 2)
}

// encodedLen is the length of the encoded digest.
func (v *shaCryptVariant) encodedLen() int {
	if v.size == 32 {
		return 43
	}
	return 86
}

// crypt computes the hash of password with salt (at most 16 characters,
// no '$') and rounds; explicit says whether "rounds=N$" is written.
func (v *shaCryptVariant) crypt(password, salt string, rounds int, explicit bool) string {
	pw := []byte(password)
	s := []byte(salt)

	// Digest B: password, salt, password.
	b := v.new()
	b.Write(pw)
	b.Write(s)
	b.Write(pw)
	sumB := b.Sum(nil)

	// Digest A.
	a := v.new()
	a.Write(pw)
	a.Write(s)
	n := len(pw)
	for ; n > v.size; n -= v.size {
		a.Write(sumB)
	}
	a.Write(sumB[:n])
	for n = len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(sumB)
		} else {
			a.Write(pw)
		}
	}
	sumA := a.Sum(nil)

	// Digest DP and the byte sequence P.
	dp := v.new()
	for range len(pw) {
		dp.Write(pw)
	}
	sumDP := dp.Sum(nil)
	p := make([]byte, 0, len(pw))
	for n = len(pw); n > v.size; n -= v.size {
		p = append(p, sumDP...)
	}
	p = append(p, sumDP[:n]...)

	// Digest DS and the byte sequence S.
	ds := v.new()
	for range 16 + int(sumA[0]) {
		ds.Write(s)
	}
	sumDS := ds.Sum(nil)
	sq := make([]byte, 0, len(s))
	for n = len(s); n > v.size; n -= v.size {
		sq = append(sq, sumDS...)
	}
	sq = append(sq, sumDS[:n]...)

	// The rounds.
	c := sumA
	h := v.new()
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sq)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	out := make([]byte, 0, len(v.magic)+len("rounds=999999999$")+len(s)+1+v.encodedLen())
	out = append(out, v.magic...)
	if explicit {
		out = append(out, "rounds="...)
		out = strconv.AppendInt(out, int64(rounds), 10)
		out = append(out, '$')
	}
	out = append(out, s...)
	out = append(out, '$')
	for _, t := range v.perm {
		out = passhash.B64From24(out, c[t[0]], c[t[1]], c[t[2]], 4)
	}
	if len(v.tail) == 2 {
		out = passhash.B64From24(out, 0, c[v.tail[0]], c[v.tail[1]], 3)
	} else {
		out = passhash.B64From24(out, 0, 0, c[v.tail[0]], 2)
	}
	return string(out)
}

// parse checks "$5$[rounds=N$]salt$hash" and returns its parameters.
// Rounds outside 1000..999999999 are refused, as libxcrypt (and so
// Apache on Debian) refuses them.
func (v *shaCryptVariant) parse(h string) (salt string, rounds int, explicit, ok bool) {
	rest, found := strings.CutPrefix(h, v.magic)
	if !found {
		return "", 0, false, false
	}
	rounds = shaRoundsDefault
	if r, found := strings.CutPrefix(rest, "rounds="); found {
		num, after, found := strings.Cut(r, "$")
		if !found || num == "" || len(num) > 9 || strings.Trim(num, "0123456789") != "" || num[0] == '0' {
			return "", 0, false, false
		}
		rounds, _ = strconv.Atoi(num)
		if rounds < shaRoundsMin || rounds > shaRoundsMax {
			return "", 0, false, false
		}
		explicit = true
		rest = after
	}
	salt, sum, found := strings.Cut(rest, "$")
	if !found || len(salt) > shaSaltMax || len(sum) != v.encodedLen() || !passhash.IsCryptChars(sum) ||
		strings.ContainsAny(salt, ":\x00") {
		return "", 0, false, false
	}
	return salt, rounds, explicit, true
}
