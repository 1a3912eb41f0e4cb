// Package apachetest starts Debian's Apache httpd with mod_auth_tkt for one
// test, as a plain foreground child process on free loopback ports with
// its own configuration directory, so auth_tkt interoperability is tested
// against the real module.
//
// When apache2 or mod_auth_tkt is missing the test is skipped with the
// apt-get line that installs them, or fails when GOWHO_REQUIRE_SERVERS=1.
package apachetest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
)

// ModulesDir is where Debian installs Apache modules.
const ModulesDir = "/usr/lib/apache2/modules"

// Digest types (TKTAuthDigestType), one virtual host and port each.
var Digests = []string{"MD5", "SHA256", "SHA512"}

// Options configures the server.
type Options struct {
	// Secret is TKTAuthSecret (default "s33kr1t-gowho").
	Secret string
	// Timeout is TKTAuthTimeout (default "2h").
	Timeout string
	// LoginURL is TKTAuthLoginURL (default: the server's own /login).
	LoginURL string
}

// Server is a running Apache. Each digest type has its own port; every
// port serves:
//
//	/protected/        valid-user, client IP in the digest (TKTAuthIgnoreIP off)
//	/protected-noip/   valid-user, TKTAuthIgnoreIP on (0.0.0.0 in the digest)
//	/protected-admin/  TKTAuthToken admin, IgnoreIP on; others go to /unauth
//	/protected-refresh/ IgnoreIP on, TKTAuthTimeoutRefresh 1: Apache
//	                   reissues (Set-Cookie, its own base64 format) any
//	                   ticket at least a second old
//	/login, /unauth    plain pages (the redirect targets)
//
// A protected page is a CGI script printing REMOTE_USER=…,
// REMOTE_USER_TOKENS=…, REMOTE_USER_DATA=… lines; an unauthenticated
// request is redirected (307) to /login.
type Server struct {
	// URL maps a digest type ("MD5", "SHA256", "SHA512") to the base URL
	// of its virtual host, e.g. "http://127.0.0.1:40123".
	URL map[string]string
	// Dir holds httpd.conf, error.log and access.log.
	Dir    string
	Secret string

	cmd  *exec.Cmd
	out  *bytes.Buffer
	mu   sync.Mutex
	done chan struct{}
}

