package oidctest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/oidctest/internal/provider"
)

// Issue 15 item 4: gowho and oauth2-proxy side by side against the same
// provider. Opt-in (GOWHO_SIDE_BY_SIDE=1): it needs oauth2-proxy
// (go install github.com/oauth2-proxy/oauth2-proxy/v7@latest) and wrk,
// and measures for a while.

// oauth2Proxy finds the oauth2-proxy binary: $OAUTH2_PROXY, then PATH,
// then $(go env GOPATH)/bin.
func oauth2Proxy(t *testing.T) string {
	if p := os.Getenv("OAUTH2_PROXY"); p != "" {
		return p
	}
	if p, err := exec.LookPath("oauth2-proxy"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "oauth2-proxy")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("oauth2-proxy not found: go install github.com/oauth2-proxy/oauth2-proxy/v7@latest, or set OAUTH2_PROXY")
	return ""
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startOAuth2Proxy runs oauth2-proxy on addr in front of a static 200,
// with the provider's client "oauth2-proxy", logging off (as gowho's site).
func startOAuth2Proxy(t *testing.T, bin string, p *provider.Provider, addr string) {
	secret := make([]byte, 32)
	rand.Read(secret)
	base := "http://" + addr
	p.AddClient(provider.Client{ID: "oauth2-proxy", Secret: "oauth2-proxy-secret", RedirectURIs: []string{base + "/oauth2/callback"}})
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--http-address="+addr,
		"--provider=oidc",
		"--oidc-issuer-url="+p.Issuer,
		"--client-id=oauth2-proxy",
		"--client-secret=oauth2-proxy-secret",
		"--redirect-url="+base+"/oauth2/callback",
		"--cookie-secret="+base64.RawURLEncoding.EncodeToString(secret),
		"--cookie-secure=false",
		"--email-domain=*",
		"--upstream=static://200",
		"--skip-provider-button=true",
		"--code-challenge-method=S256",
		"--scope=openid email profile",
		"--request-logging=false",
		"--auth-logging=false",
		"--standard-logging=false",
	)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start oauth2-proxy: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	c := &http.Client{Timeout: time.Second}
	for i := 0; ; i++ { // bounded: 100 tries of 100 ms
		resp, err := c.Get(base + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("oauth2-proxy exited: %s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if i == 100 {
			t.Fatalf("oauth2-proxy did not answer /ping in 10s: %s", out)
		}
	}
}

// browse logs in as alice by following start (a URL that leads to the
// provider's login page) and returns the Cookie header the client then
// sends to base, and the page it ended on.
func browse(t testing.TB, p *provider.Provider, start, base string) (string, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login/username" {
		t.Fatalf("%s led to %s, want the provider's login page", start, resp.Request.URL)
	}
	resp, err = c.PostForm(p.Issuer+"/login/username", url.Values{
		"id": {resp.Request.URL.Query().Get("authRequestID")}, "username": {"alice"}, "password": {"alice-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login through %s ended %s at %s: %.300q", start, resp.Status, resp.Request.URL, b)
	}
	u, _ := url.Parse(base)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; "), string(b)
}

// probe logs what one request wrk will send gets back, so the two sides'
// answers can be compared (status, headers, body size): a fair comparison
// answers about the same bytes, sets no cookie on every request, and
// keeps the connection alive.
func probe(t *testing.T, u, cookie string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var hdr strings.Builder
	resp.Header.Write(&hdr)
	t.Logf("%s (Cookie header %d bytes) answered %s, %d header bytes, body %d bytes %.80q, close=%v:\n%s",
		u, len(cookie), resp.Status, hdr.Len(), len(b), b, resp.Close, hdr.String())
	if resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("%s sets a cookie on the cookie check: wrk would measure a re-issue on every request", u)
	}
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// wrk runs wrk against u with the cookie and returns requests per second,
// failing on any non-2xx answer.
func wrk(t *testing.T, u, cookie string, d time.Duration) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", "-t2", "-c32", "-d"+strconv.Itoa(int(d.Seconds()))+"s", "-H", "Cookie: "+cookie, u).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk %s: %v: %s", u, err, out)
	}
	if strings.Contains(string(out), "Non-2xx") {
		t.Fatalf("wrk %s got non-2xx answers (the cookie was not accepted): %s", u, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no Requests/sec in wrk's output: %s", out)
	}
	r, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("wrk %s:\n%s", u, out)
	return r
}

