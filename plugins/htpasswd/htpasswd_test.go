package htpasswd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/passhash"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// Passwords of the users in every testdata/*.htpasswd file (see
// testdata/README.md).
var fixturePasswords = map[string]string{
	"alice": "alicepw",
	"bob":   "with:colon and spaces",
	"carol": "p\u00e4\u00dfw\u00f6rd",
}

func testLogger() (*slog.Logger, *whotest.LogBuffer) {
	buf := &whotest.LogBuffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.htpasswd")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustNew(t *testing.T, o Options) *Plugin {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func auth(t *testing.T, p *Plugin, id who.Identity) string {
	t.Helper()
	uid, err := p.Authenticate(httptest.NewRequest("GET", "/", nil), id)
	if err != nil {
		t.Fatalf("Authenticate: error %v", err)
	}
	return uid
}

func creds(login, password string) who.Identity {
	return who.Identity{who.KeyLogin: login, who.KeyPassword: password}
}

// wrong changes the first byte of a password, so that even DES crypt,
// which reads 8 bytes, sees a different one.
func wrong(pw string) string {
	if pw == "" {
		return "x"
	}
	b := []byte(pw)
	b[0] ^= 0x01
	return string(b)
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, scheme string
		plain        bool
	}{
		{"bcrypt.htpasswd", SchemeBcrypt, false},
		{"apr1.htpasswd", SchemeAPR1, false},
		{"md5crypt.htpasswd", SchemeMD5Crypt, false},
		{"sha.htpasswd", SchemeSHA, false},
		{"sha256.htpasswd", SchemeSHA256, false},
		{"sha256-rounds.htpasswd", SchemeSHA256, false},
		{"sha512.htpasswd", SchemeSHA512, false},
		{"sha512-rounds.htpasswd", SchemeSHA512, false},
		{"crypt.htpasswd", SchemeCrypt, false},
		{"plain.htpasswd", SchemePlain, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			logger, logs := testLogger()
			p := mustNew(t, Options{Filename: filepath.Join("testdata", tt.file), AllowPlain: tt.plain, Logger: logger})
			if p.Len() != 3 {
				t.Fatalf("loaded %d users, want 3; log:\n%s", p.Len(), logs)
			}
			for user, pw := range fixturePasswords {
				if got := p.tab.Load().users[user].scheme; got != tt.scheme {
					t.Errorf("%s: scheme %q, want %q", user, got, tt.scheme)
				}
				if got := auth(t, p, creds(user, pw)); got != user {
					t.Errorf("%s with the right password: got %q", user, got)
				}
				if got := auth(t, p, creds(user, wrong(pw))); got != "" {
					t.Errorf("%s with a wrong password: got %q", user, got)
				}
				if got := auth(t, p, creds(strings.ToUpper(user), pw)); got != "" {
					t.Errorf("%s in upper case: got %q (names are case-sensitive)", user, got)
				}
			}
			if logs.String() != "" {
				t.Errorf("unexpected log:\n%s", logs)
			}
		})
	}
}

func TestFixturesPlainRefusedByDefault(t *testing.T) {
	t.Parallel()
	logger, logs := testLogger()
	p := mustNew(t, Options{Filename: "testdata/plain.htpasswd", Logger: logger})
	if p.Len() != 0 {
		t.Errorf("loaded %d users from a plain file without allow_plain", p.Len())
	}
	if auth(t, p, creds("alice", "alicepw")) != "" {
		t.Error("plain text accepted without allow_plain")
	}
	for _, want := range []string{"3 lines could not be read", "testdata/plain.htpasswd:1", "unknown hash scheme", "holds no user"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs.String(), "alicepw") {
		t.Errorf("log leaks a password:\n%s", logs)
	}
}

// readVectors reads "hex(password) hash" lines.
func readVectors(t *testing.T, name string) [][2]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		hx, h, ok := strings.Cut(l, " ")
		if !ok {
			t.Fatalf("%s: bad line %q", name, l)
		}
		var pw []byte
		if _, err := fmt.Sscanf(hx, "%x", &pw); err != nil && hx != "" {
			t.Fatalf("%s: bad hex %q: %v", name, hx, err)
		}
		out = append(out, [2]string{string(pw), h})
	}
	return out
}

