// Package testserver starts real servers (memcached, Redis, OpenLDAP slapd)
// for one test, as plain child processes on free loopback ports, and stops
// them when the test ends.
//
// Each constructor finds the binary on PATH (and /usr/sbin for slapd),
// works in t.TempDir(), waits until the port answers and registers a
// t.Cleanup that kills the process. When the binary is missing the test is
// skipped with the apt-get line that installs it, or fails when the
// environment variable GOWHO_REQUIRE_SERVERS=1 (as in CI).
package testserver

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing server binary
// from a skip into a failure.
const RequireEnv = "GOWHO_REQUIRE_SERVERS"

// StartTimeout is how long a server may take to answer on its port.
const StartTimeout = 15 * time.Second

// Server is a real server process started for one test.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Port is the port of Addr.
	Port int
	// Dir is the server's temporary directory (configuration, data).
	Dir string
	// URL is the ldap:// URL (Slapd only).
	URL string
	// LDAPSURL is the ldaps:// URL and CAFile the PEM file of the CA that
	// signed the server's certificate (Slapd with SlapdOptions.TLS only).
	LDAPSURL, CAFile string

	t    testing.TB
	name string
	bin  string
	args func(port int) []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current process has exited
	stderr *logBuffer

	repick     func() // picks the other ports again before each first-start attempt
	ldapmodify string // Slapd: the ldapmodify binary
	hash       string // Slapd: how passwords are stored
}

// logBuffer is a goroutine-safe buffer for a process's output, bounded so a
// chatty server cannot eat the test's memory.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxLog = 8 << 20

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > maxLog {
		b.buf.Next(b.buf.Len() + len(p) - maxLog)
	}
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// find returns the path of binary name, looking on PATH and in extra
// directories, or skips (fails under GOWHO_REQUIRE_SERVERS=1) with an
// install hint naming pkg.
func find(t testing.TB, name, pkg string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range extra {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, "%s not on PATH: apt-get install %s", name, pkg)
	return ""
}

// Find returns the path of the program name on PATH, or skips the test
// (fails it under GOWHO_REQUIRE_SERVERS=1) with the apt-get line of pkg.
func Find(t testing.TB, name, pkg string) string {
	t.Helper()
	return find(t, name, pkg)
}

// Missing is the rule of every test that needs something installed: it
// skips the test with the message, or fails it when
// GOWHO_REQUIRE_SERVERS=1 (as in CI), so a missing package never passes
// CI silently.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(" (set %s=1 to fail instead)", RequireEnv)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// PythonRepoze returns Debian's /usr/bin/python3 when it imports
// repoze.who (package python3-repoze.who), else Missing.
func PythonRepoze(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import repoze.who._auth_tkt").Run(); err != nil {
		Missing(t, "%s cannot import repoze.who (%v): apt-get install python3-repoze.who", py, err)
	}
	return py
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago. It
// is taken below Linux's ephemeral range (32768-60999), so that outgoing
// connections, which take their local ports from that range, cannot grab
// it before the server binds it.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: no free loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start builds the server, starts it (retrying on another port when the
// first is taken meanwhile) and registers its cleanup.
func start(t testing.TB, name, bin, dir string, args func(port int) []string, repick func()) *Server {
	t.Helper()
	s := &Server{t: t, name: name, bin: bin, args: args, Dir: dir, stderr: &logBuffer{}, repick: repick}
	t.Cleanup(s.Stop)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if s.repick != nil {
			s.repick()
		}
		s.Port = FreePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		if err = s.startProcess(); err == nil {
			return s
		}
		s.Stop()
	}
	t.Fatalf("testserver: %s: %v\n--- %s output ---\n%s", name, err, name, s.stderr.String())
	return nil
}

// startProcess runs the binary and waits until the port answers.
func (s *Server) startProcess() error {
	s.mu.Lock()
	cmd := exec.Command(s.bin, s.args(s.Port)...)
	cmd.Dir = s.Dir
	cmd.Stdout = s.stderr
	cmd.Stderr = s.stderr
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(done)
	}()

	deadline := time.Now().Add(StartTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("%s exited before answering on %s (%v)", filepath.Base(s.bin), s.Addr, cmd.ProcessState)
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer on %s within %v", filepath.Base(s.bin), s.Addr, StartTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the process and waits for it to exit. It is idempotent, and
// is called by the test's cleanup.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	sig := syscall.SIGTERM
	if s.name != "slapd" {
		sig = syscall.SIGKILL // in-memory servers: a crash, as outage tests want
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-done
}

// Start starts the server again on the same port after Stop and waits
// until it answers; it does nothing while the server runs. The data of an
// in-memory server (memcached, Redis without persistence) is gone.
func (s *Server) Start() {
	s.t.Helper()
	if s.Running() {
		return
	}
	if err := s.startProcess(); err != nil {
		s.Stop()
		s.t.Fatalf("testserver: restart %s: %v\n--- %s output ---\n%s", s.name, err, s.name, s.stderr.String())
	}
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// PID returns the process id of the running server, or 0.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Output returns what the server wrote to stdout and stderr so far (the
// last 8 MiB).
func (s *Server) Output() string { return s.stderr.String() }

// WaitOutput waits until the output from byte offset from on (a len of an
// earlier Output) holds substr and returns that part, or fails the test
// after 10s. The server's output reaches Output through a pipe, so a line
// the server logged before it answered may show a moment after the answer:
// a test that looks for it reads it with WaitOutput, not Output.
func (s *Server) WaitOutput(t testing.TB, from int, substr string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := s.Output()
		if from > len(out) {
			from = len(out) // the buffer dropped its head
		}
		if strings.Contains(out[from:], substr) {
			return out[from:]
		}
		if time.Now().After(deadline) {
			t.Fatalf("testserver: %s did not write %q within 10s; it wrote:\n%s", s.name, substr, out[from:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Memcached starts memcached -l 127.0.0.1 -p PORT -U 0 (with -u memcache
// when run as root).
func Memcached(t testing.TB) *Server {
	t.Helper()
	bin := find(t, "memcached", "memcached")
	dir := t.TempDir()
	var user []string
	if os.Geteuid() == 0 {
		u := "root"
		if _, err := lookupUser("memcache"); err == nil {
			u = "memcache"
		}
		user = []string{"-u", u}
	}
	return start(t, "memcached", bin, dir, func(port int) []string {
		return append([]string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64", "-c", "1024"}, user...)
	}, nil)
}

// Redis starts redis-server on 127.0.0.1 with no persistence, in a
// temporary directory.
func Redis(t testing.TB) *Server {
	t.Helper()
	bin := find(t, "redis-server", "redis-server")
	dir := t.TempDir()
	return start(t, "redis-server", bin, dir, func(port int) []string {
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--loglevel", "warning"}
	}, nil)
}
