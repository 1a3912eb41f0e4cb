package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/gateway"
	"github.com/gowho/gowho/plugins/authtkt"
	_ "github.com/gowho/gowho/plugins/authtkt"
	_ "github.com/gowho/gowho/plugins/basicauth"
	_ "github.com/gowho/gowho/plugins/form"
	_ "github.com/gowho/gowho/plugins/htpasswd"
)

// Issue 13 item 5: the gateway's cost, measured with wrk over loopback.
// Each benchmark runs wrk a fixed number of times whatever b.N is, so run
// them with -benchtime 1x; GOWHO_WRK_DURATION sets each wrk run's length
// (default 5s).
//
//	cd bench && go test -run '^$' -bench 'Gateway' -benchtime 1x -count 1 -v

// gwSecret is the auth_tkt secret of the benchmarks' gateway.
const gwSecret = "bench-gateway-secret-0123456789abcdef-0123456789"

// gatewayTOML is the benchmarks' who.toml: examples/gateway.toml's chain
// (form, auth_tkt, Basic, htpasswd) without a metadata provider; upstream
// and assertion are set per benchmark.
const gatewayTOML = `
[general]
trusted_proxies = ["127.0.0.1/32", "::1/128"]

[gateway]
%s
assertion = %t

[[gateway.rule]]
path = "/public"
access = "public"

[plugin.form]
use = "form"
login_form_url = "/_who/login"
login_handler_path = "/_who/login_handler"
logout_handler_path = "/_who/logout"
html_only = true
rememberer_name = "auth_tkt"

[plugin.auth_tkt]
use = "authtkt"
secret = "` + gwSecret + `"
digest_algo = "sha256"

[plugin.basicauth]
use = "basicauth"
realm = "bench"

[plugin.htpasswd]
use = "htpasswd"
filename = "passwd"

[identifiers]
plugins = ["form;browser", "auth_tkt", "basicauth"]
[authenticators]
plugins = ["auth_tkt", "htpasswd"]
[challengers]
plugins = ["form;browser", "basicauth"]
`

// alicePasswd is alice:wonderland, htpasswd {SHA}.
const alicePasswd = "alice:{SHA}tiY7sUhYKUwI5L3866kDY+ENcrQ=\n"

// startBenchGateway serves a gateway of gatewayTOML over loopback
// (upstream "" is forward-auth mode) and returns its base URL.
func startBenchGateway(b *testing.B, upstream string, assertion bool) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(alicePasswd), 0o600); err != nil {
		b.Fatal(err)
	}
	up := ""
	if upstream != "" {
		up = "upstream = " + strconv.Quote(upstream)
	}
	file := filepath.Join(dir, "who.toml")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	chain, err := config.Parse(file, []byte(fmt.Sprintf(gatewayTOML, up, assertion)), config.Options{Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { chain.Close() })
	g, err := gateway.FromChain(chain, logger)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(g)
	b.Cleanup(srv.Close)
	return srv.URL
}

// ticketCookie is a Cookie header with a valid auth_tkt for alice.
func ticketCookie(b *testing.B) string {
	b.Helper()
	v, err := authtkt.Ticket{UserID: "alice", Time: time.Now()}.Cookie(gwSecret, "sha256")
	if err != nil {
		b.Fatal(err)
	}
	return "Cookie: " + (&http.Cookie{Name: "auth_tkt", Value: v, Quoted: true}).String()
}

// wrkRun runs wrk (1 thread, 8 connections, GOWHO_WRK_DURATION) against
// u with the headers and returns requests per second; any non-2xx answer
// fails the benchmark (a refused cookie would measure the wrong thing).
func wrkRun(b *testing.B, u string, headers ...string) float64 {
	b.Helper()
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not on PATH: apt-get install wrk")
	}
	d, err := time.ParseDuration(wrkDuration())
	if err != nil {
		b.Fatalf("GOWHO_WRK_DURATION: %v", err)
	}
	// A 10 s timeout, not wrk's 2 s: on a loaded host a request stalled
	// behind other processes counted as a socket error and failed the run.
	args := []string{"-t1", "-c8", "--timeout", "10s", "-d" + wrkDuration()}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, wrk, append(args, u)...).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk %s: %v\n%s", u, err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		b.Fatalf("wrk %s: errors or non-2xx answers:\n%s", u, out)
	}
	m := wrkRequests.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk printed no Requests/sec:\n%s", out)
	}
	rps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatal(err)
	}
	return rps
}

