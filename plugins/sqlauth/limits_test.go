package sqlauth

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// cheapFake makes the fake hash checked before any row is seen bcrypt's
// cheapest, for tests of other things (the default is cost 10: slow under
// -race).
func cheapFake(p *Plugin) *Plugin {
	p.fake.Store(newFake(schemeBcrypt, 4, -1))
	return p
}

// hashShaped are stored values of schemes sqlauth does not check: with
// allow_plain they must not log in with the stored string itself.
var hashShaped = []string{
	"{MD5}X03MO1qnZdYdgyfeuILPmQ==",
	"{CRYPT}$6$salt$abc",
	"{ARGON2}$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
	"{SMD5}abcdefgh",
	"{PBKDF2-SHA256}10000$c2FsdA$aGFzaA",
	"{SHA256.HEX}5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
	"{BLF_CRYPT}$2y$05$abc",
	"abJnggxhB/yWI", // DES crypt of "x"
	"$6$saltsalt$invalid",
	"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
	"$ecret",
}

// TestHashShapedNeverPlain: with allow_plain, a value shaped like a hash
// of a scheme sqlauth does not know never matches, not even the stored
// string itself; clear text still does.
func TestHashShapedNeverPlain(t *testing.T) {
	t.Parallel()
	for _, v := range hashShaped {
		if Compare(v, v, true) {
			t.Errorf("Compare(%q, itself, allowPlain) = true: a hash read as clear text", v)
		}
	}
	for _, v := range []string{"bob-pass", "correct horse", "{not a scheme", "abcdefghijkl", "abcdefghijklmn", "a$b$c"} {
		if !Compare(v, v, true) {
			t.Errorf("clear text %q refused with allowPlain", v)
		}
		if Compare(v, v, false) {
			t.Errorf("clear text %q accepted without allowPlain", v)
		}
	}
	// Through the plugin, as the repoze.who alias configures it.
	_, db := openDB(t)
	for i, v := range hashShaped {
		if _, err := db.Exec("INSERT INTO users VALUES (?, ?, ?)", 100+i, fmt.Sprintf("hash%d", i), v); err != nil {
			t.Fatal(err)
		}
	}
	p, err := New(Options{DB: db, Query: authQuery, AllowPlain: true})
	if err != nil {
		t.Fatal(err)
	}
	cheapFake(p)
	for i, v := range hashShaped {
		if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: fmt.Sprintf("hash%d", i), who.KeyPassword: v}); uid != "" || err != nil {
			t.Errorf("stored %q logs in with itself: %q %v", v, uid, err)
		}
	}
}

// TestReposeAliasAllowPlain: the repoze.who alias defaults allow_plain to
// true (its default_password_compare compared clear text) but an explicit
// allow_plain = false holds.
func TestReposeAliasAllowPlain(t *testing.T) {
	t.Parallel()
	path, _ := openDB(t)
	dir, file := filepath.Split(path)
	base := fmt.Sprintf("driver = \"sqlite\"\ndsn = %q\nquery = %q\n", file, authQuery)
	tests := []struct {
		name, use, extra string
		bob              string // bob's uid with his clear-text password
	}{
		{"alias default", aliasAuth, "", "2"},
		{"alias, allow_plain = false", aliasAuth, "allow_plain = false\n", ""},
		{"alias, allow_plain = true", aliasAuth, "allow_plain = true\n", "2"},
		{"sqlauth default", "sqlauth", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := whotest.Spec(t, base+tt.extra)
			spec.Use, spec.Dir = tt.use, dir
			v, err := factory(spec)
			if err != nil {
				t.Fatal(err)
			}
			p := cheapFake(v.(*Plugin))
			defer p.Close()
			uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: "bob", who.KeyPassword: "bob-pass"})
			if err != nil || uid != tt.bob {
				t.Errorf("bob: %q %v, want %q", uid, err, tt.bob)
			}
			uid, err = p.Authenticate(req(), who.Identity{who.KeyLogin: "frank", who.KeyPassword: "$6$saltsalt$invalid"})
			if err != nil || uid != "" {
				t.Errorf("frank with his stored hash: %q %v", uid, err)
			}
		})
	}
}

// TestMaxPasswordBytes: a password over max_password_bytes is "no" with
// neither a query nor a hash; one of exactly that length is checked.
func TestMaxPasswordBytes(t *testing.T) {
	t.Parallel()
	_, db := openDB(t)
	for _, tt := range []struct {
		name string
		max  int
		n    int
	}{
		{"default", 0, who.DefaultMaxPasswordBytes},
		{"small", 16, 16},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			atMax := strings.Repeat("p", tt.n)
			p, err := New(Options{DB: db, Query: authQuery, AllowPlain: true, MaxPasswordBytes: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO users VALUES (?, ?, ?)", 200+tt.n, "long"+tt.name, atMax); err != nil {
				t.Fatal(err)
			}
			if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: "long" + tt.name, who.KeyPassword: atMax}); uid == "" || err != nil {
				t.Errorf("password of %d bytes refused: %v", tt.n, err)
			}
			// The query would fail: an error would show that it ran.
			bad, err := New(Options{DB: db, Query: "SELECT id, password FROM no_such_table WHERE login = :login", MaxPasswordBytes: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			for _, pw := range []string{atMax + "p", strings.Repeat("p", 1<<20)} {
				if uid, err := bad.Authenticate(req(), who.Identity{who.KeyLogin: "alice", who.KeyPassword: pw}); uid != "" || err != nil {
					t.Errorf("password of %d bytes: %q %v, want a plain no without a query", len(pw), uid, err)
				}
			}
			if n := bad.hashes.Load(); n != 0 {
				t.Errorf("%d over-long passwords hashed", n)
			}
		})
	}
	if _, err := New(Options{DB: db, Query: authQuery, MaxPasswordBytes: -1}); err == nil {
		t.Error("max_password_bytes = -1 accepted")
	}
}

