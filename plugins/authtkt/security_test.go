package authtkt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
)

// variant returns the i-th of the cookie spellings that all carry ticket
// v (kinds 0-2) or a forged ticket (kind 3), each padded with double
// quotes so that every value is distinct and up to ~7 KiB long.
func variant(v string, i int) string {
	n := i / 4
	left, right := strings.Repeat(`"`, n%7001), strings.Repeat(`"`, n/7001)
	switch i % 4 {
	case 0:
		return left + v + right
	case 1:
		return left + strings.ReplaceAll(v, "!", "%21") + right
	case 2:
		return left + base64.StdEncoding.EncodeToString([]byte(v)) + right
	default:
		return left + fmt.Sprintf("%032x", i) + v[32:] + right
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rssKiB is the process's resident set (Linux; 0 elsewhere), for the log.
func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// TestCachePaddedVariantsMemory: 100,000 distinct cookie values, three
// quarters of them quote-padded, %21-escaped or base64 spellings of one
// valid ticket and a quarter forged, leave one cache entry and do not grow
// the live heap (before the fix each valid spelling was cached under its
// own value: 1.3 GiB after 1,500 requests of 1 MiB padding). Not parallel,
// so that the heap figures are this test's own.
func TestCachePaddedVariantsMemory(t *testing.T) {
	const requests = 100_000
	const limit = 8 << 20 // the goal is 64 MiB of RSS; the live heap must stay far below
	p := mustNew(t, Options{})
	v := mustCookie(Ticket{UserID: "alice", Tokens: []string{"admin"}, Time: t1700}, "md5")
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "auth_tkt="+v)
	if id, _ := p.Identify(r); id.Str(KeyTicketUserID) != "alice" {
		t.Fatal("ticket not identified")
	}
	base, rss0 := heapInUse(), rssKiB()
	peak := int64(math.MinInt64)
	for i := range requests {
		r.Header["Cookie"] = []string{"other=1; auth_tkt=" + variant(v, i)}
		id, _ := p.Identify(r)
		if got, want := id.Str(KeyTicketUserID) == "alice", i%4 != 3; got != want {
			t.Fatalf("variant %d (%.60q…): identified %v, want %v", i, variant(v, i), got, want)
		}
		if i%5000 == 4999 {
			if d := int64(heapInUse()) - int64(base); d > peak {
				peak = d
			}
		}
	}
	entries, size := p.cache.stats()
	t.Logf("%d requests: peak live-heap growth %+d KiB (limit %d KiB), RSS %d -> %d KiB, cache %d entries / %d bytes",
		requests, peak>>10, limit>>10, rss0, rssKiB(), entries, size)
	if entries != 1 {
		t.Errorf("cache holds %d entries for one ticket, want 1", entries)
	}
	if peak > limit {
		t.Errorf("live heap grew by %d KiB, want under %d KiB", peak>>10, limit>>10)
	}
	runtime.KeepAlive(p)
}

// TestCacheBounds: distinct valid tickets never take the cache past its
// entry and byte bounds, and a ticket whose key is over the entry bound
// is verified every time rather than cached.
func TestCacheBounds(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	ud := strings.Repeat("x", 1500)
	for i := range 3 * cacheMaxEntries {
		v := mustCookie(Ticket{UserID: "u" + strconv.Itoa(i), UserData: ud, Time: t1700}, "md5")
		if id, _ := p.Identify(req("h", "", "auth_tkt="+v)); id == nil {
			t.Fatalf("ticket %d not identified", i)
		}
		if n, size := p.cache.stats(); n > cacheMaxEntries || size > cacheMaxBytes {
			t.Fatalf("after %d tickets: %d entries, %d bytes (bounds %d, %d)", i+1, n, size, cacheMaxEntries, cacheMaxBytes)
		}
	}
	big := mustCookie(Ticket{UserID: "big", UserData: strings.Repeat("y", cacheMaxEntryBytes), Time: t1700}, "md5")
	for range 2 {
		if id, _ := p.Identify(req("h", "", "auth_tkt="+big)); id.Str(KeyTicketUserID) != "big" {
			t.Fatal("big ticket not identified")
		}
	}
	if p.cache.get(keyOf(t, p, big)) != nil {
		t.Fatal("a ticket over cacheMaxEntryBytes was cached")
	}
}

// TestTicketsPerRequest: only the first MaxTicketsPerRequest cookies of
// the name are tried (before, every one was tried against every secret),
// and a value over MaxTicketBytes is not read.
func TestTicketsPerRequest(t *testing.T) {
	t.Parallel()
	good := mustCookie(Ticket{UserID: "alice", Time: t1700}, "md5")
	forged := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("auth_tkt=%032x6553f100alice!", i)
		}
		return strings.Join(parts, "; ")
	}
	header := func(bad int) string { return forged(bad) + "; auth_tkt=" + good }
	tests := []struct {
		name   string
		cookie []string
		ok     bool
	}{
		{"valid is the 8th", []string{header(MaxTicketsPerRequest - 1)}, true},
		{"valid is the 9th", []string{header(MaxTicketsPerRequest)}, false},
		{"valid after 10000 forged", []string{header(10000)}, false},
		{"9th on the second line", []string{forged(5), header(3)}, false},
		{"8th on the second line", []string{forged(5), header(2)}, true},
		{"padded to the bound", []string{"auth_tkt=" + good + strings.Repeat(`"`, MaxTicketBytes-len(good))}, true},
		{"padded over the bound", []string{"auth_tkt=" + good + strings.Repeat(`"`, MaxTicketBytes-len(good)+1)}, false},
		{"oversized counts", []string{strings.Repeat("auth_tkt="+strings.Repeat("A", MaxTicketBytes+1)+"; ", MaxTicketsPerRequest) + "auth_tkt=" + good}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, o := range []Options{{}, {IncludeIP: true}} { // cached and uncached paths
				p := mustNew(t, o)
				r := req("h", "0.0.0.0:1")
				r.Header["Cookie"] = tt.cookie
				if id, _ := p.Identify(r); (id != nil) != tt.ok {
					t.Fatalf("include_ip %v: identified %v, want %v", o.IncludeIP, id != nil, tt.ok)
				}
			}
		})
	}
}

