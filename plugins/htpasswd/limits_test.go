package htpasswd

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/passhash"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
	"golang.org/x/crypto/bcrypt"
)

// TestMaxPasswordBytes: a password longer than max_password_bytes is "no"
// without being hashed, for a known and an unknown user; one of exactly
// that length is checked.
func TestMaxPasswordBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		max  int // Options.MaxPasswordBytes
		n    int // the effective bound
	}{
		{"default", 0, who.DefaultMaxPasswordBytes},
		{"small", 16, 16},
		{"above Verify's bound", 2000, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			atMax := strings.Repeat("p", tt.n)
			sum := sha1.Sum([]byte(atMax)) // Hash takes at most MaxPasswordLen bytes
			hAt := "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
			hOver, err := Hash(SchemeSHA, "any") // never reached
			if err != nil {
				t.Fatal(err)
			}
			p := mustNew(t, Options{Filename: writeFile(t, "at:"+hAt+"\nover:"+hOver+"\n"), MaxPasswordBytes: tt.max})
			if got := auth(t, p, creds("at", atMax)); got != "at" {
				t.Errorf("password of %d bytes refused", tt.n)
			}
			if n := p.hashes.Load(); n != 1 {
				t.Fatalf("%d hashes for one check", n)
			}
			for _, user := range []string{"at", "over", "unknown"} {
				if got := auth(t, p, creds(user, atMax+"p")); got != "" {
					t.Errorf("%s: password of %d bytes accepted", user, tt.n+1)
				}
			}
			if got := auth(t, p, creds("unknown", strings.Repeat("p", 1<<20))); got != "" {
				t.Error("1 MiB password accepted")
			}
			if n := p.hashes.Load(); n != 1 {
				t.Errorf("over-long passwords were hashed: %d hashes, want 1", n)
			}
		})
	}
	if _, err := New(Options{Filename: writeFile(t, ""), MaxPasswordBytes: -1}); !errors.Is(err, ErrBadMaxPasswordBytes) {
		t.Errorf("max_password_bytes = -1: %v", err)
	}
}

// TestFakeHashIsCostliest: an unknown user is checked against a fake hash
// of the costliest scheme and cost in the file, however few lines use it,
// so that no user is faster to refuse than an unknown one.
func TestFakeHashIsCostliest(t *testing.T) {
	t.Parallel()
	h := func(scheme string, cost int) string {
		s, err := HashCost(scheme, "pw", cost)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	apr, sha, des := h(SchemeAPR1, 0), h(SchemeSHA, 0), h(SchemeCrypt, 0)
	tests := []struct {
		name   string
		hashes []string
		scheme string
		cost   int
	}{
		{"one bcrypt among apr1", []string{apr, apr, apr, h(SchemeBcrypt, 4)}, SchemeBcrypt, 4},
		{"higher bcrypt cost", []string{h(SchemeBcrypt, 4), h(SchemeBcrypt, 4), h(SchemeBcrypt, 5)}, SchemeBcrypt, 5},
		{"sha512 rounds among sha", []string{sha, sha, h(SchemeSHA512, 2000)}, SchemeSHA512, 2000},
		{"sha512 over sha256 of the same rounds", []string{h(SchemeSHA256, 3000), h(SchemeSHA512, 3000)}, SchemeSHA512, 3000},
		{"apr1 over DES", []string{des, des, apr}, SchemeAPR1, 0},
		{"DES over sha", []string{sha, sha, des}, SchemeCrypt, 0},
		{"bcrypt 4 over apr1 and sha256", []string{apr, h(SchemeSHA256, 0), h(SchemeBcrypt, 4)}, SchemeBcrypt, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			for i, hash := range tt.hashes {
				fmt.Fprintf(&b, "u%d:%s\n", i, hash)
			}
			p := mustNew(t, Options{Filename: writeFile(t, b.String())})
			fake := p.tab.Load().fake
			if fake.scheme != tt.scheme || fake.cost != tt.cost {
				t.Errorf("fake hash %s/%d, want %s/%d", fake.scheme, fake.cost, tt.scheme, tt.cost)
			}
		})
	}
}

// TestExamplePasswd: examples/passwd holds one scheme (bcrypt, cost 10),
// so an unknown user costs what a known one does; the demo passwords
// still work.
func TestExamplePasswd(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{Filename: "../../examples/passwd"})
	want := map[string]string{"alice": "wonderland", "bob": "builder"}
	tab := p.tab.Load()
	for user, ph := range tab.users {
		if ph.scheme != SchemeBcrypt || ph.cost != DefaultBcryptCost {
			t.Errorf("%s: %s/%d, want bcrypt/%d", user, ph.scheme, ph.cost, DefaultBcryptCost)
		}
		if user != "bob" {
			continue // alice's line is unchanged; bcrypt 10 is slow under -race
		}
		if ok, err := Verify(ph.hash, want[user]); !ok || err != nil {
			t.Errorf("%s: demo password refused (%v)", user, err)
		}
	}
	if len(tab.users) != len(want) {
		t.Errorf("%d users, want %d", len(tab.users), len(want))
	}
}

