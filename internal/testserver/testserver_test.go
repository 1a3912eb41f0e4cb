package testserver

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// roundTrip sends one line-based request and returns the first reply line.
func roundTrip(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprint(c, req); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read from %s: %v", addr, err)
	}
	return strings.TrimSpace(line)
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestMemcached(t *testing.T) {
	t.Parallel()
	s := Memcached(t)
	if got := roundTrip(t, s.Addr, "set k 0 0 1\r\nv\r\n"); got != "STORED" {
		t.Fatalf("set: %q", got)
	}
	pid := s.PID()
	s.Stop()
	s.Stop() // idempotent
	if alive(pid) {
		t.Fatalf("pid %d still alive after Stop", pid)
	}
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Fatal("port still answers after Stop")
	}
	s.Start()
	if got := roundTrip(t, s.Addr, "get k\r\n"); got != "END" {
		t.Fatalf("get after restart: %q, want a miss (END)", got)
	}
}

func TestRedis(t *testing.T) {
	t.Parallel()
	s := Redis(t)
	if got := roundTrip(t, s.Addr, "PING\r\n"); got != "+PONG" {
		t.Fatalf("PING: %q", got)
	}
	s.Stop()
	s.Start()
	if got := roundTrip(t, s.Addr, "PING\r\n"); got != "+PONG" {
		t.Fatalf("PING after restart: %q", got)
	}
}

func TestCleanupKillsProcess(t *testing.T) {
	t.Parallel()
	var pid int
	t.Run("inner", func(t *testing.T) {
		s := Memcached(t)
		pid = s.PID()
		if !alive(pid) {
			t.Fatal("not running")
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		// The process is reaped by the helper's Wait; a zombie is gone soon.
		if time.Now().After(deadline) {
			t.Fatalf("pid %d survived the test's cleanup", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSlapd(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ldapwhoami"); err != nil {
		t.Skip("ldapwhoami not on PATH: apt-get install ldap-utils")
	}
	s := Slapd(t, SlapdOptions{Seed: true, LogStats: true, TLS: true})
	whoami := func(uri, dn, pw string, extra ...string) (string, error) {
		args := append([]string{"-x", "-H", uri, "-D", dn, "-w", pw}, extra...)
		cmd := exec.Command("ldapwhoami", args...)
		cmd.Env = append(cmd.Environ(), "LDAPTLS_CACERT="+s.CAFile)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, tc := range []struct {
		name, uri, dn, pw string
		extra             []string
		want              string
	}{
		{"alice", s.URL, UserDN("alice"), "alice-pass", nil, "dn:uid=alice,ou=people,dc=example,dc=org"},
		{"star", s.URL, UserDN("star*(user)"), "star*(user)-pass", nil, "dn:uid=star*(user),ou=people,dc=example,dc=org"},
		{"reader", s.URL, ReaderDN, ReaderPassword, nil, "dn:" + ReaderDN},
		{"starttls", s.URL, UserDN("bob"), "bob-pass", []string{"-ZZ"}, "dn:uid=bob,ou=people,dc=example,dc=org"},
		{"ldaps", s.LDAPSURL, UserDN("eve"), "eve-pass", nil, "dn:uid=eve,ou=people,dc=example,dc=org"},
	} {
		got, err := whoami(tc.uri, tc.dn, tc.pw, tc.extra...)
		if err != nil || got != tc.want {
			t.Errorf("%s: ldapwhoami = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := whoami(s.URL, UserDN("alice"), "wrong"); err == nil {
		t.Error("wrong password accepted")
	}
	s.SetPassword(UserDN("alice"), "new-pass")
	if _, err := whoami(s.URL, UserDN("alice"), "new-pass"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	out, err := exec.Command("ldapsearch", "-x", "-LLL", "-H", s.URL, "-b", BaseDN, "(uid=alice)", "memberOf").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "memberOf: cn=admins,ou=groups,dc=example,dc=org") {
		t.Errorf("memberOf: %v\n%s", err, out)
	}
	// LogStats: the search filter is in the output (soon: it comes
	// through a pipe).
	s.WaitOutput(t, 0, `filter="(uid=alice)"`)
	// Restart keeps the data (mdb on disk).
	s.Stop()
	s.Start()
	if _, err := whoami(s.URL, UserDN("alice"), "new-pass"); err != nil {
		t.Errorf("after restart: %v", err)
	}
}

func TestSlapdArgon2(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("short")
	}
	s := Slapd(t, SlapdOptions{Hash: "argon2", LDIF: ""})
	s.LDIF(s.UserLDIF("zed", "zed-pass", 2000))
	out, err := exec.Command("ldapwhoami", "-x", "-H", s.URL, "-D", UserDN("zed"), "-w", "zed-pass").CombinedOutput()
	if err != nil {
		t.Fatalf("argon2 bind: %v\n%s", err, out)
	}
}

func TestEscapeDN(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"alice":  "alice",
		"a,b":    `a\,b`,
		" x ":    `\ x\ `,
		"#x":     `\#x`,
		"a+b=c":  `a\+b\=c`,
		"a\x00b": `a\00b`,
	} {
		if got := escapeDN(in); got != want {
			t.Errorf("escapeDN(%q) = %q, want %q", in, got, want)
		}
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of ending
// the real test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func TestMissingBinary(t *testing.T) {
	for _, tc := range []struct {
		env           string
		skip, failure bool
	}{{"", true, false}, {"1", false, true}} {
		t.Run("GOWHO_REQUIRE_SERVERS="+tc.env, func(t *testing.T) {
			t.Setenv(RequireEnv, tc.env)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				find(r, "gowho-no-such-server", "gowho-no-such-package")
			}()
			<-done
			msg := r.skipped + r.failed
			if (r.skipped != "") != tc.skip || (r.failed != "") != tc.failure ||
				!strings.Contains(msg, "gowho-no-such-server not on PATH: apt-get install gowho-no-such-package (set GOWHO_REQUIRE_SERVERS=1 to fail instead)") {
				t.Fatalf("skipped %q, failed %q", r.skipped, r.failed)
			}
		})
	}
}
