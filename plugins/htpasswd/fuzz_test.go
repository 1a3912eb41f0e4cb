package htpasswd

import (
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/passhash"
)

// FuzzParseLine checks that the line parser never panics, never reads a
// hash-shaped value as clear text, and only returns sane users.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"", "#c", "foo", ":x", "foo:", "foo:bar", "foo:bar:baz", "foo:abcdefghijklm",
		"alice:$apr1$fP.HTOpU$VMcL7jXbIgGuAmrlNRW4y.", "a:$apr1$fP.HTOpU$VMcL7jXbIgGuAmrlNRW4y.:extra",
		"a:$2y$05$rNlDRDg.sM9zUiyY03kuF.tZ6.MRj.LI7mAVrZUH0qG62Y5/uDfZO",
		"a:$5$rounds=12000$BXR5NVyJaEBWwpOP$ItUS3wbC7nXuhdbVxRezFlD6Z3DvzjtNDxC.r.lrPn7",
		"a:$6$rounds=1000$x$", "a:{SHA}pXcenXUnxGz6jD4dFmSXV63E49g=", "a:$1$$", "a:$argon2id$v=19$x\r",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, line string, allowPlain bool) {
		user, ph, err := parseLine(line, allowPlain)
		if err != nil {
			if user != "" || ph != nil {
				t.Fatalf("parseLine(%q): error %v with user %q", line, err, user)
			}
			return
		}
		if user == "" {
			if ph != nil {
				t.Fatalf("parseLine(%q): hash without user", line)
			}
			return
		}
		if strings.Contains(user, ":") || strings.HasPrefix(user, "#") || ph == nil || ph.hash == "" {
			t.Fatalf("parseLine(%q) = %q, %+v", line, user, ph)
		}
		if ph.scheme == SchemePlain {
			if !allowPlain {
				t.Fatalf("parseLine(%q): plain without allowPlain", line)
			}
			if passhash.LooksLikeHash(ph.hash) || passhash.IsDESHash(ph.hash) {
				t.Fatalf("parseLine(%q): hash-shaped value %q read as plain", line, ph.hash)
			}
		} else if SchemeOf(ph.hash) != ph.scheme {
			t.Fatalf("parseLine(%q): scheme %q but SchemeOf = %q", line, ph.scheme, SchemeOf(ph.hash))
		}
	})
}

// FuzzVerify checks that Verify never panics on any hash and password,
// and that every cheap scheme verifies what Hash makes.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		"", "x", "abcdefghijklm", "$apr1$fP.HTOpU$VMcL7jXbIgGuAmrlNRW4y.", "$1$$aaaaaaaaaaaaaaaaaaaaaa",
		"$2y$04$rNlDRDg.sM9zUiyY03kuF.tZ6.MRj.LI7mAVrZUH0qG62Y5/uDfZO",
		"$5$salt$" + strings.Repeat("a", 43), "$6$rounds=1000$salt$" + strings.Repeat("a", 86),
		"{SHA}pXcenXUnxGz6jD4dFmSXV63E49g=", "{SHA}", "$5$rounds=$x$y",
	} {
		f.Add(s, "alicepw")
	}
	f.Fuzz(func(t *testing.T, hash, password string) {
		if ph, err := parseHash(hash); err == nil {
			if ph.scheme == SchemeBcrypt && ph.cost > 5 || ph.cost > 1000 {
				t.Skip("too slow for fuzzing")
			}
		}
		_, _ = Verify(hash, password)
		if len(password) > 200 {
			return
		}
		// One cheap scheme per input keeps the fuzzer fast.
		schemes := []string{SchemeAPR1, SchemeMD5Crypt, SchemeSHA, SchemeSHA256, SchemeSHA512, SchemeCrypt}
		scheme := schemes[len(hash)%len(schemes)]
		cost := 0
		if scheme == SchemeSHA256 || scheme == SchemeSHA512 {
			cost = shaRoundsMin
		}
		h, err := HashCost(scheme, password, cost)
		if err != nil {
			t.Fatalf("HashCost(%s): %v", scheme, err)
		}
		if ok, err := Verify(h, password); !ok || err != nil {
			t.Fatalf("Verify(Hash(%s, %q)) = %v, %v", scheme, password, ok, err)
		}
	})
}
