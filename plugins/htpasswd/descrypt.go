package htpasswd

import "github.com/gowho/gowho/internal/passhash"

// Traditional Unix DES crypt(3): the first 8 bytes of the password, each
// shifted left one bit, are the DES key; a zero block is encrypted 25
// times with a DES whose E expansion is perturbed by the 12-bit salt (salt
// bit i set: E-output bits i and i+24 are swapped); the salt's two
// characters and the 64-bit result in 11 characters make the 13-character
// hash. The standard library's DES has no salt hook, so the cipher is
// written out here, from FIPS 46-3 tables. Bits are numbered from the
// most significant, as in the standard (bit 1 is the top bit).

// desIP is the initial permutation.
var desIP = [64]uint8{
	58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
	62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
	57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
	61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
}

// desFP is the final permutation (the inverse of desIP).
var desFP = [64]uint8{
	40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
	38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
	36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
	34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
}

// desE is the expansion of the 32-bit half block to 48 bits.
var desE = [48]uint8{
	32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9,
	8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
	16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
	24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
}

// desP is the permutation of the S-box outputs.
var desP = [32]uint8{
	16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
	2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
}

// desPC1 selects 56 key bits.
var desPC1 = [56]uint8{
	57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
	10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
	63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
	14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
}

// desPC2 selects the 48-bit round key.
var desPC2 = [48]uint8{
	14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
	23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
	41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
	44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
}

// desShifts is the left rotation of each round's key halves.
var desShifts = [16]uint8{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}

// desS are the eight S-boxes, each indexed by row*16+column.
var desS = [8][64]uint8{
	{14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
		0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
		4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
		15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13},
	{15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
		3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
		0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
		13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9},
	{10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
		13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
		13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
		1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12},
	{7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
		13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
		10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
		3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14},
	{2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
		14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
		4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
		11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3},
	{12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
		10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
		9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
		4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13},
	{4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
		13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
		1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
		6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12},
	{13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
		1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
		7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
		2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11},
}

// permute returns the bits of in (an inBits-bit value, bit 1 the top) in
// the order table gives, as a len(table)-bit value.
func permute(in uint64, inBits int, table []uint8) uint64 {
	var out uint64
	for _, pos := range table {
		out = out<<1 | (in>>(uint(inBits)-uint(pos)))&1
	}
	return out
}

// desSubkeys returns the 16 48-bit round keys of a 64-bit key.
func desSubkeys(key uint64) [16]uint64 {
	var ks [16]uint64
	cd := permute(key, 64, desPC1[:])
	c, d := uint32(cd>>28)&0x0fffffff, uint32(cd)&0x0fffffff
	rot := func(x uint32, n uint8) uint32 { return (x<<n | x>>(28-n)) & 0x0fffffff }
	for i, s := range desShifts {
		c, d = rot(c, s), rot(d, s)
		ks[i] = permute(uint64(c)<<28|uint64(d), 56, desPC2[:])
	}
	return ks
}

// desSaltMask turns a 12-bit salt into a 48-bit mask of E-output bits to
// swap with the bit 24 places further: salt bit 0 is E-output bit 1 (the
// top bit of the 48), so its mask bit is 1<<47.
func desSaltMask(salt uint32) uint64 {
	var m uint64
	for i := range 12 {
		if salt>>uint(i)&1 != 0 {
			m |= 1 << uint(47-i)
		}
	}
	return m
}

// desEncrypt encrypts block with the round keys, the E expansion perturbed
// by saltMask.
func desEncrypt(block uint64, ks *[16]uint64, saltMask uint64) uint64 {
	lr := permute(block, 64, desIP[:])
	l, r := uint32(lr>>32), uint32(lr)
	for i := range 16 {
		e := permute(uint64(r), 32, desE[:])
		// Swap bits i and i+24 of the 48 where the salt says so.
		hi, lo := e>>24&0xffffff, e&0xffffff
		f := (hi ^ lo) & (saltMask >> 24)
		e = (hi^f)<<24 | (lo ^ f)
		e ^= ks[i]
		var s uint32
		for j := range 8 {
			six := uint8(e >> uint(42-6*j) & 0x3f)
			row := six>>4&2 | six&1
			col := six >> 1 & 0xf
			s = s<<4 | uint32(desS[j][row*16+col])
		}
		fr := uint32(permute(uint64(s), 32, desP[:]))
		l, r = r, l^fr
	}
	return permute(uint64(r)<<32|uint64(l), 64, desFP[:])
}

// desCrypt is traditional crypt(3) with a two-character salt from the
// crypt alphabet; it returns the 13-character hash. The caller checks the
// salt.
func desCrypt(password, salt string) string {
	var key uint64
	for i := range 8 {
		key <<= 8
		if i < len(password) {
			key |= uint64(password[i] << 1)
		}
	}
	// A NUL byte ends the password in C.
	for i := 0; i < len(password) && i < 8; i++ {
		if password[i] == 0 {
			key &^= (1<<(uint(8-i)*8) - 1)
			break
		}
	}
	ks := desSubkeys(key)
	s := uint32(passhash.CryptIndex[salt[0]]) | uint32(passhash.CryptIndex[salt[1]])<<6
	mask := desSaltMask(s)
	var block uint64
	for range 25 {
		block = desEncrypt(block, &ks, mask)
	}
	out := make([]byte, 0, 13)
	out = append(out, salt[0], salt[1])
	for i := range 10 {
		out = append(out, passhash.CryptAlphabet[block>>uint(58-6*i)&0x3f])
	}
	out = append(out, passhash.CryptAlphabet[block<<2&0x3f])
	return string(out)
}
