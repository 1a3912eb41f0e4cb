package sqlauth

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/passhash"
	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// ckanQuery is CKAN's UsernamePasswordAuthenticator (CKAN <= 2.8) as a
// sqlauth query: User.by_name(login), then user.is_active() (state
// 'active'); it returned user.name, the userid column here.
const ckanQuery = `SELECT name, password FROM "user" WHERE name = :login AND state = 'active'`

// python runs a script under Debian's /usr/bin/python3 and returns its
// output lines; without python3-passlib the test is Missing.
func python(t *testing.T, script string) []string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import passlib.hash").Run(); err != nil {
		testserver.Missing(t, "%s cannot import passlib (%v): apt-get install python3-passlib", py, err)
	}
	out, err := exec.Command(py, "-c", script).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// liveHashes are hashes python3-passlib and hashlib make at test time,
// one per line: password, a tab, the stored value.
const liveHashes = `
import hashlib, os
from passlib.hash import pbkdf2_sha512, pbkdf2_sha256, pbkdf2_sha1
def ckan_sha1(pw):  # CKAN before passlib, model/user.py _set_password (Python 2: unicode.encode('ascii', 'ignore'))
    salt = hashlib.sha1(os.urandom(60)).hexdigest()
    return salt + hashlib.sha1(pw.encode('ascii', 'ignore') + salt.encode()).hexdigest()
def ckan_sha1_str(pw):  # the same, given a str (bytes) password: its UTF-8 bytes as they are
    salt = hashlib.sha1(os.urandom(60)).hexdigest()
    return salt + hashlib.sha1(pw.encode('utf-8') + salt.encode()).hexdigest()
def tg2(pw):  # TurboGears 2 quickstart, model/auth.py _hash_password
    salt = hashlib.sha256(os.urandom(60)).hexdigest()
    return salt + hashlib.sha256((pw + salt).encode('utf-8')).hexdigest()
for pw, h in [
    ("ckan-pass", pbkdf2_sha512.hash("ckan-pass")),
    ("low-rounds", pbkdf2_sha512.using(rounds=1000).hash("low-rounds")),
    ("sha256-pass", pbkdf2_sha256.hash("sha256-pass")),
    ("sha1-pass", pbkdf2_sha1.using(rounds=2000).hash("sha1-pass")),
    ("p\u00e4ss \u2603", pbkdf2_sha512.using(rounds=1000).hash("p\u00e4ss \u2603")),
    ("old-ckan", ckan_sha1("old-ckan")),
    ("\u00e4lt-ckan", ckan_sha1("\u00e4lt-ckan")),
    ("\u00e4lt-ckan-str", ckan_sha1_str("\u00e4lt-ckan-str")),
    ("tg-pass", tg2("tg-pass")),
    ("t\u00e9-g\u00e9", tg2("t\u00e9-g\u00e9")),
]:
    print(pw + "\t" + h)
`

type pwHash struct{ password, stored string }

func splitHashes(t *testing.T, lines []string) []pwHash {
	t.Helper()
	var out []pwHash
	for _, l := range lines {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) < 2 {
			t.Fatalf("want password, tab, hash: %q", l)
		}
		out = append(out, pwHash{f[0], f[1]})
	}
	return out
}

// fixedHashes are python3-passlib's vectors (internal/passhash/testdata)
// and hashlib-made salted hex of the shapes liveHashes makes, for when
// python3-passlib is absent (see testdata/README.md).
func fixedHashes(t *testing.T) []pwHash {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "passhash", "testdata", "passlib-pbkdf2.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	return append(splitHashes(t, strings.Split(string(b), "\n")), fixedSaltedHex...)
}

// fixedSaltedHex: older CKAN's and TurboGears 2's constructions with
// fixed salts (the commands are in testdata/README.md).
var fixedSaltedHex = []pwHash{
	{"old-ckan", "6200bbe5693538bc8c49b2782352a229d56e3f7fe7d2d6ca4f5e618fb3e75c99d5424c16bd0e7fa3"},
	{"\u00e4lt-ckan", "4fc5d28818e91ba27f19afabf9fef3b7c5881d213ea09c05e77187d19ecc7806979ee65cd8231379"},     // ascii, 'ignore'
	{"\u00e4lt-ckan-str", "8488612ded6810e51653dc0e680c804627891fbf8359553ba37e7b9c2921c2c8c72f9e363cab3026"}, // UTF-8
	{"tg-pass", "3605939a33d0c4e3aa774e122610c9bcce7a7ce1f4d912c3b506fa3f51ba71e4b7bc957336497ed90bece30241695cac559d7ffd6018d9cf79dfab8ba2d8843f"},
	{"t\u00e9-g\u00e9", "fd6e16f55eb30d764e9488011a2653f1c9a5df6bd4396e29c32a9b278f4e74ce4e2b89eb06d3af7fbef64b0020872c262b25a3083577845061d5e5e7fd6c0726"},
}