// TestVectors checks hashes made by libxcrypt's crypt(3) (DES, $1$, $5$,
// $6$, 8-bit passwords of 0 to 130 bytes) and OpenSSL's apr1.
func TestVectors(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"crypt-vectors.txt", "apr1-vectors.txt"} {
		for i, v := range readVectors(t, file) {
			pw, h := v[0], v[1]
			t.Run(fmt.Sprintf("%s/%d", file, i), func(t *testing.T) {
				t.Parallel()
				ok, err := Verify(h, pw)
				if err != nil || !ok {
					t.Errorf("Verify(%q, %x) = %v, %v; want true", h, pw, ok, err)
				}
				if ok, _ := Verify(h, wrong(pw)); ok {
					t.Errorf("Verify(%q, wrong password) = true", h)
				}
				// Hashing again with the same salt gives the same string.
				ph, _ := parseHash(h)
				var again string
				switch ph.scheme {
				case SchemeCrypt:
					again = desCrypt(pw, ph.salt)
				case SchemeMD5Crypt:
					again = passhash.MD5Crypt(pw, ph.salt, "$1$")
				case SchemeAPR1:
					again = passhash.MD5Crypt(pw, ph.salt, "$apr1$")
				case SchemeSHA256:
					again = sha256Crypt.crypt(pw, ph.salt, ph.cost, ph.explicitRounds)
				case SchemeSHA512:
					again = sha512Crypt.crypt(pw, ph.salt, ph.cost, ph.explicitRounds)
				}
				if again != h {
					t.Errorf("recomputed %q, want %q", again, h)
				}
			})
		}
	}
}