// mustStatus GETs u with the headers and fails unless the status is want.
func mustStatus(b *testing.B, u string, want int, headers ...string) {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<12))
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("GET %s: %s, want %d: %.200s", u, resp.Status, want, body)
	}
}

// ratio runs wrk on the two sides in the order a, b, b, a (so a drift of
// the machine's load weighs on both) and returns each side's mean.
func ratio(b *testing.B, a, c func() float64) (float64, float64) {
	b.Helper()
	ra := a()
	rc := c()
	rc = (rc + c()) / 2
	ra = (ra + a()) / 2
	return ra, rc
}

// oauth2ProxyBin finds oauth2-proxy: $OAUTH2_PROXY, PATH, then
// $(go env GOPATH)/bin (as oidctest's side-by-side test does).
func oauth2ProxyBin(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("OAUTH2_PROXY"); p != "" {
		return p
	}
	if p, err := exec.LookPath("oauth2-proxy"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "oauth2-proxy")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "oauth2-proxy not found: go install github.com/oauth2-proxy/oauth2-proxy/v7@latest, or set OAUTH2_PROXY"
	if os.Getenv("GOWHO_REQUIRE_SERVERS") == "1" {
		b.Fatal(msg)
	}
	b.Skip(msg)
	return ""
}

// freeLoopback returns a 127.0.0.1:port that was free a moment ago.
func freeLoopback(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// runUntilAnswer starts cmd, stops it at the benchmark's end, and waits
// until GET u answers (bounded: 10 s).
func runUntilAnswer(b *testing.B, cmd *exec.Cmd, u string) {
	b.Helper()
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	c := &http.Client{Timeout: time.Second}
	for i := 0; ; i++ {
		if resp, err := c.Get(u); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-done:
			b.Fatalf("%s exited: %s", cmd.Path, out)
		case <-time.After(50 * time.Millisecond):
		}
		if i == 200 {
			b.Fatalf("%s did not answer %s in 10s: %s", cmd.Path, u, out)
		}
	}
}