// TestPasslibHashes: hashes python3-passlib makes at test time (CKAN's
// pbkdf2_sha512 at its default and at low rounds, pbkdf2_sha256,
// pbkdf2 SHA-1, a non-ASCII password) and hashlib-made salted hex the
// way CKAN before passlib and TurboGears 2 made them match their password
// with salted_hex, and nothing else.
func TestPasslibHashes(t *testing.T) {
	t.Parallel()
	checkHashes(t, splitHashes(t, python(t, liveHashes)))
}

// TestFixedHashes: the same checks on hashes made once (testdata), which
// run without python3-passlib.
func TestFixedHashes(t *testing.T) {
	t.Parallel()
	checkHashes(t, fixedHashes(t))
}

func checkHashes(t *testing.T, hs []pwHash) {
	t.Helper()
	with := rules{saltedHex: true}
	for _, h := range hs {
		s, cost := classify(h.stored, with)
		if s == schemeNone {
			t.Errorf("%q: %q is of no scheme", h.password, h.stored)
			continue
		}
		if !s.check(h.stored, h.password) {
			t.Errorf("%q does not match %q", h.password, h.stored)
		}
		for _, wrong := range []string{"", h.password + "x", strings.ToUpper(h.password), h.password[:len(h.password)-1], h.stored} {
			if s.check(h.stored, wrong) {
				t.Errorf("%q matches %q, made for %q", wrong, h.stored, h.password)
			}
		}
		// The fake of its scheme and cost is of that scheme and cost.
		if s2, c2 := classify(fakeStored(s, cost), with); s2 != s || c2 != cost {
			t.Errorf("the fake of %v/%d is %v/%d", s, cost, s2, c2)
		}
		// PBKDF2 is read by its prefix, without salted_hex; salted hex only
		// with it, and never as clear text.
		if strings.HasPrefix(h.stored, "$pbkdf2") != Compare(h.stored, h.password, true) {
			t.Errorf("%q: Compare without salted_hex = %v", h.stored, !strings.HasPrefix(h.stored, "$pbkdf2"))
		}
		if Compare(h.stored, h.stored, true) {
			t.Errorf("%q matches itself with allowPlain", h.stored)
		}
	}
}

