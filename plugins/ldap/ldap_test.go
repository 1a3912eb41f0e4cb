package ldap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newPlugin(t *testing.T, o Options) *Plugin {
	t.Helper()
	o.Logger = quiet()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func req() *http.Request { return httptest.NewRequest("GET", "/", nil) }

func login(p *Plugin, user, pw string) (string, error) {
	return p.Authenticate(req(), who.Identity{who.KeyLogin: user, who.KeyPassword: pw})
}

// modes are the two ways to find the user's DN.
func modes(s *testserver.Server) map[string]Options {
	return map[string]Options{
		"direct": {URL: s.URL, BindDNTemplate: "uid=%s," + testserver.PeopleDN},
		"search": {URL: s.URL, BaseDN: testserver.BaseDN, BindDN: testserver.ReaderDN, BindPassword: testserver.ReaderPassword,
			Restrict: "(objectClass=inetOrgPerson)"},
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true, LogStats: true})
	for mode, o := range modes(s) {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			p := newPlugin(t, o)
			for _, tc := range []struct {
				name, login, pw, want string
			}{
				{"good", "alice", "alice-pass", "alice"},
				{"wrong password", "alice", "bob-pass", ""},
				{"empty password", "alice", "", ""},
				{"no login", "", "x", ""},
				{"unknown user", "mallory", "mallory-pass", ""},
				{"upper case", "ALICE", "alice-pass", "alice"},
				{"leading space", " alice", "alice-pass", "alice"},
				{"trailing space", "alice ", "alice-pass", "alice"},
				{"specials in uid", "star*(user)", "star*(user)-pass", "star*(user)"},
				{"wildcard", "*", "alice-pass", ""},
				{"filter injection", "*)(uid=*", "alice-pass", ""},
				{"filter injection or", "admin)(|(uid=*", "alice-pass", ""},
				{"filter injection restrict", "alice)(uid=alice", "alice-pass", ""},
				{"star prefix", "star*", "star*(user)-pass", ""},
				{"NUL", "alice\x00", "alice-pass", ""},
				{"NUL inside", "ali\x00ce", "alice-pass", ""},
				{"DN injection", "alice,ou=people", "alice-pass", ""},
				{"DN injection plus", "alice+cn=x", "alice-pass", ""},
				{"backslash", `alice\`, "alice-pass", ""},
				{"hash", "#alice", "alice-pass", ""},
				{"equals", "uid=alice", "alice-pass", ""},
				{"quote", `"alice"`, "alice-pass", ""},
				{"non-ASCII", "alicé", "alice-pass", ""},
			} {
				got, err := login(p, tc.login, tc.pw)
				if err != nil || got != tc.want {
					t.Errorf("%s: Authenticate(%q) = %q, %v; want %q", tc.name, tc.login, got, err, tc.want)
				}
			}
		})
	}
	t.Run("returned_id dn", func(t *testing.T) {
		t.Parallel()
		for mode, o := range modes(s) {
			o.ReturnedID = ReturnDN
			p := newPlugin(t, o)
			got, err := login(p, "ALICE", "alice-pass")
			if err != nil || got != "uid=alice,ou=people,dc=example,dc=org" {
				t.Errorf("%s: %q, %v", mode, got, err)
			}
		}
	})
}

// TestEscapedOnTheWire reads slapd's own log: the injection attempts
// reach it as escaped values, and the empty password never reaches it.
func TestEscapedOnTheWire(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true, LogStats: true})
	p := newPlugin(t, modes(s)["search"])
	d := newPlugin(t, modes(s)["direct"])
	for _, l := range []string{"*)(uid=*", "admin)(|(uid=*", "x\x00y"} {
		if uid, err := login(p, l, "pw"); uid != "" || err != nil {
			t.Fatalf("%q: %q %v", l, uid, err)
		}
	}
	if uid, err := login(d, "alice,ou=x", "pw"); uid != "" || err != nil {
		t.Fatalf("DN: %q %v", uid, err)
	}
	if uid, err := login(d, "eve", ""); uid != "" || err != nil {
		t.Fatalf("empty: %q %v", uid, err)
	}
	out := s.WaitOutput(t, 0, `alice\2Cou\3Dx`)
	for _, want := range []string{`(uid=\2A\29\28uid=\2A)`, `(uid=admin\29\28|\28uid=\2A)`, `(uid=x\00y)`} {
		if !strings.Contains(strings.ToUpper(out), strings.ToUpper(want)) {
			t.Errorf("slapd did not receive %s; its log:\n%s", want, grep(out, "SRCH"))
		}
	}
	for _, bad := range []string{`filter="(uid=*)`, `(|(uid=*)`} {
		if strings.Contains(out, bad) {
			t.Errorf("slapd received an unescaped filter %s", bad)
		}
	}
	if !strings.Contains(out, `BIND dn="uid=alice\2Cou\3Dx,ou=people,dc=example,dc=org"`) {
		t.Errorf("the DN was not escaped on the wire:\n%s", grep(out, "BIND"))
	}
	if strings.Contains(out, `BIND dn="uid=eve,`) {
		t.Error("an empty password reached slapd")
	}
}

func grep(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSearchConnectionStaysService checks the search pool is never left
// bound as the last user.
func TestSearchConnectionStaysService(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	p := newPlugin(t, modes(s)["search"])
	for _, u := range []string{"alice", "bob"} {
		if uid, err := login(p, u, u+"-pass"); uid != u || err != nil {
			t.Fatalf("%s: %q %v", u, uid, err)
		}
	}
	err := p.search.do(context.Background(), func(c *goldap.Conn) error {
		res, err := c.WhoAmI(nil)
		if err != nil {
			return err
		}
		if res.AuthzID != "dn:"+testserver.ReaderDN {
			return fmt.Errorf("search connection bound as %q", res.AuthzID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true, TLS: true, LogStats: true})
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"starttls", Options{URL: s.URL, StartTLS: true, CAFile: s.CAFile, BaseDN: testserver.BaseDN,
			BindDN: testserver.ReaderDN, BindPassword: testserver.ReaderPassword}},
		{"ldaps", Options{URL: s.LDAPSURL, CAFile: s.CAFile, BindDNTemplate: "uid=%s," + testserver.PeopleDN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlugin(t, tc.o)
			if uid, err := login(p, "bob", "bob-pass"); uid != "bob" || err != nil {
				t.Fatalf("%q %v", uid, err)
			}
		})
	}
	t.Run("starttls kept after a reconnect", func(t *testing.T) {
		p := newPlugin(t, Options{URL: s.URL, StartTLS: true, CAFile: s.CAFile, BindDNTemplate: "uid=%s," + testserver.PeopleDN})
		if uid, _ := login(p, "bob", "bob-pass"); uid != "bob" {
			t.Fatal("first login")
		}
		s.Stop()
		s.Start()
		if uid, err := login(p, "carol", "carol-pass"); uid != "carol" || err != nil {
			t.Fatalf("after restart: %q %v", uid, err)
		}
		// Every connection that bound a user after the restart started TLS.
		out := s.WaitOutput(t, 0, `BIND dn="uid=carol,`)
		out = out[strings.LastIndex(out, "slapd starting"):]
		binds := regexp.MustCompile(`(conn=\d+) op=\d+ BIND dn="uid=`).FindAllStringSubmatch(out, -1)
		if len(binds) == 0 {
			t.Fatalf("no user bind after the restart:\n%s", out)
		}
		for _, b := range binds {
			if !strings.Contains(out, b[1]+" op=0 STARTTLS") {
				t.Fatalf("%s bound without StartTLS:\n%s", b[1], grep(out, b[1]+" "))
			}
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		p := newPlugin(t, Options{URL: s.LDAPSURL, BindDNTemplate: "uid=%s," + testserver.PeopleDN})
		uid, err := login(p, "bob", "bob-pass")
		if uid != "" || !errors.Is(err, ErrBackend) {
			t.Fatalf("an untrusted certificate gave %q, %v", uid, err)
		}
	})
}

// TestOutage: a stopped directory is an error, never a wrong password, and
// the error does not carry the identity; logins work again once it is back.
func TestOutage(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	for mode, o := range modes(s) {
		o.DialTimeout = who.Duration(time.Second)
		p := newPlugin(t, o)
		if uid, _ := login(p, "alice", "alice-pass"); uid != "alice" {
			t.Fatalf("%s: before", mode)
		}
		s.Stop()
		uid, err := login(p, "alice", "alice-pass")
		if uid != "" || !errors.Is(err, ErrBackend) {
			t.Fatalf("%s: during the outage: %q, %v; want ErrBackend", mode, uid, err)
		}
		if strings.Contains(err.Error(), "alice") {
			t.Fatalf("%s: the error carries the identity: %v", mode, err)
		}
		err = p.AddMetadata(req(), who.Identity{who.KeyUserID: "alice"})
		if len(p.o.Attributes) > 0 && !errors.Is(err, ErrBackend) {
			t.Fatalf("%s: metadata during the outage: %v", mode, err)
		}
		s.Start()
		if uid, err := login(p, "alice", "alice-pass"); uid != "alice" || err != nil {
			t.Fatalf("%s: after: %q %v", mode, uid, err)
		}
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	p := newPlugin(t, modes(s)["search"])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := req().WithContext(ctx)
	uid, err := p.Authenticate(r, who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass"})
	if uid != "" || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrBackend) {
		t.Fatalf("cancelled: %q %v", uid, err)
	}
	if uid, _ := login(p, "alice", "alice-pass"); uid != "alice" {
		t.Fatal("the pool is broken after a cancelled request")
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"memberof", Options{URL: s.URL, BindDNTemplate: "uid=%s," + testserver.PeopleDN, Attributes: who.Words{"mail", "cn", "userPassword"}, Groups: GroupsMemberOf}},
		{"search", Options{URL: s.URL, BaseDN: testserver.BaseDN, BindDN: testserver.ReaderDN, BindPassword: testserver.ReaderPassword,
			Attributes: who.Words{"mail", "cn"}, Groups: GroupsSearch, GroupBaseDN: testserver.GroupsDN}},
		{"dn userid", Options{URL: s.URL, BaseDN: testserver.BaseDN, ReturnedID: ReturnDN, Attributes: who.Words{"mail", "cn"}, Groups: GroupsMemberOf}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPlugin(t, tc.o)
			uid := func(u string) string {
				if tc.o.ReturnedID == ReturnDN {
					return testserver.UserDN(u)
				}
				return u
			}
			id := who.Identity{who.KeyUserID: uid("alice")}
			if err := p.AddMetadata(req(), id); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(id["mail"].([]string), []string{"alice@example.org"}) ||
				!slices.Equal(id["cn"].([]string), []string{"Alice Example"}) ||
				!slices.Equal(id["groups"].([]string), []string{"admins", "editors", "users"}) {
				t.Fatalf("alice: %#v", map[string]any(id))
			}
			if _, ok := id["userPassword"]; ok {
				t.Fatal("userPassword added")
			}
			id = who.Identity{who.KeyUserID: uid("star*(user)")}
			if err := p.AddMetadata(req(), id); err != nil || !slices.Equal(id["groups"].([]string), []string{"users"}) {
				t.Fatalf("star: %v %#v", err, map[string]any(id))
			}
			id = who.Identity{who.KeyUserID: uid("eve")}
			if err := p.AddMetadata(req(), id); err != nil || len(id["groups"].([]string)) != 0 {
				t.Fatalf("eve: %v %#v", err, map[string]any(id))
			}
			id = who.Identity{who.KeyUserID: uid("nobody")}
			if err := p.AddMetadata(req(), id); err != nil || len(id) != 1 {
				t.Fatalf("unknown user: %v %#v", err, map[string]any(id))
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	s := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	p := newPlugin(t, Options{URL: s.URL, BaseDN: testserver.BaseDN, BindDN: testserver.ReaderDN,
		BindPassword: testserver.ReaderPassword, PoolSize: 2, MaxConnections: 4})
	var wg sync.WaitGroup
	users := []string{"alice", "bob", "carol", "dave", "eve"}
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			u := users[i%len(users)]
			pw := u + "-pass"
			want := u
			if i%3 == 0 {
				pw, want = "wrong", ""
			}
			if got, err := login(p, u, pw); got != want || err != nil {
				errs <- fmt.Errorf("%s: %q %v", u, got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Options
		key  string
	}{
		{"ok search", Options{URL: "ldap://h:1", BaseDN: "dc=x"}, ""},
		{"ok direct", Options{URL: "ldaps://h:1", BindDNTemplate: "uid=%s,dc=x"}, ""},
		{"ldap_connection", Options{LDAPConnection: "ldap://h", BaseDN: "dc=x"}, ""},
		{"no url", Options{BaseDN: "dc=x"}, "url"},
		{"bad url", Options{URL: "http://h", BaseDN: "dc=x"}, "url"},
		{"no base", Options{URL: "ldap://h"}, "base_dn"},
		{"template twice", Options{URL: "ldap://h", BindDNTemplate: "uid=%s,cn=%s"}, "bind_dn_template"},
		{"template format verb", Options{URL: "ldap://h", BindDNTemplate: "uid=%s,cn=%d"}, "bind_dn_template"},
		{"filter without %s", Options{URL: "ldap://h", BaseDN: "dc=x", Filter: "(uid=x)"}, "filter"},
		{"bad filter", Options{URL: "ldap://h", BaseDN: "dc=x", Filter: "(uid=%s"}, "filter"},
		{"bad restrict", Options{URL: "ldap://h", BaseDN: "dc=x", Restrict: "objectClass=x"}, "restrict"},
		{"bad scope", Options{URL: "ldap://h", BaseDN: "dc=x", SearchScope: "base"}, "search_scope"},
		{"bad returned_id", Options{URL: "ldap://h", BaseDN: "dc=x", ReturnedID: "mail"}, "returned_id"},
		{"bad groups", Options{URL: "ldap://h", BaseDN: "dc=x", Groups: "nested"}, "groups"},
		{"groups search without base", Options{URL: "ldap://h", BindDNTemplate: "uid=%s,dc=x", Groups: "search"}, "group_base_dn"},
		{"missing ca", Options{URL: "ldaps://h", BaseDN: "dc=x", CAFile: "/nonexistent.pem"}, "ca_file"},
		{"starttls on ldaps", Options{URL: "ldaps://h", BaseDN: "dc=x", StartTLS: true}, "start_tls"},
		{"equalize_timing", Options{URL: "ldap://h", BaseDN: "dc=x", EqualizeTiming: true}, ""},
		{"equalize_timing direct", Options{URL: "ldap://h", BindDNTemplate: "uid=%s,dc=x", EqualizeTiming: true}, "equalize_timing"},
		{"bad equalize_dn", Options{URL: "ldap://h", BaseDN: "dc=x", EqualizeTiming: true, EqualizeDN: "nodn"}, "equalize_dn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.o)
			if tc.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var oe *who.OptionError
			if !errors.As(err, &oe) || oe.Key != tc.key {
				t.Fatalf("New: %v; want an OptionError on %q", err, tc.key)
			}
		})
	}
}

func TestFactoryAliases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		use, template, returned string
	}{
		{"ldap", "", ReturnLogin},
		{aliasBind, "uid=%s,ou=people,dc=example,dc=org", ReturnDN},
		{aliasSearch, "", ReturnDN},
	} {
		v, err := factory(who.PluginSpec{Name: "x", Use: tc.use, Logger: quiet(), Decode: func(v any) error {
			o := v.(*Options)
			o.URL, o.BaseDN = "ldap://h", "ou=people,dc=example,dc=org"
			return nil
		}})
		if err != nil {
			t.Fatalf("%s: %v", tc.use, err)
		}
		p := v.(*Plugin)
		if p.o.BindDNTemplate != tc.template || p.o.ReturnedID != tc.returned {
			t.Errorf("%s: template %q returned_id %q", tc.use, p.o.BindDNTemplate, p.o.ReturnedID)
		}
	}
}