// TestCachedTokensNotShared: a handler that edits the identity's tokens
// does not change what the next request with the same (cached) ticket
// gets.
func TestCachedTokensNotShared(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	c := "auth_tkt=" + mustCookie(Ticket{UserID: "alice", Tokens: []string{"reader", "dev"}, Time: t1700}, "md5")
	for i := range 3 {
		id, _ := p.Identify(req("h", "", c))
		toks, _ := id[who.KeyTokens].([]string)
		if strings.Join(toks, ",") != "reader,dev" {
			t.Fatalf("request %d: tokens %q, want [reader dev]", i, toks)
		}
		toks[0] = "admin"
		_ = append(toks[:1], "root")
	}
}

// signed makes a ticket whose userid field is quid and whose digest is
// computed over uid, bypassing Cookie's checks (an attacker with the
// secret, or a buggy other writer, can make such tickets).
func signed(secret, quid, uid string) string {
	b := sum(nil, "md5", nil, uint32(t1700.Unix()), secret, uid, "", "")
	return string(b) + fmt.Sprintf("%08x", t1700.Unix()) + quid + "!"
}

// TestUserIDControlBytes: a validly signed ticket whose userid holds CR,
// LF, NUL or is not UTF-8 is refused at parse (it logged in before);
// repoze.who refuses the non-UTF-8 one too.
func TestUserIDControlBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, quid, uid, enc string
	}{
		{"latin-1", "j%F6rg", "j\xf6rg", EncodingRepoze},
		{"LF", "a%0Ab", "a\nb", EncodingRepoze},
		{"CR", "a%0Db", "a\rb", EncodingRepoze},
		{"NUL", "a%00b", "a\x00b", EncodingRepoze},
		{"mod_auth_tkt LF (base64)", "a\nb", "a\nb", EncodingModAuthTkt},
		{"mod_auth_tkt latin-1", "j\xf6rg", "j\xf6rg", EncodingModAuthTkt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := base64.StdEncoding.EncodeToString([]byte(signed("s33kr1t", tt.quid, tt.uid)))
			if _, err := ParseEncoding("s33kr1t", v, nil, "md5", tt.enc); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseEncoding: err = %v, want ErrMalformed", err)
			}
			for _, o := range []Options{{UserIDEncoding: tt.enc}, {UserIDEncoding: tt.enc, IncludeIP: true}} {
				if id, _ := mustNew(t, o).Identify(req("h", "0.0.0.0:1", "auth_tkt="+v)); id != nil {
					t.Fatalf("identified as %q", id.Str(KeyTicketUserID))
				}
			}
			if _, err := (Ticket{UserID: tt.uid, Time: t1700, Encoding: tt.enc}).Cookie("s33kr1t", "md5"); !errors.Is(err, ErrUnencodable) {
				t.Fatalf("Cookie: err = %v, want ErrUnencodable", err)
			}
		})
	}
	// The same userid bytes, well formed, still log in.
	v := signed("s33kr1t", "j%C3%B6rg", "jörg")
	if id, _ := mustNew(t, Options{}).Identify(req("h", "", "auth_tkt="+v)); id.Str(KeyTicketUserID) != "jörg" {
		t.Fatalf("UTF-8 userid refused: %v", id)
	}
	t.Run("repoze.who", func(t *testing.T) {
		py := testserver.PythonRepoze(t)
		script := `import sys
from repoze.who._auth_tkt import parse_ticket, BadTicket
for v in sys.argv[1:]:
    try:
        print(repr(parse_ticket('s33kr1t', v, '0.0.0.0')[1]))
    except BadTicket as e:
        print('refused')
`
		out, err := exec.Command(py, "-c", script, signed("s33kr1t", "j%F6rg", "j\xf6rg"), v).CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "refused\n'jörg'" {
			t.Fatalf("repoze.who: %q, want refused then 'jörg'", got)
		}
	})
}