// ckanDB is a SQLite database with a CKAN-shaped "user" table: active
// users with the hashes of hs, in order, as "user0", "user1"…, and a
// deleted and a pending user with the first one's hash.
func ckanDB(t *testing.T, hs []pwHash) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ckan.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE "user" (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, password TEXT, email TEXT, state TEXT NOT NULL DEFAULT 'active')`); err != nil {
		t.Fatal(err)
	}
	ins := func(name, pw, state string) {
		if _, err := db.Exec(`INSERT INTO "user" (id, name, password, email, state) VALUES (?, ?, ?, ?, ?)`,
			"id-"+name, name, pw, name+"@example.org", state); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range hs {
		ins(fmt.Sprintf("user%d", i), h.stored, "active")
	}
	ins("gone", hs[0].stored, "deleted")
	ins("waiting", hs[0].stored, "pending")
	ins("nopass", "", "active")
	return path
}

// TestCKANTable logs in through sqlauth's factory, configured as the
// converter writes CKAN's authenticator (CKAN's query, salted_hex = true),
// on a CKAN-shaped "user" table of python3-passlib's hashes (fixed ones
// without it): the right password gives the user's name; a wrong one, a
// deleted or a pending user, no password or no user gives no one, and
// those without a usable row are checked against the fake.
func TestCKANTable(t *testing.T) {
	t.Parallel()
	hs := fixedHashes(t)
	if _, err := exec.Command("/usr/bin/python3", "-c", "import passlib.hash").Output(); err == nil {
		hs = splitHashes(t, python(t, liveHashes))
	}
	path := ckanDB(t, hs)
	spec := whotest.Spec(t, fmt.Sprintf("driver = \"sqlite\"\ndsn = %q\nquery = %q\nsalted_hex = true\n", path, ckanQuery))
	v, err := factory(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := cheapFake(v.(*Plugin))
	defer p.Close()
	login := func(name, pw string) string {
		t.Helper()
		uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: name, who.KeyPassword: pw})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return uid
	}
	for i, h := range hs {
		name := fmt.Sprintf("user%d", i)
		if uid := login(name, h.password); uid != name {
			t.Errorf("%s (%.20s…) with its password: %q, want %q", name, h.stored, uid, name)
		}
		if uid := login(name, h.password+"!"); uid != "" {
			t.Errorf("%s with a wrong password: %q", name, uid)
		}
	}
	fakes := p.fakeChecks.Load()
	for _, name := range []string{"gone", "waiting", "nopass", "nobody", "' OR state = 'deleted' --"} {
		if uid := login(name, hs[0].password); uid != "" {
			t.Errorf("%s logs in: %q", name, uid)
		}
	}
	if n := p.fakeChecks.Load() - fakes; n != 5 {
		t.Errorf("%d of 5 logins without a usable row checked against the fake", n)
	}
}

// TestSaltedHexOff: without salted_hex, 80 and 128 hex digits never
// match, neither as salted hex nor as clear text (allow_plain), and cost
// a fake check.
func TestSaltedHexOff(t *testing.T) {
	t.Parallel()
	path := ckanDB(t, fixedSaltedHex)
	for _, plain := range []bool{false, true} {
		p, err := New(Options{Driver: "sqlite", DSN: path, Query: ckanQuery, AllowPlain: plain})
		if err != nil {
			t.Fatal(err)
		}
		cheapFake(p)
		for i, h := range fixedSaltedHex {
			for _, pw := range []string{h.password, h.stored, strings.ToUpper(h.stored)} {
				id := who.Identity{who.KeyLogin: fmt.Sprintf("user%d", i), who.KeyPassword: pw}
				if uid, err := p.Authenticate(req(), id); uid != "" || err != nil {
					t.Errorf("allow_plain=%v: %q logs in with %q: %q %v", plain, h.stored, pw, uid, err)
				}
			}
		}
		if n, want := p.fakeChecks.Load(), int64(3*len(fixedSaltedHex)); n != want {
			t.Errorf("allow_plain=%v: %d fake checks, want %d", plain, n, want)
		}
		p.Close()
	}
	// Upper-case hex is not what hexdigest() wrote: no match with
	// salted_hex either, and not clear text.
	up := strings.ToUpper(fixedSaltedHex[0].stored)
	if s, _ := classify(up, rules{saltedHex: true}); s.check(up, fixedSaltedHex[0].password) || Compare(up, up, true) {
		t.Errorf("upper-case %q matches", up)
	}
}

// TestPBKDF2RoundsLimit: a hash of more than MaxPBKDF2Rounds rounds (up
// to passlib's 2^32-1, a valid hash) is of no scheme, so it costs a fake
// check, not its rounds, and the fake does not learn its cost; at the
// limit it is read.
func TestPBKDF2RoundsLimit(t *testing.T) {
	t.Parallel()
	sum := make([]byte, 64)
	mk := func(rounds int) string {
		return passhash.PBKDF2{Digest: passhash.PBKDF2SHA512, Rounds: rounds, Salt: []byte("0123456789abcdef"), Sum: sum}.String()
	}
	for _, r := range []int{MaxPBKDF2Rounds + 1, 1 << 31, 1<<32 - 1} {
		if s, c := classify(mk(r), rules{}); s != schemeNone || c != 0 {
			t.Errorf("%d rounds: %v/%d, want none", r, s, c)
		}
	}
	if s, c := classify(mk(MaxPBKDF2Rounds), rules{}); s != schemePBKDF2SHA512 || c != MaxPBKDF2Rounds {
		t.Errorf("%d rounds: %v/%d", MaxPBKDF2Rounds, s, c)
	}
	// check refuses the rounds even if handed such a value.
	if schemePBKDF2SHA512.check(mk(1<<32-1), "x") {
		t.Error("2^32-1 rounds matched")
	}
	low := fixedHashes(t)[1] // pbkdf2_sha512, 1000 rounds
	path := ckanDB(t, []pwHash{{"x", mk(1<<32 - 1)}, low})
	p, err := New(Options{Driver: "sqlite", DSN: path, Query: ckanQuery})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cheapFake(p)
	if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: "user1", who.KeyPassword: low.password}); uid != "user1" || err != nil {
		t.Fatalf("user1: %q %v", uid, err)
	}
	if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: "user0", who.KeyPassword: "x"}); uid != "" || err != nil {
		t.Errorf("the 2^32-1 rounds row: %q %v", uid, err)
	}
	if n := p.fakeChecks.Load(); n != 1 {
		t.Errorf("%d fake checks, want 1: the 2^32-1 rounds row", n)
	}
	if f := p.fake.Load(); f.scheme != schemePBKDF2SHA512 || f.cost != 1000 {
		t.Errorf("the fake is %v/%d, want the 1000-round row's", f.scheme, f.cost)
	}
}

// TestPBKDF2Fake: once a $pbkdf2-sha512$ row of CKAN's 25000 rounds is
// seen, an unknown user is checked against a fake of that scheme and
// rounds, which a cheaper row (bcrypt cost 4) does not replace.
func TestPBKDF2Fake(t *testing.T) {
	t.Parallel()
	hs := fixedHashes(t)
	ckan := hs[0] // pbkdf2_sha512, 25000 rounds
	if !strings.HasPrefix(ckan.stored, "$pbkdf2-sha512$25000$") {
		t.Fatalf("the first vector is %q", ckan.stored)
	}
	path := ckanDB(t, []pwHash{ckan, {"carol-pass", users[2].stored}})
	p, err := New(Options{Driver: "sqlite", DSN: path, Query: ckanQuery})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cheapFake(p)
	for _, name := range []string{"user0", "user1", "nobody"} {
		if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: name, who.KeyPassword: "wrong"}); uid != "" || err != nil {
			t.Fatalf("%s: %q %v", name, uid, err)
		}
	}
	f := p.fake.Load()
	if f.scheme != schemePBKDF2SHA512 || f.cost != 25000 {
		t.Fatalf("the fake is %v/%d, want pbkdf2-sha512/25000", f.scheme, f.cost)
	}
	if s, c := classify(f.stored, rules{}); s != f.scheme || c != f.cost {
		t.Errorf("the fake %q is %v/%d", f.stored, s, c)
	}
	if p.fakeChecks.Load() != 1 || p.hashes.Load() != 3 {
		t.Errorf("%d fake checks of %d, want 1 of 3", p.fakeChecks.Load(), p.hashes.Load())
	}
}

// BenchmarkCheck is one password check of CKAN's $pbkdf2-sha512$ at its
// default 25000 rounds, beside bcrypt cost 10, the fake's default:
//
//	go test -run X -bench Check -count 6 ./plugins/sqlauth/ | benchstat -
func BenchmarkCheck(b *testing.B) {
	ckan := passhash.PBKDF2{Digest: passhash.PBKDF2SHA512, Rounds: 25000, Salt: []byte("0123456789abcdef"), Sum: make([]byte, 64)}.String()
	for _, bc := range []struct{ name, stored string }{
		{"pbkdf2-sha512-25000", ckan},
		{"pbkdf2-sha256-29000", fakeStored(schemePBKDF2SHA256, 29000)},
		{"bcrypt-10", fakeStored(schemeBcrypt, 10)},
	} {
		s, _ := classify(bc.stored, rules{})
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				s.check(bc.stored, "wrong password")
			}
		})
	}
}

// TestBcryptCostLimit: a bcrypt hash of a cost over MaxBcryptCost (up to
// bcrypt's 31: days) is of no scheme: its login costs a fake check, and
// the fake does not learn its cost.
func TestBcryptCostLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []int{MaxBcryptCost + 1, 31} {
		h := fakeStored(schemeBcrypt, c)
		if s, cost := classify(h, rules{}); s != schemeNone || cost != 0 {
			t.Fatalf("cost %d: %v/%d, want none", c, s, cost)
		}
		if schemeBcrypt.check(h, "x") {
			t.Fatalf("cost %d matched", c)
		}
	}
	if s, c := classify(fakeStored(schemeBcrypt, MaxBcryptCost), rules{}); s != schemeBcrypt || c != MaxBcryptCost {
		t.Errorf("cost %d: %v/%d", MaxBcryptCost, s, c)
	}
	path := ckanDB(t, []pwHash{{"x", fakeStored(schemeBcrypt, 31)}, {"carol-pass", users[2].stored}})
	p, err := New(Options{Driver: "sqlite", DSN: path, Query: ckanQuery})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cheapFake(p)
	for _, name := range []string{"user1", "user0", "nobody"} {
		if uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: name, who.KeyPassword: "x"}); uid != "" || err != nil {
			t.Fatalf("%s: %q %v", name, uid, err)
		}
	}
	if f := p.fake.Load(); f.scheme != schemeBcrypt || f.cost != 4 {
		t.Errorf("the fake is %v/%d, want bcrypt/4 (carol's row)", f.scheme, f.cost)
	}
	if n := p.fakeChecks.Load(); n != 2 {
		t.Errorf("%d fake checks, want 2 (the cost-31 row, nobody)", n)
	}
}
