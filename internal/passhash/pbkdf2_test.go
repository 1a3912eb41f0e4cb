package passhash

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// PBKDF2Vector is a passlib hash of a password, from
// testdata/passlib-pbkdf2.tsv.
type pbkdf2Vector struct{ password, hash, what string }

func pbkdf2Vectors(t *testing.T) []pbkdf2Vector {
	t.Helper()
	b, err := os.ReadFile("testdata/passlib-pbkdf2.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var out []pbkdf2Vector
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("testdata/passlib-pbkdf2.tsv:%d: want password, hash, what; got %d fields", i+1, len(f))
		}
		out = append(out, pbkdf2Vector{f[0], f[1], f[2]})
	}
	return out
}

// TestPBKDF2Vectors: the hashes python3-passlib made verify with their
// password, not with another, and render back as passlib wrote them.
func TestPBKDF2Vectors(t *testing.T) {
	t.Parallel()
	for _, v := range pbkdf2Vectors(t) {
		h, ok := ParsePBKDF2(v.hash)
		if !ok {
			t.Errorf("%s: ParsePBKDF2(%q) not ok", v.what, v.hash)
			continue
		}
		if !h.Verify(v.password) {
			t.Errorf("%s: the password does not verify", v.what)
		}
		if h.Verify(v.password+"x") || h.Verify(strings.ToUpper(v.password)) || h.Verify("") {
			t.Errorf("%s: a wrong password verifies", v.what)
		}
		if got := h.String(); got != v.hash {
			t.Errorf("%s: String() = %q, want %q", v.what, got, v.hash)
		}
	}
}

// TestParsePBKDF2 refuses what passlib's from_string refuses, and reads
// the fields of what it accepts.
func TestParsePBKDF2(t *testing.T) {
	t.Parallel()
	const salt = "zNn73zsHAMA4R2jtnRNCyA" // 16 bytes
	const sum512 = "Hj01mIT42YPwSGXdKpZaA45UF1jWjXmIxTUA918ktO/CdD.sjdYFesTj1dRPOL9hfK4x4BXrjA..Wy8P04LmLA"
	const sum1 = "COii4jHfoQRVwkDHy3HeBS63Blc"
	ok := []struct {
		h      string
		digest PBKDF2Digest
		rounds int
		salt   int
	}{
		{"$pbkdf2-sha512$25000$" + salt + "$" + sum512, PBKDF2SHA512, 25000, 16},
		{"$pbkdf2-sha512$4294967295$" + salt + "$" + sum512, PBKDF2SHA512, 1<<32 - 1, 16}, // passlib's max_rounds
		{"$pbkdf2-sha512$1$$" + sum512, PBKDF2SHA512, 1, 0},
		{"$pbkdf2-sha512$7$" + salt + "$" + strings.ReplaceAll(sum512, ".", "+"), PBKDF2SHA512, 7, 16}, // '+' for '.', as passlib
		{"$pbkdf2$131000$" + salt + "$" + sum1, PBKDF2SHA1, 131000, 16},
		{"$pbkdf2-sha256$29000$" + salt + "$naic.CpNvjtBiuYZXJRgDZZSuKlBE8ySHytk0.nPuI8", PBKDF2SHA256, 29000, 16},
	}
	for _, tc := range ok {
		h, good := ParsePBKDF2(tc.h)
		if !good || h.Digest != tc.digest || h.Rounds != tc.rounds || len(h.Salt) != tc.salt {
			t.Errorf("ParsePBKDF2(%q) = %v/%d/%d bytes %v, want %v/%d/%d bytes", tc.h, h.Digest, h.Rounds, len(h.Salt), good, tc.digest, tc.rounds, tc.salt)
		}
	}
	bad := map[string]string{
		"no checksum":           "$pbkdf2-sha512$25000$" + salt,
		"empty checksum":        "$pbkdf2-sha512$25000$" + salt + "$",
		"extra field":           "$pbkdf2-sha512$25000$" + salt + "$" + sum512 + "$",
		"sha1 sum as sha512":    "$pbkdf2-sha512$25000$" + salt + "$" + sum1,
		"sha512 sum as sha1":    "$pbkdf2$25000$" + salt + "$" + sum512,
		"truncated sum":         "$pbkdf2-sha512$25000$" + salt + "$" + sum512[:85],
		"zero rounds":           "$pbkdf2-sha512$0$" + salt + "$" + sum512,
		"zero-padded rounds":    "$pbkdf2-sha512$025000$" + salt + "$" + sum512,
		"negative rounds":       "$pbkdf2-sha512$-1$" + salt + "$" + sum512,
		"signed rounds":         "$pbkdf2-sha512$+25000$" + salt + "$" + sum512,
		"empty rounds":          "$pbkdf2-sha512$$" + salt + "$" + sum512,
		"rounds over 2^32-1":    "$pbkdf2-sha512$4294967296$" + salt + "$" + sum512,
		"huge rounds":           "$pbkdf2-sha512$99999999999999999999$" + salt + "$" + sum512,
		"hex rounds":            "$pbkdf2-sha512$0x10$" + salt + "$" + sum512,
		"padding":               "$pbkdf2-sha512$25000$" + salt + "==$" + sum512,
		"newline in salt":       "$pbkdf2-sha512$25000$zNn73zsH\nAMA4R2jtnRNCyA$" + sum512,
		"bad character":         "$pbkdf2-sha512$25000$zNn73zsH*MA4R2jtnRNCyA$" + sum512,
		"salt of 4n+1 chars":    "$pbkdf2-sha512$25000$abcde$" + sum512,
		"salt over 1024 bytes":  "$pbkdf2-sha512$1$" + strings.Repeat("AAAA", 342) + "$" + sum512,
		"unknown digest":        "$pbkdf2-sha384$25000$" + salt + "$" + sum512,
		"Django's format":       "pbkdf2_sha256$260000$salt$" + sum512,
		"LDAP prefix (not yet)": "{PBKDF2-SHA512}25000$" + salt + "$" + sum512,
		"empty":                 "",
	}
	for what, h := range bad {
		if p, ok := ParsePBKDF2(h); ok {
			t.Errorf("%s: ParsePBKDF2(%q) = %+v, want not ok", what, h, p)
		}
	}
}

