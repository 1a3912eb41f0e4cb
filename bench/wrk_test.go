package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
)

// wrkDuration is how long each wrk run lasts (GOWHO_WRK_DURATION, a wrk
// duration such as "5s"; default 5s).
func wrkDuration() string {
	if d := os.Getenv("GOWHO_WRK_DURATION"); d != "" {
		return d
	}
	return "5s"
}

// wrkRequests matches wrk's "Requests/sec:" line.
var wrkRequests = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// runWrk runs wrk with one thread and 8 connections against url, sending
// header, and returns the requests per second.
func runWrk(b *testing.B, wrk, url, header string) float64 {
	b.Helper()
	d, err := time.ParseDuration(wrkDuration())
	if err != nil {
		b.Fatalf("GOWHO_WRK_DURATION: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, wrk, "-t1", "-c8", "-d"+wrkDuration(), "-H", header, url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	m := wrkRequests.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk printed no Requests/sec:\n%s", out)
	}
	rps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatalf("wrk Requests/sec %q: %v", m[1], err)
	}
	return rps
}

// BenchmarkWrkCookieGET serves a cookie GET over loopback to two servers in
// this process, the same handler behind a who chain of auth_tkt
// (identifier and authenticator) and behind an empty chain, and loads each
// with wrk (1 thread, 8 connections, GOWHO_WRK_DURATION each), in the order
// empty, auth_tkt, auth_tkt, empty so a drift in the machine's load weighs
// on both alike. It reports each server's requests per second and
// authtkt/empty, the auth_tkt server's throughput as a fraction of the
// empty chain's. It is skipped when wrk is not on PATH. It runs wrk four
// times whatever b.N is (about 20s at the default duration).
//
//	cd bench && go test -run '^$' -bench WrkCookieGET -benchtime 1x -count 5 | tee /tmp/wrk.txt && benchstat /tmp/wrk.txt
func BenchmarkWrkCookieGET(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not on PATH")
	}
	const secret = "0123456789abcdef0123456789abcdef"
	p, err := authtkt.New(authtkt.Options{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	tkt, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "auth_tkt", Plugin: p}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: p}},
	})
	if err != nil {
		b.Fatal(err)
	}
	empty, err := who.New(who.Config{})
	if err != nil {
		b.Fatal(err)
	}
	v, err := authtkt.Ticket{UserID: "alice", Tokens: []string{"admin"}, Time: time.Now()}.Cookie(secret, "md5")
	if err != nil {
		b.Fatal(err)
	}
	cookie := (&http.Cookie{Name: "auth_tkt", Value: v, Quoted: true}).String()
	servers := map[string]*httptest.Server{
		"empty":   httptest.NewServer(empty.Wrap(hello)),
		"authtkt": httptest.NewServer(tkt.Wrap(hello)),
	}
	for name, srv := range servers {
		defer srv.Close()
		want := map[string]string{"empty": "hello, anonymous", "authtkt": "hello, alice"}[name]
		if got := getBody(b, srv, cookie); got != want {
			b.Fatalf("%s server answered %q, want %q", name, got, want)
		}
	}
	rps := map[string]float64{}
	b.ResetTimer()
	for _, name := range []string{"empty", "authtkt", "authtkt", "empty"} {
		rps[name] += runWrk(b, wrk, servers[name].URL, "Cookie: "+cookie) / 2
	}
	b.ReportMetric(rps["empty"], "empty-req/s")
	b.ReportMetric(rps["authtkt"], "authtkt-req/s")
	b.ReportMetric(rps["authtkt"]/rps["empty"], "authtkt/empty")
}

// getBody GETs srv's root with the cookie and returns the body.
func getBody(b *testing.B, srv *httptest.Server, cookie string) string {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
	return string(body)
}
