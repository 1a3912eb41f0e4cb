package sqlauth

import (
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/passhash"
)

// FuzzCompile: the query rewriter never panics, and the placeholders it
// writes match the parameters it found.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{authQuery, "SELECT ':x', a::t FROM t WHERE a = :a -- :b\n AND b = :c", "/* :x */ :y", "'", "\"a\"\":b\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		c, err := compile(q, PlaceholderQuestion)
		if err != nil {
			return
		}
		if d, err := compile(q, PlaceholderDollar); err != nil || len(d.params) != len(c.params) {
			t.Fatalf("styles disagree: %v", err)
		}
		if n := strings.Count(c.sql, "?") - strings.Count(q, "?"); n != len(c.params) {
			t.Fatalf("%d placeholders for %d parameters: %q", n, len(c.params), c.sql)
		}
	})
}

// FuzzCompare: any stored value (a database row is untrusted input) is
// compared without panicking, and never matches without its password
// unless it is clear text; a hash-shaped value never matches itself; the
// fake hash of its scheme has the same scheme and cost. The same holds
// with salted_hex.
func FuzzCompare(f *testing.F) {
	for _, u := range users {
		f.Add(u.stored, u.login+"-pass")
	}
	for _, v := range hashShaped {
		f.Add(v, v)
	}
	f.Add("{SSHA}", "")
	f.Add("$apr1$", "x")
	for _, h := range fixedSaltedHex {
		f.Add(h.stored, h.password)
	}
	f.Add("$pbkdf2-sha512$10$zNn73zsHAMA4R2jtnRNCyA$Hj01mIT42YPwSGXdKpZaA45UF1jWjXmIxTUA918ktO/CdD.sjdYFesTj1dRPOL9hfK4x4BXrjA..Wy8P04LmLA", "ckan-pass")
	f.Add("$pbkdf2$1$uncuxRhjTOn9v3dujZHyfg$COii4jHfoQRVwkDHy3HeBS63Blc", "x")
	f.Add("$pbkdf2-sha256$4294967295$$naic.CpNvjtBiuYZXJRgDZZSuKlBE8ySHytk0.nPuI8", "x")
	f.Fuzz(func(t *testing.T, stored, pw string) {
		switch s, c := classify(stored, rules{}); {
		case s == schemeBcrypt && c > 6,
			(s == schemePBKDF2SHA1 || s == schemePBKDF2SHA256 || s == schemePBKDF2SHA512) && c > 2000:
			t.Skip("too slow for fuzzing")
		}
		if Compare(stored, pw, false) && Compare(stored, pw+"x", false) && !strings.HasPrefix(stored, "$2") {
			t.Fatalf("%q matches two passwords", stored)
		}
		// A hash-shaped value is never clear text: it never matches
		// itself, with or without allowPlain.
		if (passhash.LooksLikeHash(stored) || strings.HasPrefix(stored, "$")) && Compare(stored, stored, true) {
			t.Fatalf("hash-shaped %q matches itself", stored)
		}
		// The fake of a stored value's scheme is that scheme and cost.
		for _, r := range []rules{{}, {saltedHex: true}} {
			if s, c := classify(stored, r); s != schemeNone {
				if s2, c2 := classify(fakeStored(s, c), r); s2 != s || c2 != c {
					t.Fatalf("fake of %v/%d is %v/%d", s, c, s2, c2)
				}
				if s.check(stored, pw) && s.check(stored, pw+"x") && s != schemeBcrypt && s != schemePlain {
					t.Fatalf("%q (%v) matches two passwords", stored, s)
				}
			}
		}
	})
}