// Start starts Apache for the test and stops it at cleanup.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("apache2")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/apache2"); e == nil {
			bin = "/usr/sbin/apache2"
		} else {
			testserver.Missing(t, "apachetest: apache2 not found (apt-get install -y apache2 libapache2-mod-auth-tkt)")
		}
	}
	if _, err := os.Stat(filepath.Join(ModulesDir, "mod_auth_tkt.so")); err != nil {
		testserver.Missing(t, "apachetest: %s/mod_auth_tkt.so not found (apt-get install -y libapache2-mod-auth-tkt)", ModulesDir)
	}
	if o.Secret == "" {
		o.Secret = "s33kr1t-gowho"
	}
	if o.Timeout == "" {
		o.Timeout = "2h"
	}
	// The children run as www-data when we are root: the directory must be
	// world-readable, so not t.TempDir (0700).
	dir, err := os.MkdirTemp("", "gowho-apache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{dir, filepath.Join(dir, "htdocs"), filepath.Join(dir, "cgi")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("cgi/whoami.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n"+
		"printf 'REMOTE_USER=%s\\n' \"$REMOTE_USER\"\n"+
		"printf 'REMOTE_USER_TOKENS=%s\\n' \"$REMOTE_USER_TOKENS\"\n"+
		"printf 'REMOTE_USER_DATA=%s\\n' \"$REMOTE_USER_DATA\"\n"+
		"printf 'AUTH_TYPE=%s\\n' \"$AUTH_TYPE\"\n"+
		"printf 'REMOTE_ADDR=%s\\n' \"$REMOTE_ADDR\"\n", 0o755)
	write("cgi/page.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\nprintf 'PAGE=%s\\n' \"$SCRIPT_NAME\"\n", 0o755)
	write("htdocs/index.html", "public\n", 0o644)

	s := &Server{URL: map[string]string{}, Dir: dir, Secret: o.Secret, out: &bytes.Buffer{}, done: make(chan struct{})}
	var conf strings.Builder
	runAs := ""
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("www-data"); err == nil {
			runAs = "User www-data\nGroup www-data\n"
		}
	}
	fmt.Fprintf(&conf, `ServerRoot %q
ServerName 127.0.0.1
PidFile %q
DefaultRuntimeDir %q
Mutex file:%s default
%sErrorLog %q
LogLevel warn
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%b" common
CustomLog %q common
LoadModule mpm_prefork_module %[8]s/mod_mpm_prefork.so
LoadModule authn_core_module  %[8]s/mod_authn_core.so
LoadModule authz_core_module  %[8]s/mod_authz_core.so
LoadModule authz_user_module  %[8]s/mod_authz_user.so
LoadModule auth_tkt_module    %[8]s/mod_auth_tkt.so
LoadModule alias_module       %[8]s/mod_alias.so
LoadModule cgi_module         %[8]s/mod_cgi.so
LoadModule mime_module        %[8]s/mod_mime.so
StartServers 1
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16
TypesConfig /etc/mime.types
DocumentRoot %q
<Directory />
  Require all granted
</Directory>
TKTAuthSecret %q
`, dir, filepath.Join(dir, "httpd.pid"), dir, dir, runAs, filepath.Join(dir, "error.log"),
		filepath.Join(dir, "access.log"), ModulesDir, filepath.Join(dir, "htdocs"), o.Secret)
	for _, d := range Digests {
		port := testserver.FreePort(t)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		s.URL[d] = base
		loginURL := o.LoginURL
		if loginURL == "" {
			loginURL = base + "/login"
		}
		fmt.Fprintf(&conf, `Listen 127.0.0.1:%[1]d
<VirtualHost 127.0.0.1:%[1]d>
  ServerName 127.0.0.1
  TKTAuthDigestType %[2]s
  ScriptAliasMatch "^/(login|unauth)$" %[3]q
  ScriptAliasMatch "^/protected[a-z-]*/" %[4]q
  <LocationMatch "^/protected">
    AuthType None
    Require valid-user
    TKTAuthLoginURL %[7]s
    TKTAuthTimeout %[6]s
  </LocationMatch>
  <LocationMatch "^/protected(/|-noip/|-admin/)">
    TKTAuthTimeoutRefresh 0
  </LocationMatch>
  <LocationMatch "^/protected-refresh/">
    TKTAuthIgnoreIP on
    TKTAuthTimeoutRefresh 1
  </LocationMatch>
  <Location /protected/>
    TKTAuthIgnoreIP off
  </Location>
  <Location /protected-noip/>
    TKTAuthIgnoreIP on
  </Location>
  <Location /protected-admin/>
    TKTAuthIgnoreIP on
    TKTAuthToken admin
    TKTAuthUnauthURL %[5]s/unauth
  </Location>
</VirtualHost>
`, port, d, filepath.Join(dir, "cgi/page.cgi"), filepath.Join(dir, "cgi/whoami.cgi"), base, o.Timeout, loginURL)
	}
	write("httpd.conf", conf.String(), 0o644)

	cmd := exec.Command(bin, "-f", filepath.Join(dir, "httpd.conf"), "-DFOREGROUND")
	cmd.Stdout = &lockedWriter{s: s}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("apachetest: start %s: %v", bin, err)
	}
	s.cmd = cmd
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(15 * time.Second)
	for _, d := range Digests {
		addr := strings.TrimPrefix(s.URL[d], "http://")
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-s.done:
				t.Fatalf("apachetest: apache2 exited: %s\n%s", s.output(), s.ErrorLog())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("apachetest: apache2 did not listen on %s: %s\n%s", addr, s.output(), s.ErrorLog())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return s
}

type lockedWriter struct{ s *Server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.out.Len() < 1<<20 {
		w.s.out.Write(p)
	}
	return len(p), nil
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// ErrorLog returns Apache's error log.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	return string(b)
}

// stop terminates the parent (which takes its children down) and, after a
// grace period, kills the whole process group it started.
func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pid := s.cmd.Process.Pid
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
	// Children of a prefork parent leave with it; kill stragglers of our
	// own process group only.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