// startOAuth2ProxyHtpasswd runs oauth2-proxy with alice in an htpasswd
// file and dummy provider URLs (it never talks to a provider), logs alice
// in at /oauth2/sign_in and returns its base URL and the session's Cookie
// header.
func startOAuth2ProxyHtpasswd(b *testing.B) (string, string) {
	b.Helper()
	bin := oauth2ProxyBin(b)
	dir := b.TempDir()
	pw := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(pw, []byte(alicePasswd), 0o600); err != nil {
		b.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	addr := freeLoopback(b)
	base := "http://" + addr
	cmd := exec.Command(bin,
		"--http-address="+addr,
		"--provider=oidc",
		"--skip-oidc-discovery",
		"--oidc-issuer-url=http://127.0.0.1:1/issuer",
		"--login-url=http://127.0.0.1:1/authorize",
		"--redeem-url=http://127.0.0.1:1/token",
		"--oidc-jwks-url=http://127.0.0.1:1/jwks",
		"--client-id=bench", "--client-secret=bench-secret",
		"--redirect-url="+base+"/oauth2/callback",
		"--cookie-secret="+base64.RawURLEncoding.EncodeToString(secret),
		"--cookie-secure=false",
		"--email-domain=*",
		"--htpasswd-file="+pw,
		"--upstream=static://200",
		"--request-logging=false", "--auth-logging=false", "--standard-logging=false",
	)
	runUntilAnswer(b, cmd, base+"/ping")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	resp, err := c.PostForm(base+"/oauth2/sign_in", url.Values{"username": {"alice"}, "password": {"wonderland"}, "rd": {"/"}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	cookie := "Cookie: " + strings.Join(parts, "; ")
	if !strings.Contains(cookie, "_oauth2_proxy=") {
		b.Fatalf("oauth2-proxy's sign_in set no session cookie (%s)", resp.Status)
	}
	return base, cookie
}

// BenchmarkGatewayVsOAuth2Proxy: the forward-auth decision for a request
// with a valid auth_tkt cookie (nginx style: GET /_who/auth with
// X-Original-URI, answered 200), against oauth2-proxy's /oauth2/auth
// with its own session cookie (answered 202), on the same machine under
// the same wrk. It reports both and their ratio, with the gateway's
// signed assertion off and on, and the ceiling: an empty net/http 200
// under the same wrk (noop/oauth2proxy). The goal:
// gowho/oauth2-proxy >= 4.
func BenchmarkGatewayVsOAuth2Proxy(b *testing.B) {
	o2, o2cookie := startOAuth2ProxyHtpasswd(b)
	mustStatus(b, o2+"/oauth2/auth", http.StatusAccepted, o2cookie)
	plain := startBenchGateway(b, "", false)
	signed := startBenchGateway(b, "", true)
	cookie := ticketCookie(b)
	const orig = "X-Original-URI: /private/x"
	mustStatus(b, plain+"/_who/auth", http.StatusOK, cookie, orig)
	mustStatus(b, plain+"/_who/auth", http.StatusUnauthorized, orig) // the cookie is what lets it in
	mustStatus(b, signed+"/_who/auth", http.StatusOK, cookie, orig)
	b.ResetTimer()
	o, g := ratio(b,
		func() float64 { return wrkRun(b, o2+"/oauth2/auth", o2cookie) },
		func() float64 { return wrkRun(b, plain+"/_who/auth", cookie, orig) })
	s := wrkRun(b, signed+"/_who/auth", cookie, orig)
	// The ceiling: an empty net/http handler answering 200, served like
	// the gateway, under the same wrk. No forward-auth server written
	// with net/http answers faster on this machine, so its ratio bounds
	// what the gateway's can be.
	noop := noopServer(b)
	n := wrkRun(b, noop, cookie, orig)
	b.ReportMetric(o, "oauth2proxy-req/s")
	b.ReportMetric(g, "gowho-req/s")
	b.ReportMetric(s, "gowho-assertion-req/s")
	b.ReportMetric(n, "noop-req/s")
	b.ReportMetric(g/o, "gowho/oauth2proxy")
	b.ReportMetric(s/o, "gowho-assertion/oauth2proxy")
	b.ReportMetric(n/o, "noop/oauth2proxy")
}

// noopServer serves an empty 200 to every request over loopback, the
// way startBenchGateway serves the gateway, and returns its base URL: the
// fastest answer a net/http forward-auth server can give, for the
// benchmarks' ceilings.
func noopServer(b *testing.B) string {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// okUpstream is the application of the proxy benchmarks: a small 200.
func okUpstream(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "hello, "+r.Header.Get("X-Remote-User")+"\n")
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkGatewayReverseProxy: `who gateway` in reverse-proxy mode
// (auth_tkt cookie, assertion off) against a bare httputil.ReverseProxy
// to the same upstream. The goal: gateway/bare >= 0.8.
func BenchmarkGatewayReverseProxy(b *testing.B) {
	up := okUpstream(b)
	target, _ := url.Parse(up.URL)
	// The gateway's own transport settings (gateway.New): a clone of
	// http.DefaultTransport keeping up to 256 idle connections per host
	// (the default's 2 would make the baseline dial for most requests).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	bare := httptest.NewServer(&httputil.ReverseProxy{Transport: tr, ErrorLog: log.New(io.Discard, "", 0), Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
	}})
	b.Cleanup(bare.Close)
	gw := startBenchGateway(b, up.URL, false)
	cookie := ticketCookie(b)
	mustStatus(b, bare.URL+"/private/x", http.StatusOK, cookie)
	mustStatus(b, gw+"/private/x", http.StatusOK, cookie)
	mustStatus(b, gw+"/private/x", http.StatusUnauthorized)
	b.ResetTimer()
	r, g := ratio(b,
		func() float64 { return wrkRun(b, bare.URL+"/private/x", cookie) },
		func() float64 { return wrkRun(b, gw+"/private/x", cookie) })
	b.ReportMetric(r, "bare-req/s")
	b.ReportMetric(g, "gateway-req/s")
	b.ReportMetric(g/r, "gateway/bare")
}

// nginxDocConf is docs/gateway.md's nginx server block, as the proxy
// tests run it.
const nginxDocConf = "../internal/proxytest/testdata/nginx.conf"

// startBenchNginx runs nginx in the foreground (one process, as the proxy
// tests do) with server as its server block (listen 80; made addr) and
// returns its base URL.
func startBenchNginx(b *testing.B, server string) string {
	b.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if os.Getenv("GOWHO_REQUIRE_SERVERS") == "1" {
			b.Fatal("nginx not on PATH: apt-get install nginx")
		}
		b.Skip("nginx not on PATH: apt-get install nginx")
	}
	dir := b.TempDir()
	addr := freeLoopback(b)
	server = strings.Replace(server, "listen 80;", "listen "+addr+";", 1)
	var temps strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "  %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	conf := fmt.Sprintf("daemon off;\nmaster_process off;\nworker_processes 1;\npid %[1]s/nginx.pid;\n"+
		"error_log %[1]s/error.log warn;\nevents { worker_connections 1024; }\n"+
		"http {\n  access_log off;\n%[2]s%[3]s\n}\n", dir, temps.String(), server)
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", file)
	runUntilAnswer(b, cmd, "http://"+addr+"/")
	return "http://" + addr
}