// TestPBKDF2VerifyRefusesBadValues: a PBKDF2 built by hand with no rounds
// or a checksum of the wrong size never verifies (and does no work).
func TestPBKDF2VerifyRefusesBadValues(t *testing.T) {
	t.Parallel()
	for _, h := range []PBKDF2{
		{Digest: PBKDF2SHA1, Rounds: 0, Sum: make([]byte, 20)},
		{Digest: PBKDF2SHA1, Rounds: -5, Sum: make([]byte, 20)},
		{Digest: PBKDF2SHA512, Rounds: 1, Sum: make([]byte, 20)},
	} {
		if h.Verify("") || h.Verify("x") {
			t.Errorf("%+v verifies", h)
		}
	}
}

// FuzzParsePBKDF2: any string parses without panicking; what parses is
// within passlib's bounds and renders to a string that parses to the same
// value.
func FuzzParsePBKDF2(f *testing.F) {
	f.Add("$pbkdf2-sha512$25000$zNn73zsHAMA4R2jtnRNCyA$Hj01mIT42YPwSGXdKpZaA45UF1jWjXmIxTUA918ktO/CdD.sjdYFesTj1dRPOL9hfK4x4BXrjA..Wy8P04LmLA")
	f.Add("$pbkdf2$1$uncuxRhjTOn9v3dujZHyfg$COii4jHfoQRVwkDHy3HeBS63Blc")
	f.Add("$pbkdf2-sha256$4294967296$$naic.CpNvjtBiuYZXJRgDZZSuKlBE8ySHytk0.nPuI8")
	f.Add("$pbkdf2-sha512$1$\n$")
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := ParsePBKDF2(s)
		if !ok {
			return
		}
		if h.Rounds < 1 || h.Rounds > 1<<32-1 || len(h.Salt) > maxPBKDF2Salt || len(h.Sum) != pbkdf2Digests[h.Digest].size {
			t.Fatalf("%q parsed out of bounds: %+v", s, h)
		}
		if !strings.HasPrefix(s, h.Digest.Ident()) {
			t.Fatalf("%q parsed as %s", s, h.Digest.Ident())
		}
		h2, ok := ParsePBKDF2(h.String())
		if !ok || h2.Digest != h.Digest || h2.Rounds != h.Rounds || !bytes.Equal(h2.Salt, h.Salt) || !bytes.Equal(h2.Sum, h.Sum) {
			t.Fatalf("%q renders as %q, which parses to %+v %v", s, h.String(), h2, ok)
		}
	})
}