// TestTimingMedians measures, by hand, the median time of 200 wrong
// passwords for known users and 200 logins of unknown users:
//
//	GOWHO_MEASURE=1 go test -run TestTimingMedians -v ./plugins/htpasswd/
//
// It reports the figures and asserts nothing about them (the machine may
// be loaded); the deterministic checks are TestUnknownUserChecksFakeHash
// and TestFakeHashIsCostliest. examples/passwd is bcrypt cost 10;
// GOWHO_MEASURE_COST sets the bcrypt cost of the mixed file (default 6).
// In the mixed file an apr1 user is refused faster than an unknown one:
// the fake hash costs what the costliest line costs.
func TestTimingMedians(t *testing.T) {
	if os.Getenv("GOWHO_MEASURE") != "1" {
		t.Skip("set GOWHO_MEASURE=1 to measure")
	}
	cost := 6
	if c := os.Getenv("GOWHO_MEASURE_COST"); c != "" {
		fmt.Sscan(c, &cost)
	}
	bc, _ := HashCost(SchemeBcrypt, "pw", cost)
	apr, _ := Hash(SchemeAPR1, "pw")
	sha, _ := Hash(SchemeSHA, "pw")
	files := []struct{ name, content, known string }{
		{"examples/passwd (bob)", "", "bob"},
		{"mixed, bcrypt user", "b:" + bc + "\na:" + apr + "\ns:" + sha + "\n", "b"},
		{"mixed, apr1 user (faster)", "b:" + bc + "\na:" + apr + "\ns:" + sha + "\n", "a"},
	}
	r := httptest.NewRequest("GET", "/", nil)
	// medians interleaves the two logins, so that a change of the
	// machine's load hits both alike.
	medians := func(p *Plugin, a, b who.Identity) (time.Duration, time.Duration) {
		da, db := make([]time.Duration, 200), make([]time.Duration, 200)
		for i := range da {
			start := time.Now()
			_, _ = p.Authenticate(r, a)
			da[i] = time.Since(start)
			start = time.Now()
			_, _ = p.Authenticate(r, b)
			db[i] = time.Since(start)
		}
		slices.Sort(da)
		slices.Sort(db)
		return da[len(da)/2], db[len(db)/2]
	}
	for _, f := range files {
		path := "../../examples/passwd"
		if f.content != "" {
			path = writeFile(t, f.content)
		}
		p := mustNew(t, Options{Filename: path})
		wrongPw, unknown := medians(p, creds(f.known, "wrong-password"), creds("nosuchuser", "wrong-password"))
		t.Logf("%-28s wrong password %10v  unknown user %10v  ratio %.3f", f.name, wrongPw, unknown,
			float64(unknown)/float64(wrongPw))
	}
}

// TestFakeHashCostsNothingToMake: the fake of a costly line is not hashed
// at that cost when the file is loaded (New, or a reload on a request's
// goroutine under the lock): it is made at the scheme's cheapest cost and
// given the line's. A bcrypt cost-31 line (hours per hash) or SHA-512 at
// 999999999 rounds (minutes) loads at once; only the checks pay.
func TestFakeHashCostsNothingToMake(t *testing.T) {
	t.Parallel()
	// Costly hashes made cheaply the same way: a valid hash of that
	// cost, of an unknown password.
	b4, _ := HashCost(SchemeBcrypt, "pw", bcrypt.MinCost)
	s1000, _ := HashCost(SchemeSHA512, "pw", shaRoundsMin)
	tests := []struct {
		name, hash, scheme string
		cost               int
	}{
		{"bcrypt 17", b4[:4] + "17" + b4[6:], SchemeBcrypt, passhash.MaxBcryptCost},
		{"sha512 1000000 rounds", strings.Replace(s1000, "rounds=1000$", "rounds=1000000$", 1), SchemeSHA512, passhash.MaxRounds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "u:"+tt.hash+"\n")
			type result struct {
				p   *Plugin
				err error
			}
			done := make(chan result, 1)
			go func() {
				p, err := New(Options{Filename: path})
				done <- result{p, err}
			}()
			var p *Plugin
			select {
			case r := <-done:
				if r.err != nil {
					t.Fatal(r.err)
				}
				p = r.p
			case <-time.After(time.Minute): // the fix loads in microseconds; without it, hours
				t.Fatalf("New still hashing the fake at %s/%d after a minute", tt.scheme, tt.cost)
			}
			fake := p.tab.Load().fake
			if fake.scheme != tt.scheme || fake.cost != tt.cost {
				t.Fatalf("fake %s/%d, want %s/%d", fake.scheme, fake.cost, tt.scheme, tt.cost)
			}
			if ph, err := parseHash(fake.hash); err != nil || ph.scheme != tt.scheme || ph.cost != tt.cost {
				t.Errorf("the fake %q parses as %s/%d (%v)", fake.hash, ph.scheme, ph.cost, err)
			}
		})
	}
	// At a cost one can check, the fake of every costed scheme keeps its
	// cost, parses as the real hash does, and matches nothing.
	for _, c := range []struct {
		scheme string
		cost   int
	}{{SchemeBcrypt, 5}, {SchemeSHA256, shaRoundsDefault}, {SchemeSHA512, 2000}} {
		real, err := HashCost(c.scheme, "pw", c.cost)
		if err != nil {
			t.Fatal(err)
		}
		p := mustNew(t, Options{Filename: writeFile(t, "u:"+real+"\n")})
		fake := p.tab.Load().fake
		if fake.scheme != c.scheme || fake.cost != c.cost {
			t.Errorf("%s/%d: fake %s/%d", c.scheme, c.cost, fake.scheme, fake.cost)
		}
		if fake.verify("pw") || fake.verify("") {
			t.Errorf("%s/%d: the fake matches a password", c.scheme, c.cost)
		}
	}
}