// BenchmarkGatewayNginx: nginx -> auth_request to the gateway ->
// upstream (docs/gateway.md's server block, an auth_tkt cookie, assertion
// off) against nginx -> upstream without auth, one nginx process each,
// and the ceiling: the same block with an empty 200 in the gateway's
// place (noop-auth/plain), what nginx's auth subrequest alone leaves.
// The goal: with/without >= 0.7.
func BenchmarkGatewayNginx(b *testing.B) {
	up := okUpstream(b)
	upAddr := strings.TrimPrefix(up.URL, "http://")
	gw := strings.TrimPrefix(startBenchGateway(b, "", false), "http://")
	doc, err := os.ReadFile(nginxDocConf)
	if err != nil {
		b.Fatal(err)
	}
	server := strings.NewReplacer("127.0.0.1:9091", gw, "127.0.0.1:8000", upAddr).Replace(string(doc))
	auth := startBenchNginx(b, server)
	// The same location / without auth_request, with the same keepalive.
	plain := startBenchNginx(b, `upstream app {
    server `+upAddr+`;
    keepalive 16;
}
server {
    listen 80;
    location / {
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }
}`)
	// The ceiling: the same server block with an empty 200 in the
	// gateway's place, so nginx's auth subrequest costs what it costs
	// and the auth server nothing.
	noop := strings.TrimPrefix(noopServer(b), "http://")
	ceiling := startBenchNginx(b, strings.NewReplacer("127.0.0.1:9091", noop, "127.0.0.1:8000", upAddr).Replace(string(doc)))
	cookie := ticketCookie(b)
	mustStatus(b, auth+"/private/x", http.StatusOK, cookie)
	mustStatus(b, auth+"/private/x", http.StatusUnauthorized)
	mustStatus(b, plain+"/private/x", http.StatusOK, cookie)
	mustStatus(b, ceiling+"/private/x", http.StatusOK)
	b.ResetTimer()
	p, a := ratio(b,
		func() float64 { return wrkRun(b, plain+"/private/x", cookie) },
		func() float64 { return wrkRun(b, auth+"/private/x", cookie) })
	n := wrkRun(b, ceiling+"/private/x", cookie)
	b.ReportMetric(p, "nginx-req/s")
	b.ReportMetric(a, "nginx-auth-req/s")
	b.ReportMetric(n, "nginx-noop-auth-req/s")
	b.ReportMetric(a/p, "auth/plain")
	b.ReportMetric(n/p, "noop-auth/plain")
}