// TestWeakSecret: a secret (or old secret, or secretfile) under 16 bytes
// is refused unless allow_weak_secret; under 32 bytes it is accepted with
// one warning that never holds the secret.
func TestWeakSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shortFile := filepath.Join(dir, "short")
	if err := os.WriteFile(shortFile, []byte("tiny-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s15, s16, s31 := "fifteen-bytes-x", "sixteen-bytes-xx", "thirty-one-bytes-secret-value-x"
	tests := []struct {
		name    string
		o       Options
		wantKey string // the OptionError's key; "" when New succeeds
		warn    bool
	}{
		{"1 byte", Options{Secret: "s"}, "secret", false},
		{"15 bytes", Options{Secret: s15}, "secret", false},
		{"15 bytes allowed", Options{Secret: s15, AllowWeakSecret: true}, "", true},
		{"16 bytes", Options{Secret: s16}, "", true},
		{"31 bytes", Options{Secret: s31}, "", true},
		{"32 bytes", Options{Secret: longSecret}, "", false},
		{"short old secret", Options{Secret: longSecret, OldSecrets: []string{longSecret, s15}}, "old_secrets", false},
		{"short old secret allowed", Options{Secret: longSecret, OldSecrets: []string{s15}, AllowWeakSecret: true}, "", true},
		{"short secretfile", Options{SecretFile: shortFile}, "secretfile", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			tt.o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			_, err := New(tt.o)
			var oe *who.OptionError
			switch {
			case tt.wantKey == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantKey != "" && (!errors.As(err, &oe) || oe.Key != tt.wantKey):
				t.Fatalf("err = %v, want an OptionError for %q", err, tt.wantKey)
			case tt.wantKey != "" && !strings.Contains(err.Error(), "allow_weak_secret"):
				t.Fatalf("error %q does not name allow_weak_secret", err)
			}
			if got := strings.Count(logs.String(), "shorter than 32 bytes"); got != map[bool]int{true: 1}[tt.warn] {
				t.Fatalf("warnings: %d, want %v:\n%s", got, tt.warn, logs.String())
			}
			msgs := logs.String()
			if err != nil {
				msgs += err.Error()
			}
			for _, s := range append([]string{tt.o.Secret, "tiny-secret"}, tt.o.OldSecrets...) {
				if len(s) >= 8 && strings.Contains(msgs, s) {
					t.Fatalf("the secret is in a message:\n%s", msgs)
				}
			}
		})
	}
	// The factory reads allow_weak_secret and logs to the chain's logger.
	f, _, err := who.DefaultRegistry.Factory("authtkt")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	_, err = f(who.PluginSpec{Name: "t", Use: "authtkt", Logger: slog.New(slog.NewTextHandler(&logs, nil)), Decode: func(v any) error {
		o := v.(*Options)
		o.Secret, o.AllowWeakSecret = "s33kr1t", true
		return nil
	}})
	if err != nil || !strings.Contains(logs.String(), "shorter than 32 bytes") {
		t.Fatalf("factory: %v, log %q", err, logs.String())
	}
}

// TestIdentifyHugeHeader reports (does not assert) what a 1 MiB Cookie
// header of auth_tkt values costs, against one ticket.
func TestIdentifyHugeHeader(t *testing.T) {
	if testing.Short() {
		t.Skip("timing report")
	}
	p := mustNew(t, Options{OldSecrets: []string{"older-secret-1", "older-secret-2"}})
	good := mustCookie(Ticket{UserID: "alice", Time: t1700}, "md5")
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "auth_tkt=%032x6553f100alice!; ", i)
	}
	huge := httptest.NewRequest("GET", "/", nil)
	huge.Header.Set("Cookie", b.String())
	one := httptest.NewRequest("GET", "/", nil)
	one.Header.Set("Cookie", "auth_tkt="+good)
	timeIt := func(r *http.Request) time.Duration {
		const n = 20
		start := time.Now()
		for range n {
			_, _ = p.Identify(r)
		}
		return time.Since(start) / n
	}
	t.Logf("1 MiB Cookie header of forged tickets: %v per request; one valid ticket: %v", timeIt(huge), timeIt(one))
}