// TestHashShapedNeverPlain: with check_fn = "plain", a line whose value is
// shaped like a hash of a scheme htpasswd does not check (LDAP and
// Dovecot "{NAME}" prefixes included, whose names may hold "." and "_")
// never logs in with the stored string itself; clear text still does.
func TestHashShapedNeverPlain(t *testing.T) {
	t.Parallel()
	values := []string{
		"{MD5}X03MO1qnZdYdgyfeuILPmQ==",
		"{CRYPT}$6$salt$abc",
		"{SMD5}abcdefgh",
		"{PBKDF2-SHA256}10000$c2FsdA$aGFzaA",
		"{SHA256.HEX}5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
		"{SHA512.b64}c2VjcmV0",
		"{BLF_CRYPT}$2y$05$abc",
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
	}
	var file strings.Builder
	for i, v := range values {
		fmt.Fprintf(&file, "hash%d:%s\n", i, v)
	}
	file.WriteString("clear:{not a scheme\n")
	p := mustNew(t, Options{Filename: writeFile(t, file.String()), CheckFn: "plain"})
	for i, v := range values {
		if got := auth(t, p, creds(fmt.Sprintf("hash%d", i), v)); got != "" {
			t.Errorf("%q logged in with the stored value itself: a hash read as clear text", v)
		}
	}
	if got := auth(t, p, creds("clear", "{not a scheme")); got != "clear" {
		t.Errorf("clear text refused: got %q", got)
	}
}

// TestTooCostlyToCheck: a hash over passhash.MaxBcryptCost or
// passhash.MaxRounds (bcrypt allows 31, SHA-crypt 999999999 rounds:
// days and minutes of a core per check) is a bad line: one warning,
// its user never logs in, and the fake check of unknown users does not
// take its cost (it did: one such line made every unknown user's login
// take days).
func TestTooCostlyToCheck(t *testing.T) {
	t.Parallel()
	b4, _ := HashCost(SchemeBcrypt, "pw", bcrypt.MinCost)
	s1000, _ := HashCost(SchemeSHA512, "pw", shaRoundsMin)
	s256, _ := HashCost(SchemeSHA256, "pw", shaRoundsMin)
	tests := []struct{ name, hash, warning string }{
		{"bcrypt 18", b4[:4] + "18" + b4[6:], "bcrypt cost over 17"},
		{"bcrypt 31", b4[:4] + "31" + b4[6:], "bcrypt cost over 17"},
		{"sha512 1000001 rounds", strings.Replace(s1000, "rounds=1000$", "rounds=1000001$", 1), "SHA-crypt of more than 1000000 rounds"},
		{"sha256 999999999 rounds", strings.Replace(s256, "rounds=1000$", "rounds=999999999$", 1), "SHA-crypt of more than 1000000 rounds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseHash(tt.hash); !errors.Is(err, ErrMalformedHash) || !strings.Contains(err.Error(), tt.warning) {
				t.Fatalf("parseHash: %v, want ErrMalformedHash saying %q", err, tt.warning)
			}
			logs := &whotest.LogBuffer{}
			path := writeFile(t, "costly:"+tt.hash+"\nalice:"+b4+"\n")
			p, err := New(Options{Filename: path, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if out := logs.String(); !strings.Contains(out, tt.warning) || !strings.Contains(out, path+":1") {
				t.Errorf("no warning naming %s:1 and saying %q:\n%s", path, tt.warning, out)
			}
			if fake := p.tab.Load().fake; fake.scheme != SchemeBcrypt || fake.cost != bcrypt.MinCost {
				t.Errorf("fake %s/%d, want alice's bcrypt/%d", fake.scheme, fake.cost, bcrypt.MinCost)
			}
			for _, login := range []string{"costly", "nobody"} {
				if uid, err := p.Authenticate(httptest.NewRequest("GET", "/", nil), who.Identity{who.KeyLogin: login, who.KeyPassword: "pw"}); uid != "" || err != nil {
					t.Errorf("%s: %q, %v", login, uid, err)
				}
			}
		})
	}
	if _, err := HashCost(SchemeBcrypt, "pw", passhash.MaxBcryptCost+1); err == nil {
		t.Error("HashCost made a bcrypt hash no check reads")
	}
	if _, err := HashCost(SchemeSHA512, "pw", passhash.MaxRounds+1); err == nil {
		t.Error("HashCost made a SHA-crypt hash no check reads")
	}
}