// TestUnknownUserChecksFake: every login that finds no usable row is
// checked against the fake hash, which becomes as costly as the costliest
// stored value seen (bcrypt cost 10 before any row).
func TestUnknownUserChecksFake(t *testing.T) {
	t.Parallel()
	_, db := openDB(t)
	if _, err := db.Exec("INSERT INTO users VALUES (9, 'ivan', ?), (10, 'nouid', 'x')",
		"$2y$05$Cf/mnpVVPSJZ.Jcvq/DKEebS/4TDoCoLcJUKtOZ.WmwP2N0io3.Ce"); err != nil { // htpasswd -nbB -C 5
		t.Fatal(err)
	}
	// A query that may return a NULL id.
	p, err := New(Options{DB: db, Query: "SELECT CASE login WHEN 'nouid' THEN NULL ELSE id END, password FROM users WHERE login = :login"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		login   string
		fake    bool   // checked against the fake
		scheme  scheme // the fake after the step
		cost    int
		comment string
	}{
		{"nobody", true, schemeBcrypt, DefaultFakeCost, "no row before any row seen: bcrypt 10"},
		{"dave", false, schemeAPR1, 0, "the first row seen sets the fake"},
		{"nobody", true, schemeAPR1, 0, "no row"},
		{"alice", false, schemeAPR1, 0, "{SHA} hex is cheaper than apr1"},
		{"carol", false, schemeBcrypt, 4, "bcrypt 4 is costlier"},
		{"ivan", false, schemeBcrypt, 5, "bcrypt 5 costlier still"},
		{"carol", false, schemeBcrypt, 5, "a cheaper row changes nothing"},
		{"frank", true, schemeBcrypt, 5, "unsupported scheme"},
		{"grace", true, schemeBcrypt, 5, "empty password"},
		{"bob", true, schemeBcrypt, 5, "clear text without allow_plain"},
		{"nouid", true, schemeBcrypt, 5, "NULL userid"},
		{"nobody", true, schemeBcrypt, 5, "no row"},
	}
	fakes := int64(0)
	for i, st := range steps {
		if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: st.login, who.KeyPassword: "wrong"}); uid != "" || err != nil {
			t.Fatalf("step %d %s: %q %v", i, st.login, uid, err)
		}
		if st.fake {
			fakes++
		}
		if n := p.fakeChecks.Load(); n != fakes {
			t.Errorf("step %d (%s): %d fake checks, want %d", i, st.comment, n, fakes)
		}
		if n := p.hashes.Load(); n != int64(i+1) {
			t.Errorf("step %d (%s): %d checks, want %d", i, st.comment, n, i+1)
		}
		f := p.fake.Load()
		if f.scheme != st.scheme || f.cost != st.cost {
			t.Errorf("step %d (%s): fake %v/%d, want %v/%d", i, st.comment, f.scheme, f.cost, st.scheme, st.cost)
		}
		if sc, c := classify(f.stored, rules{saltedHex: true}); sc != f.scheme || c != f.cost {
			t.Errorf("step %d: the fake %q is %v/%d, not %v/%d", i, f.stored, sc, c, f.scheme, f.cost)
		}
	}
}

// TestTimingMedians measures, by hand, the medians of 200 wrong passwords
// for a known user and 200 logins of an unknown one, interleaved:
//
//	GOWHO_MEASURE=1 go test -run TestTimingMedians -v ./plugins/sqlauth/
//
// GOWHO_MEASURE_COST is the bcrypt cost of the users (default 10). It
// asserts nothing about the figures; TestUnknownUserChecksFake is the
// deterministic check.
func TestTimingMedians(t *testing.T) {
	if os.Getenv("GOWHO_MEASURE") != "1" {
		t.Skip("set GOWHO_MEASURE=1 to measure")
	}
	cost := 10
	if c := os.Getenv("GOWHO_MEASURE_COST"); c != "" {
		fmt.Sscan(c, &cost)
	}
	path := filepath.Join(t.TempDir(), "users.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT UNIQUE, password TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		// Rewriting the fake's cost gives a valid hash of that cost.
		if _, err := db.Exec("INSERT INTO users VALUES (?, ?, ?)", i, fmt.Sprintf("user%d", i), fakeStored(schemeBcrypt, cost)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := New(Options{Driver: "sqlite", DSN: path, Query: authQuery})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	known := who.Identity{who.KeyLogin: "user42", who.KeyPassword: "wrong-password"}
	unknown := who.Identity{who.KeyLogin: "nosuchuser", who.KeyPassword: "wrong-password"}
	_, _ = p.Authenticate(req(), known) // a row seen, as in production
	dk, du := make([]time.Duration, 200), make([]time.Duration, 200)
	for i := range dk {
		start := time.Now()
		_, _ = p.Authenticate(req(), known)
		dk[i] = time.Since(start)
		start = time.Now()
		_, _ = p.Authenticate(req(), unknown)
		du[i] = time.Since(start)
	}
	slices.Sort(dk)
	slices.Sort(du)
	t.Logf("bcrypt cost %d: wrong password %v, unknown user %v, ratio %.3f", cost, dk[100], du[100],
		float64(du[100])/float64(dk[100]))
}