// TestSideBySideOAuth2Proxy: gowho's site and oauth2-proxy log the same
// user in at the same provider, then wrk measures the cookie check of each
// (a request carrying the login cookie, answered 200) in one run. gowho is
// measured twice: newSite's chain ("uid": the userid from the auth_tkt
// ticket) and with oidc's claims step ("claims": the email from the
// session record too, as oauth2-proxy answers with the email from its
// session cookie in GAP-Auth). The rounds alternate the three (the load of
// the machine changes) and the median of each counts. The goal is
// gowho at least 4x; the test reports the ratios and fails only when a
// side does not log in or its cookie is refused.
//
//	GOWHO_SIDE_BY_SIDE_DURATION  each wrk run (default 5s)
//	GOWHO_SIDE_BY_SIDE_ROUNDS    rounds (default 3)
func TestSideBySideOAuth2Proxy(t *testing.T) {
	if os.Getenv("GOWHO_SIDE_BY_SIDE") != "1" {
		t.Skip("set GOWHO_SIDE_BY_SIDE=1 (needs oauth2-proxy and wrk) to compare with oauth2-proxy")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Fatal(errors.New("wrk not found: apt-get install -y wrk"))
	}
	bin := oauth2Proxy(t)
	p := provider.Start(t)
	s := newSite(t, p, nil)
	addr := freeAddr(t)
	startOAuth2Proxy(t, bin, p, addr)
	proxy := "http://" + addr

	gowhoCookie, page := browse(t, p, s.URL+"/private", s.URL)
	if !hasHello(page, "u-alice") {
		t.Fatalf("gowho did not log alice in: %q", page)
	}
	// The second site registers the same client at p with its own
	// redirect URL: it logs in after the first.
	sc := newSiteOpts(t, p, siteOptions{Rememberer: "auth_tkt", Claims: true}, nil)
	claimsCookie, page := browse(t, p, sc.URL+"/private", sc.URL)
	if !hasHello(page, "u-alice") || !strings.Contains(page, "alice@") {
		t.Fatalf("gowho (claims) did not log alice in with her email: %q", page)
	}
	proxyCookie, _ := browse(t, p, proxy+"/oauth2/start?rd=%2F", proxy)
	if !strings.Contains(proxyCookie, "_oauth2_proxy=") {
		t.Fatalf("oauth2-proxy set no session cookie: %q", proxyCookie)
	}

	d := 5 * time.Second
	if v, err := time.ParseDuration(os.Getenv("GOWHO_SIDE_BY_SIDE_DURATION")); err == nil && v > 0 {
		d = v
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("GOWHO_SIDE_BY_SIDE_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	probe(t, s.URL+"/private", gowhoCookie)
	probe(t, sc.URL+"/private", claimsCookie)
	probe(t, proxy+"/", proxyCookie)
	var g, c, o []float64
	for i := 0; i < rounds; i++ {
		g = append(g, wrk(t, s.URL+"/private", gowhoCookie, d))
		c = append(c, wrk(t, sc.URL+"/private", claimsCookie, d))
		o = append(o, wrk(t, proxy+"/", proxyCookie, d))
		t.Logf("round %d: gowho %.0f req/s (%.2fx), gowho+claims %.0f req/s (%.2fx), oauth2-proxy %.0f req/s",
			i+1, g[i], g[i]/o[i], c[i], c[i]/o[i], o[i])
	}
	mg, mc, mo := median(g), median(c), median(o)
	msg := fmt.Sprintf("cookie check, median of %d rounds: gowho %.0f req/s (%.2fx), gowho+claims %.0f req/s (%.2fx), oauth2-proxy %.0f req/s (goal 4x)",
		rounds, mg, mg/mo, mc, mc/mo, mo)
	t.Log(msg)
	fmt.Println(msg)
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
