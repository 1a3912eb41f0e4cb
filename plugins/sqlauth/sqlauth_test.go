package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/gowho/gowho/who"
)

// Hashes of "<login>-pass", made with the commands in testdata/README.
var users = []struct{ id, login, stored string }{
	{"1", "alice", "{SHA}" + "e32bd4da70c88e0faa434e00806b31d44821eb72"}, // repoze.who's {SHA}hex
	{"2", "bob", "bob-pass"}, // clear text
	{"3", "carol", "$2y$04$dO467MXALs3NSyfOoF8nheNROsmiaOXuc8TZ0HRIqUk3wHH.7wvSW"}, // htpasswd -B -C 4
	{"4", "dave", "$apr1$2UmekLgz$sLiamQ9vu8ahmNXrjbgb7/"},                         // htpasswd -m
	{"5", "eve", "{SHA}SseHSDcWeBfNo8IZoOON3FdMMME="},                              // htpasswd -s
	{"6", "frank", "$6$saltsalt$invalid"},                                          // unsupported scheme
	{"7", "grace", ""},                                                             // no password
	{"8", "heidi", "{SSHA}Kth0X/1T4XfAR/RDLUjIAxeuDLU6z2d8"},                       // slappasswd -h {SSHA}
}

func openDB(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range []string{
		"CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT UNIQUE, password TEXT)",
		"CREATE TABLE groups (uid INTEGER, name TEXT)",
		"INSERT INTO groups VALUES (1, 'admin'), (1, 'dev'), (2, 'dev')",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range users {
		if _, err := db.Exec("INSERT INTO users VALUES (?, ?, ?)", u.id, u.login, u.stored); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}

func req() *http.Request { return httptest.NewRequest("GET", "/", nil) }

const authQuery = "SELECT id, password FROM users WHERE login = :login"

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	path, _ := openDB(t)
	for _, plain := range []bool{false, true} {
		p, err := New(Options{Driver: "sqlite", DSN: path, Query: authQuery, AllowPlain: plain})
		if err != nil {
			t.Fatal(err)
		}
		cheapFake(p)
		t.Cleanup(func() { p.Close() })
		for _, tc := range []struct {
			login, pw, want string
		}{
			{"alice", "alice-pass", "1"},
			{"alice", "ALICE-pass", ""},
			{"bob", "bob-pass", map[bool]string{false: "", true: "2"}[plain]},
			{"carol", "carol-pass", "3"},
			{"carol", "wrong", ""},
			{"dave", "dave-pass", "4"},
			{"dave", "dave-pas", ""},
			{"eve", "eve-pass", "5"},
			{"frank", "frank-pass", ""},
			{"frank", "$6$saltsalt$invalid", ""},
			{"grace", "", ""},
			{"grace", "x", ""},
			{"heidi", "heidi-pass", "8"},
			{"nobody", "x", ""},
			{"alice", "", ""},
			{"", "alice-pass", ""},
			{"alice' OR '1'='1", "x", ""},
			{"' OR 1=1 --", "bob-pass", ""},
		} {
			uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: tc.login, who.KeyPassword: tc.pw})
			if err != nil || uid != tc.want {
				t.Errorf("allow_plain=%v %q/%q: %q, %v; want %q", plain, tc.login, tc.pw, uid, err, tc.want)
			}
		}
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	_, db := openDB(t)
	p, err := New(Options{DB: db, MetadataQuery: "SELECT name FROM groups WHERE uid = :__userid ORDER BY name", Name: "groups"})
	if err != nil {
		t.Fatal(err)
	}
	cheapFake(p)
	id := who.Identity{who.KeyUserID: "1"}
	if err := p.AddMetadata(req(), id); err != nil || !slices.Equal(id["groups"].([]string), []string{"admin", "dev"}) {
		t.Fatalf("%v %#v", err, id["groups"])
	}
	id = who.Identity{who.KeyUserID: "4"}
	if err := p.AddMetadata(req(), id); err != nil || len(id["groups"].([]string)) != 0 {
		t.Fatalf("%v %#v", err, id["groups"])
	}
	p2, _ := New(Options{DB: db, MetadataQuery: "SELECT id, login FROM users WHERE id = :userid", Name: "profile"})
	id = who.Identity{who.KeyUserID: "2"}
	if err := p2.AddMetadata(req(), id); err != nil {
		t.Fatal(err)
	}
	rows := id["profile"].([]map[string]any)
	if len(rows) != 1 || rows[0]["login"] != "bob" || rows[0]["id"] != int64(2) {
		t.Fatalf("%#v", rows)
	}
	if uid, _ := p.Authenticate(req(), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass"}); uid != "" {
		t.Fatal("a metadata-only plugin authenticated")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	path, _ := openDB(t)
	p, err := New(Options{Driver: "sqlite", DSN: path, Query: "SELECT id, password FROM no_such_table WHERE login = :login"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass"})
	if uid != "" || !errors.Is(err, ErrDatabase) {
		t.Fatalf("%q %v", uid, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p2, _ := New(Options{Driver: "sqlite", DSN: path, Query: authQuery})
	defer p2.Close()
	uid, err = p2.Authenticate(req().WithContext(ctx), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass"})
	if uid != "" || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %q %v", uid, err)
	}
	// A value that is not a scalar is never passed to the query.
	uid, err = p2.Authenticate(req(), who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass", "x": 1})
	if uid != "1" || err != nil {
		t.Fatalf("%q %v", uid, err)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Options
		key  string
	}{
		{"ok", Options{Driver: "sqlite", DSN: ":memory:", Query: authQuery}, ""},
		{"no query", Options{Driver: "sqlite", DSN: ":memory:"}, "query"},
		{"no params", Options{Driver: "sqlite", DSN: ":memory:", Query: "SELECT 1, 2"}, "query"},
		{"bad quote", Options{Driver: "sqlite", DSN: ":memory:", Query: "SELECT 'x FROM t WHERE a = :login"}, "query"},
		{"no name", Options{Driver: "sqlite", DSN: ":memory:", MetadataQuery: "SELECT 1"}, "name"},
		{"no driver", Options{DSN: ":memory:", Query: authQuery}, "driver"},
		{"unknown driver", Options{Driver: "nosuch", DSN: "x", Query: authQuery}, "driver"},
		{"no dsn", Options{Driver: "sqlite", Query: authQuery}, "dsn"},
		{"placeholder", Options{Driver: "sqlite", DSN: ":memory:", Query: authQuery, Placeholder: "%s"}, "placeholder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := New(tc.o)
			if tc.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Close()
				return
			}
			var oe *who.OptionError
			if !errors.As(err, &oe) || oe.Key != tc.key {
				t.Fatalf("%v; want an OptionError on %q", err, tc.key)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q, style, want string
		params         []string
	}{
		{"SELECT a FROM t WHERE l = :login AND p = :password", "?", "SELECT a FROM t WHERE l = ? AND p = ?", []string{"login", "password"}},
		{"SELECT a FROM t WHERE l = :login AND p = :password", "$1", "SELECT a FROM t WHERE l = $1 AND p = $2", []string{"login", "password"}},
		{"SELECT ':no', \"x:y\", a::text FROM t WHERE l = :login -- :c\n", "@p1", "SELECT ':no', \"x:y\", a::text FROM t WHERE l = @p1 -- :c\n", []string{"login"}},
		{"SELECT /* :c */ 'it''s :x' FROM t WHERE u = :__userid", ":1", "SELECT /* :c */ 'it''s :x' FROM t WHERE u = :1", []string{"__userid"}},
	} {
		c, err := compile(tc.q, tc.style)
		if err != nil || c.sql != tc.want || !slices.Equal(c.params, tc.params) {
			t.Errorf("compile(%q) = %q %v, %v; want %q %v", tc.q, c.sql, c.params, err, tc.want, tc.params)
		}
	}
}

func TestFactory(t *testing.T) {
	t.Parallel()
	path, _ := openDB(t)
	dir, file := filepath.Split(path)
	for _, tc := range []struct {
		use   string
		query string
		want  string
	}{
		{aliasAuth, authQuery, "2"},
		{"sqlauth", authQuery, ""},
	} {
		v, err := factory(who.PluginSpec{Use: tc.use, Dir: dir, Decode: func(v any) error {
			o := v.(*Options)
			o.Driver, o.DSN, o.Query = "sqlite", file, tc.query
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		p := cheapFake(v.(*Plugin))
		uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: "bob", who.KeyPassword: "bob-pass"})
		if err != nil || uid != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.use, uid, err, tc.want)
		}
		p.Close()
	}
	v, err := factory(who.PluginSpec{Use: aliasMD, Dir: dir, Decode: func(v any) error {
		o := v.(*Options)
		o.Driver, o.DSN, o.Query, o.Name = "sqlite", file, "SELECT name FROM groups WHERE uid = :__userid", "groups"
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := v.(*Plugin)
	defer p.Close()
	id := who.Identity{who.KeyUserID: "2"}
	if err := p.AddMetadata(req(), id); err != nil || !slices.Equal(id["groups"].([]string), []string{"dev"}) {
		t.Fatalf("make_metadata_plugin: %v %#v", err, id["groups"])
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	path, _ := openDB(t)
	p, err := New(Options{Driver: "sqlite", DSN: path, Query: authQuery, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			l, want := "alice", "1"
			if i%2 == 1 {
				l, want = "dave", "4"
			}
			uid, err := p.Authenticate(req(), who.Identity{who.KeyLogin: l, who.KeyPassword: l + "-pass"})
			if err != nil || uid != want {
				t.Errorf("%s: %q %v", l, uid, err)
			}
		})
	}
	wg.Wait()
}