// TestDrepperVectors checks the examples of Drepper's SHA-crypt
// specification.
func TestDrepperVectors(t *testing.T) {
	t.Parallel()
	tests := []struct{ hash, pw string }{
		{"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"},
		{"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "Hello world!"},
		{"$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5", "This is just a test"},
		{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
		{"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"},
		{"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0", "This is just a test"},
	}
	for _, tt := range tests {
		ok, err := Verify(tt.hash, tt.pw)
		if err != nil || !ok {
			t.Errorf("Verify(%q) = %v, %v", tt.hash, ok, err)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	apr, _ := Hash(SchemeAPR1, "pw")
	sha, _ := Hash(SchemeSHA, "pw")
	des, _ := Hash(SchemeCrypt, "pw")
	tests := []struct {
		name    string
		file    string
		opts    Options
		id      who.Identity
		want    string
		wantLog []string // substrings of the log; "" entries ignored
	}{
		{name: "no creds", file: "foo:" + apr + "\n", id: who.Identity{}},
		{name: "login only", file: "foo:" + apr + "\n", id: who.Identity{"login": "foo"}},
		{name: "password only", file: "foo:" + apr + "\n", id: who.Identity{"password": "pw"}},
		{name: "non-string login", file: "foo:" + apr + "\n", id: who.Identity{"login": 1, "password": "pw"}},
		{name: "non-string password", file: "foo:" + apr + "\n", id: who.Identity{"login": "foo", "password": []byte("pw")}},
		{name: "empty login", file: "foo:" + apr + "\n", id: creds("", "pw")},
		{name: "no lines", file: "", id: creds("foo", "pw"), wantLog: []string{"holds no user"}},
		{name: "no user match", file: "nobody:" + apr + "\n", id: creds("foo", "pw")},
		{name: "match", file: "nobody:" + sha + "\nfoo:" + apr + "\n", id: creds("foo", "pw"), want: "foo"},
		{name: "wrong password", file: "foo:" + apr + "\n", id: creds("foo", "pwx")},
		{name: "bad line logged", file: "garbage\nfoo:" + apr + "\n:" + apr + "\nbar:\n",
			id: creds("foo", "pw"), want: "foo",
			wantLog: []string{"3 lines could not be read", "first at line 1: no colon", "users.htpasswd:1"}},
		{name: "unknown scheme logged", file: "foo:$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\n",
			id: creds("foo", "pw"), wantLog: []string{"users.htpasswd:1", "unknown hash scheme"}},
		{name: "malformed bcrypt logged", file: "foo:$2y$05$short\n", id: creds("foo", "pw"),
			wantLog: []string{"users.htpasswd:1", "malformed hash"}},
		{name: "malformed known prefix never plain", file: "foo:$apr1$pw\n", opts: Options{AllowPlain: true},
			id: creds("foo", "$apr1$pw"), wantLog: []string{"malformed hash"}},
		{name: "comments, blank lines, CRLF, BOM", file: "\ufeff# users\r\n\r\nfoo:" + apr + "\r\n",
			id: creds("foo", "pw"), want: "foo"},
		{name: "trailing spaces", file: "foo:" + apr + "  \t\n", id: creds("foo", "pw"), want: "foo"},
		{name: "extra fields after the hash", file: "foo:" + apr + ":Foo Bar:admin\n", id: creds("foo", "pw"), want: "foo"},
		{name: "first duplicate wins", file: "foo:" + apr + "\nfoo:" + sha + "\n", id: creds("foo", "pw"), want: "foo",
			wantLog: []string{"users.htpasswd:2", "duplicate"}},
		{name: "duplicate cannot override", file: "foo:" + sha + "\nfoo:plain\n", opts: Options{AllowPlain: true},
			id: creds("foo", "plain"), wantLog: []string{"duplicate"}},
		{name: "plain refused by default", file: "foo:secret\n", id: creds("foo", "secret"),
			wantLog: []string{"unknown hash scheme"}},
		{name: "plain allowed", file: "foo:secret\n", opts: Options{AllowPlain: true}, id: creds("foo", "secret"), want: "foo"},
		{name: "plain with colons", file: "foo:se:cr:et\n", opts: Options{AllowPlain: true}, id: creds("foo", "se:cr:et"), want: "foo"},
		{name: "plain wrong", file: "foo:secret\n", opts: Options{AllowPlain: true}, id: creds("foo", "secrex")},
		{name: "check_fn plain", file: "foo:secret\n", opts: Options{CheckFn: "repoze.who.plugins.htpasswd:plain_check"},
			id: creds("foo", "secret"), want: "foo"},
		{name: "DES never plain", file: "foo:" + des + "\n", opts: Options{AllowPlain: true}, id: creds("foo", des)},
		{name: "DES-shaped plain password is DES", file: "foo:abcdefghijklm\n", opts: Options{AllowPlain: true},
			id: creds("foo", "abcdefghijklm")},
		{name: "DES hit with allow_plain", file: "foo:" + des + "\n", opts: Options{AllowPlain: true}, id: creds("foo", "pw"), want: "foo"},
		{name: "hash-shaped plain refused", file: "foo:{SSHA}abc\n", opts: Options{AllowPlain: true}, id: creds("foo", "{SSHA}abc"),
			wantLog: []string{"unknown hash scheme"}},
		{name: "padding backdoor absent", file: "foo:secret\n", opts: Options{AllowPlain: true}, id: creds("aaaaaa", "bbbbbb")},
		{name: "padding backdoor absent, empty file", file: "", opts: Options{CheckFn: "plain"}, id: creds("aaaaaa", "bbbbbb"),
			wantLog: []string{"holds no user"}},
		{name: "overlong password", file: "foo:" + apr + "\n", id: creds("foo", strings.Repeat("x", MaxPasswordLen+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := testLogger()
			o := tt.opts
			o.Filename = writeFile(t, tt.file)
			o.Logger = logger
			p := mustNew(t, o)
			if got := auth(t, p, tt.id); got != tt.want {
				t.Errorf("Authenticate = %q, want %q", got, tt.want)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs)
				}
			}
			if len(tt.wantLog) == 0 && logs.String() != "" {
				t.Errorf("unexpected log:\n%s", logs)
			}
			if strings.Contains(logs.String(), "$apr1$") || strings.Contains(logs.String(), "secret") {
				t.Errorf("log leaks a hash or password:\n%s", logs)
			}
		})
	}
}

func TestUsersAfterLine1000(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 1500 {
		sum, _ := Hash(SchemeSHA, fmt.Sprintf("pw%d", i))
		fmt.Fprintf(&b, "user%d:%s\n", i, sum)
	}
	p := mustNew(t, Options{Filename: writeFile(t, b.String())})
	for _, i := range []int{0, 998, 999, 1000, 1001, 1499} {
		u := fmt.Sprintf("user%d", i)
		if got := auth(t, p, creds(u, fmt.Sprintf("pw%d", i))); got != u {
			t.Errorf("%s: got %q", u, got)
		}
	}
}

func TestMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope.htpasswd")
	_, err := New(Options{Filename: path})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("New on a missing file: %v; want ErrNotExist naming %s", err, path)
	}
	if _, err := New(Options{}); !errors.Is(err, ErrNoFilename) {
		t.Errorf("New without filename: %v", err)
	}
	if _, err := New(Options{Filename: t.TempDir()}); err == nil {
		t.Error("New on a directory: no error")
	}
}

func TestCheckFn(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "foo:secret\n")
	tests := []struct {
		fn      string
		plain   bool
		wantErr string
	}{
		{fn: "", plain: false},
		{fn: "auto"},
		{fn: "crypt"},
		{fn: "sha1"},
		{fn: "plain", plain: true},
		{fn: "repoze.who.plugins.htpasswd:crypt_check"},
		{fn: "repoze.who.plugins.htpasswd:sha1_check"},
		{fn: "repoze.who.plugins.htpasswd:plain_check", plain: true},
		{fn: "bcrypt:checkpw"},
		{fn: "plian", wantErr: `did you mean "plain"`},
		{fn: "mymodule:check", wantErr: "unknown check_fn"},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			t.Parallel()
			p, err := New(Options{Filename: path, CheckFn: tt.fn, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBadCheckFn) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want ErrBadCheckFn with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := auth(t, p, creds("foo", "secret")) == "foo"; got != tt.plain {
				t.Errorf("plain accepted = %v, want %v", got, tt.plain)
			}
		})
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestReload(t *testing.T) {
	t.Parallel()
	logger, logs := testLogger()
	h1, _ := Hash(SchemeAPR1, "one")
	h2, _ := Hash(SchemeAPR1, "two") // same length: only the mtime changes
	path := writeFile(t, "foo:"+h1+"\n")
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now()}
	p, err := New(Options{Filename: path, ReloadInterval: who.Duration(time.Minute), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	p.now = clock.Now
	p.nextCheck.Store(clock.Now().Add(time.Minute).UnixNano())

	check := func(pw, want string) {
		t.Helper()
		if got := auth(t, p, creds("foo", pw)); got != want {
			t.Errorf("password %q: got %q, want %q", pw, got, want)
		}
	}
	check("one", "foo")
	// seen makes the next check see the change; the check after it (one
	// settle time later) swaps the file in.
	seen := func() {
		clock.Add(2 * time.Minute)
		p.maybeReload()
	}

	if err := os.WriteFile(path, []byte("foo:"+h2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime.Add(time.Second), mtime.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	check("one", "foo") // within the interval: not checked yet
	seen()
	check("one", "foo") // seen changed, not yet settled
	clock.Add(2 * time.Minute)
	check("two", "foo") // seen unchanged for the settle time: re-read
	check("one", "")

	// Unchanged file: no re-read.
	tab := p.tab.Load()
	clock.Add(2 * time.Minute)
	check("two", "foo")
	if p.tab.Load() != tab {
		t.Error("an unchanged file was re-read")
	}

	// Same mtime, other size: re-read.
	if err := os.WriteFile(path, []byte("foo:"+h1+"\nbar:"+h2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime.Add(time.Second), mtime.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	seen()
	clock.Add(2 * time.Minute)
	check("one", "foo")
	if got := auth(t, p, creds("bar", "two")); got != "bar" {
		t.Errorf("bar after size change: %q", got)
	}

	// Removed file: the last good contents stay, logged once.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clock.Add(2 * time.Minute)
		check("one", "foo")
	}
	if n := strings.Count(logs.String(), "cannot re-read"); n != 1 {
		t.Errorf("read failure logged %d times, want 1:\n%s", n, logs)
	}
	// Back again.
	if err := os.WriteFile(path, []byte("foo:"+h2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	seen()
	clock.Add(2 * time.Minute)
	check("two", "foo")
	if !strings.Contains(logs.String(), "readable again") {
		t.Errorf("recovery not logged:\n%s", logs)
	}
}

func TestReloadNegativeIntervalNeverRereads(t *testing.T) {
	t.Parallel()
	h1, _ := Hash(SchemeSHA, "one")
	h2, _ := Hash(SchemeSHA, "two")
	path := writeFile(t, "foo:"+h1+"\n")
	p := mustNew(t, Options{Filename: path, ReloadInterval: -1})
	_ = os.WriteFile(path, []byte("foo:"+h2+"\nbar:"+h2+"\n"), 0o600)
	p.now = func() time.Time { return time.Now().Add(time.Hour) }
	if got := auth(t, p, creds("foo", "one")); got != "foo" {
		t.Errorf("got %q: the file was re-read", got)
	}
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := auth(t, p, creds("foo", "two")); got != "foo" {
		t.Errorf("after Reload: got %q", got)
	}
}

func TestUnknownUserChecksFakeHash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, scheme string
		cost         int
	}{
		{"bcrypt.htpasswd", SchemeBcrypt, 5},
		{"sha512-rounds.htpasswd", SchemeSHA512, 1000},
		{"sha256.htpasswd", SchemeSHA256, 5000},
		{"crypt.htpasswd", SchemeCrypt, 0},
		{"plain.htpasswd", SchemePlain, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, Options{Filename: filepath.Join("testdata", tt.file), AllowPlain: true})
			fake := p.tab.Load().fake
			if fake.scheme != tt.scheme || fake.cost != tt.cost {
				t.Errorf("fake hash %s/%d, want %s/%d", fake.scheme, fake.cost, tt.scheme, tt.cost)
			}
			if auth(t, p, creds("mallory", "alicepw")) != "" {
				t.Error("unknown user authenticated")
			}
			auth(t, p, creds("alice", "wrong"))
			if n := p.fakeChecks.Load(); n != 1 {
				t.Errorf("fake hash checked %d times, want 1", n)
			}
			if n := p.hashes.Load(); n != 2 {
				t.Errorf("%d hashes for a known and an unknown user, want 2 (the unknown one's fake hash skipped?)", n)
			}
		})
	}
}

func TestConcurrentReloads(t *testing.T) {
	t.Parallel()
	h, _ := Hash(SchemeSHA, "pw")
	path := writeFile(t, "foo:"+h+"\n")
	p := mustNew(t, Options{Filename: path, ReloadInterval: who.Duration(time.Nanosecond)})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if g == 0 && i%5 == 0 {
					// Written atomically, as a deployment should.
					tmp := fmt.Sprintf("%s.%d", path, i)
					_ = os.WriteFile(tmp, fmt.Appendf(nil, "foo:%s\nu%d:%s\n", h, i, h), 0o600)
					_ = os.Rename(tmp, path)
				}
				if got := auth(t, p, creds("foo", "pw")); got != "foo" {
					t.Errorf("got %q", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHashRoundTrip(t *testing.T) {
	t.Parallel()
	for _, scheme := range Schemes() {
		for _, pw := range []string{"", "pw", "with:colon", "p\u00e4\u00dfw\u00f6rd", strings.Repeat("long", 40)} {
			t.Run(scheme+"/"+pw, func(t *testing.T) {
				t.Parallel()
				cost := 0
				if scheme == SchemeBcrypt {
					cost = 4
				}
				h, err := HashCost(scheme, pw, cost)
				if scheme == SchemePlain {
					if pw == "" || err != nil {
						return // an empty plain password is refused
					}
					if h != pw {
						t.Errorf("plain hash %q", h)
					}
					return
				}
				if scheme == SchemeBcrypt && len(pw) > 72 {
					if err == nil {
						t.Error("bcrypt accepted a password longer than 72 bytes")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := SchemeOf(h); got != scheme {
					t.Errorf("SchemeOf(%q) = %q", h, got)
				}
				if ok, err := Verify(h, pw); !ok || err != nil {
					t.Errorf("Verify(%q, %q) = %v, %v", h, pw, ok, err)
				}
				if ok, _ := Verify(h, wrong(pw)); ok {
					t.Errorf("Verify(%q, wrong) = true", h)
				}
			})
		}
	}
}

func TestHashErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scheme, pw string
		cost       int
		is         error
	}{
		{scheme: "md4", pw: "x", is: ErrUnknownScheme},
		{scheme: SchemeBcrypt, pw: "x", cost: 3},
		{scheme: SchemeSHA256, pw: "x", cost: 999},
		{scheme: SchemeAPR1, pw: "x", cost: 5},
		{scheme: SchemePlain, pw: "a\nb"},
		{scheme: SchemePlain, pw: "ab "},
		{scheme: SchemePlain, pw: "abcdefghijklm"},
		{scheme: SchemePlain, pw: "$apr1$x$y"},
		{scheme: SchemeSHA, pw: strings.Repeat("x", MaxPasswordLen+1)},
	}
	for _, tt := range tests {
		_, err := HashCost(tt.scheme, tt.pw, tt.cost)
		if err == nil || tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("HashCost(%q, %q, %d) error = %v", tt.scheme, tt.pw, tt.cost, err)
		}
	}
	if h, _ := HashCost(SchemeSHA512, "x", 6000); !strings.HasPrefix(h, "$6$rounds=6000$") {
		t.Errorf("rounds not written: %q", h)
	}
	if h, _ := Hash(SchemeBcrypt, "x"); !strings.HasPrefix(h, "$2y$10$") {
		t.Errorf("bcrypt hash %q, want $2y$10$", h)
	}
}

func TestVerifyErrorsAndBcryptVariants(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "plain", "$argon2id$x", "{SSHA}abc"} {
		if _, err := Verify(h, "x"); !errors.Is(err, ErrUnknownScheme) {
			t.Errorf("Verify(%q) error = %v, want ErrUnknownScheme", h, err)
		}
	}
	for _, h := range []string{"$apr1$x", "$1$toolongsalt$abcdefghijklmnopqrstuv", "{SHA}bad", "$5$rounds=999$salt$" + strings.Repeat("a", 43),
		"$5$rounds=01000$salt$" + strings.Repeat("a", 43), "$6$salt$short", "$2y$99$" + strings.Repeat("a", 53)} {
		if _, err := Verify(h, "x"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) error = %v, want ErrMalformedHash", h, err)
		}
	}
	h, err := HashCost(SchemeBcrypt, "pw", 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		if ok, err := Verify(prefix+h[4:], "pw"); !ok || err != nil {
			t.Errorf("%s: Verify = %v, %v", prefix, ok, err)
		}
	}
	// bcrypt reads 72 bytes, as Apache.
	long := strings.Repeat("a", 72)
	h, _ = HashCost(SchemeBcrypt, long, 4)
	if ok, _ := Verify(h, long+"tail"); !ok {
		t.Error("bcrypt: a password longer than 72 bytes should match on its first 72")
	}
}

// TestWarnsOncePerKind: a file of many bad lines, repeated users or no
// user at all gives one warning per kind, with the count and the first
// line, and a reload of the same content warns no more. Before, every
// bad line was a warning of its own (30 MB of random bytes: 116,267
// lines of log) and a file without a user was no warning at all.
func TestWarnsOncePerKind(t *testing.T) {
	t.Parallel()
	apr, _ := Hash(SchemeAPR1, "pw")
	many := func(n int, line string) string { return strings.Repeat(line+"\n", n) }
	tests := []struct {
		name     string
		file     string
		wantWarn []string // substrings of the warnings
		warnings int      // how many lines of log, all warnings
	}{
		{"good", "foo:" + apr + "\n", nil, 0},
		{"10,000 bad lines", "# users\n" + many(10000, "garbage") + "foo:" + apr + "\n",
			[]string{`msg="htpasswd: 10000 lines could not be read, skipped (first at line 2: no colon)"`}, 1},
		{"one bad line", "foo:" + apr + "\nbar:$2y$05$short\n",
			[]string{`msg="htpasswd: 1 line could not be read, skipped (first at line 2: malformed hash: bad bcrypt hash)"`}, 1},
		{"1,000 repeated users", "foo:" + apr + "\n" + many(1000, "foo:"+apr),
			[]string{`msg="htpasswd: 1000 lines of a user named before skipped, the first line wins (first at line 2: user \"foo\")"`}, 1},
		{"bad lines and no user", many(5, "x:y"),
			[]string{"5 lines could not be read", "first at line 1: unknown hash scheme", "holds no user"}, 2},
		{"only a comment", "# no users\n", []string{"holds no user: nobody can log in"}, 1},
		{"empty", "", []string{"holds no user"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := testLogger()
			p := mustNew(t, Options{Filename: writeFile(t, tt.file), Logger: logger})
			lines := strings.Count(logs.String(), "\n")
			if warns := strings.Count(logs.String(), "level=WARN"); warns != tt.warnings || lines != tt.warnings {
				t.Errorf("%d lines of log, %d warnings; want %d warnings:\n%s", lines, warns, tt.warnings, logs)
			}
			for _, w := range tt.wantWarn {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %s:\n%s", w, logs)
				}
			}
			if strings.Contains(logs.String(), "$apr1$") {
				t.Errorf("log quotes a hash:\n%s", logs)
			}
			// A reload of the same content (read again, as one read too
			// soon after its mtime is) warns no more.
			before := logs.String()
			if err := p.Reload(); err != nil && !errors.Is(err, ErrFileChanging) {
				t.Fatal(err)
			}
			p.tab.Load().recheck = true
			if err := p.Reload(); err != nil && !errors.Is(err, ErrFileChanging) {
				t.Fatal(err)
			}
			if logs.String() != before {
				t.Errorf("a reload of the same content logged again:\n%s", strings.TrimPrefix(logs.String(), before))
			}
		})
	}
}
