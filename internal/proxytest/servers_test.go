package proxytest

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/gateway"
	"github.com/gowho/gowho/internal/testserver"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
)

// The addresses the documented configurations name, replaced by the tests.
const (
	docGateway = "127.0.0.1:9091"
	docApp     = "127.0.0.1:8000"
)

// groupsMD is the tests' metadata provider: alice is in admins, bob in
// staff; both have a mail.
type groupsMD struct{}

func (groupsMD) AddMetadata(_ *http.Request, id who.Identity) error {
	switch id.Str(who.KeyUserID) {
	case "alice":
		id["groups"] = []string{"admins", "staff"}
		id["mail"] = "alice@example.com"
	case "bob":
		id["groups"] = []string{"staff"}
		id["mail"] = "bob@example.com"
	}
	return nil
}

// syncBuf is a goroutine-safe buffer for a process's output or a log.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 {
		s.b.Reset()
	}
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gatewayServer is the gateway of testdata/who.toml on a loopback port.
type gatewayServer struct {
	Addr string // host:port
	Log  *syncBuf
	srv  *httptest.Server
}

// startGateway loads testdata/who.toml (edit, when not nil, changes its
// text first: reverse-proxy mode adds upstream) and serves the gateway in
// this process, as `who gateway` does (gateway.FromChain).
func startGateway(t testing.TB, edit func(string) string) *gatewayServer {
	t.Helper()
	file, err := filepath.Abs(filepath.Join("testdata", "who.toml"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if edit != nil {
		src = edit(src)
	}
	lb := &syncBuf{}
	logger := slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := who.DefaultRegistry.Clone()
	reg.Register("groups", func(who.PluginSpec) (any, error) { return groupsMD{}, nil })
	chain, err := config.Parse(file, []byte(src), config.Options{Registry: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	g, err := gateway.FromChain(chain, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &gatewayServer{Addr: strings.TrimPrefix(srv.URL, "http://"), Log: lb, srv: srv}
}

// process is a server binary run by a test until its cleanup.
type process struct {
	Addr string // 127.0.0.1:port it answers on
	Dir  string
	out  *syncBuf
	cmd  *exec.Cmd
	done chan struct{}
}

// Output is what the process wrote so far.
func (p *process) Output() string { return p.out.String() }

// Stop kills the process and waits for it (idempotent).
func (p *process) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// startProcess runs bin with args in dir (env added to the environment)
// and waits until addr answers, failing the test with the process's
// output when it exits first or does not answer within
// testserver.StartTimeout.
func startProcess(t testing.TB, name, bin, dir, addr string, env []string, args ...string) *process {
	t.Helper()
	p := &process{Addr: addr, Dir: dir, out: &syncBuf{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Stop)
	deadline := time.Now().Add(testserver.StartTimeout)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited before answering on %s (%v):\n%s", name, addr, p.cmd.ProcessState, p.Output())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer on %s within %v:\n%s", name, addr, testserver.StartTimeout, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loopback returns a free 127.0.0.1:port.
func loopback(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testserver.FreePort(t)))
}

// Python is Debian's interpreter, which has python3-waitress.
const Python = "/usr/bin/python3"

// startApp serves testdata/app.py with waitress.
func startApp(t testing.TB) *process {
	t.Helper()
	if err := exec.Command(Python, "-c", "import waitress").Run(); err != nil {
		testserver.Missing(t, "%s cannot import waitress (%v): apt-get install python3-waitress", Python, err)
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	addr := loopback(t)
	return startProcess(t, "waitress", Python, dir, addr, []string{"PYTHONDONTWRITEBYTECODE=1"},
		"-m", "waitress", "--listen="+addr, "--threads=8", "app:app")
}

// readConfig returns testdata's file name with the documented addresses
// replaced: the gateway's, the application's and each of repl's pairs.
func readConfig(t testing.TB, name, gatewayAddr, appAddr string, repl ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	pairs := append([]string{docGateway, gatewayAddr, docApp, appAddr}, repl...)
	s := string(data)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("testdata/%s does not hold %q", name, pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

// startNginx runs nginx in the foreground (one process) with
// testdata/nginx.conf as its server block, in front of the gateway and
// the application.
func startNginx(t testing.TB, gatewayAddr, appAddr string) *process {
	t.Helper()
	bin := "/usr/sbin/nginx" // Debian's, off a non-root PATH
	if p, err := exec.LookPath("nginx"); err == nil {
		bin = p
	} else if _, err := os.Stat(bin); err != nil {
		bin = testserver.Find(t, "nginx", "nginx")
	}
	dir := t.TempDir()
	addr := loopback(t)
	server := readConfig(t, "nginx.conf", gatewayAddr, appAddr,
		"listen 80;", "listen "+addr+";")
	if err := os.WriteFile(filepath.Join(dir, "server.conf"), []byte(server), 0o600); err != nil {
		t.Fatal(err)
	}
	var temps strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "  %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	main := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
%[2]s  include %[1]s/server.conf;
}
`, dir, temps.String())
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, "nginx", bin, dir, addr, nil, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", b)
		}
	})
	return p
}

// startCaddy runs `caddy run` with testdata/Caddyfile (its site name made
// http://127.0.0.1:PORT) after global options that turn the admin API
// and automatic HTTPS off and keep Caddy's storage in the test's
// directory.
func startCaddy(t testing.TB, gatewayAddr, appAddr string) *process {
	t.Helper()
	bin := testserver.Find(t, "caddy", "caddy")
	dir := t.TempDir()
	addr := loopback(t)
	site := readConfig(t, "Caddyfile", gatewayAddr, appAddr, "app.example {", "http://"+addr+" {")
	global := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n\tstorage file_system %s\n}\n\n", filepath.Join(dir, "storage"))
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(global+site), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir}
	return startProcess(t, "caddy", bin, dir, addr, env, "run", "--config", file, "--adapter", "caddyfile")
}
