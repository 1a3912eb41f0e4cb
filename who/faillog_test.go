package who

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// records is a slog.Handler that keeps every record.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// lines returns the records with message msg, each as its attributes.
func (h *records) lines(msg string) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.recs {
		if r.Message != msg {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, attrs)
	}
	return out
}

// fakeClock is the failure log's clock and scheduler: the test moves time
// and runs the scheduled summaries itself.
type fakeClock struct {
	now     time.Time
	pending []func()
	delays  []time.Duration
}

func (c *fakeClock) install(l *failureLog) {
	l.now = func() time.Time { return c.now }
	l.after = func(d time.Duration, f func()) {
		c.delays = append(c.delays, d)
		c.pending = append(c.pending, f)
	}
}

// fire advances the clock by d and runs the scheduled summaries.
func (c *fakeClock) fire(d time.Duration) {
	c.now = c.now.Add(d)
	p := c.pending
	c.pending = nil
	for _, f := range p {
		f()
	}
}

type failingIdentifier struct{ err error }

func (f failingIdentifier) Identify(*http.Request) (Identity, error) { return nil, f.err }

type fixedIdentifier struct{}

func (fixedIdentifier) Identify(*http.Request) (Identity, error) {
	return Identity{KeyLogin: "alice"}, nil
}

// failingAuthenticator fails with "ldap down #n" on its n-th call.
type failingAuthenticator struct {
	mu sync.Mutex
	n  int
}

func (a *failingAuthenticator) Authenticate(*http.Request, Identity) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return "", fmt.Errorf("ldap down #%d", a.n)
}

type acceptAll struct{}

func (acceptAll) Authenticate(_ *http.Request, id Identity) (string, error) {
	return id.Str(KeyLogin), nil
}

type failingMD struct{}

func (failingMD) AddMetadata(*http.Request, Identity) error { return errors.New("sql down") }

// TestFailureLogSummarises: during an outage a plugin gets one line at
// once and one "(repeated)" line per interval with the count and the last
// error, instead of one line per request (91,000 lines in 15 s of LDAP
// outage before).
func TestFailureLogSummarises(t *testing.T) {
	t.Parallel()
	rec := &records{}
	m, err := New(Config{
		Logger:            slog.New(rec),
		Identifiers:       []Entry{{Name: "broken", Plugin: failingIdentifier{errors.New("disk on fire")}}, {Name: "ok", Plugin: fixedIdentifier{}}},
		Authenticators:    []Entry{{Name: "ldap", Plugin: &failingAuthenticator{}}, {Name: "file", Plugin: acceptAll{}}},
		MetadataProviders: []Entry{{Name: "md", Plugin: failingMD{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	clock.install(m.fails)
	h := m.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	serve := func(n int) {
		for range n {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}
	}

	serve(1000)
	for _, msg := range []string{"who: identifier failed", "who: authenticator failed", "who: metadata provider failed"} {
		if got := rec.lines(msg); len(got) != 1 {
			t.Errorf("%q logged %d times for 1000 failures, want once at once", msg, len(got))
		}
		if got := rec.lines(msg + " (repeated)"); len(got) != 0 {
			t.Errorf("%q summarised before the interval ended: %v", msg, got)
		}
	}
	if got := rec.lines("who: authenticator failed"); len(got) == 1 && (got[0]["plugin"] != "ldap" || got[0]["err"] != "ldap down #1" || got[0]["identifier"] != "ok") {
		t.Errorf("first line %v, want plugin, identifier and the first error", got[0])
	}
	if len(clock.delays) != 3 || clock.delays[0] != DefaultFailureLogInterval {
		t.Errorf("summaries scheduled after %v, want one per plugin after %v", clock.delays, DefaultFailureLogInterval)
	}

	// The interval ends: one summary per plugin, with the count and the
	// last error.
	clock.fire(DefaultFailureLogInterval)
	sum := rec.lines("who: authenticator failed (repeated)")
	if len(sum) != 1 || sum[0]["plugin"] != "ldap" || sum[0]["count"] != "999" || sum[0]["err"] != "ldap down #1000" {
		t.Fatalf("summary %v, want one line for ldap with count 999 and the last error", sum)
	}
	for _, msg := range []string{"who: identifier failed (repeated)", "who: metadata provider failed (repeated)"} {
		if got := rec.lines(msg); len(got) != 1 || got[0]["count"] != "999" {
			t.Errorf("%q: %v, want one line with count 999", msg, got)
		}
	}

	// Still failing: the next interval is summarised again, nothing at once.
	serve(10)
	clock.fire(DefaultFailureLogInterval)
	if got := rec.lines("who: authenticator failed"); len(got) != 1 {
		t.Errorf("a continuing outage logged %d first lines, want 1", len(got))
	}
	if sum := rec.lines("who: authenticator failed (repeated)"); len(sum) != 2 || sum[1]["count"] != "10" {
		t.Errorf("second summary %v, want count 10", sum)
	}

	// A quiet interval, then a new failure: logged at once again.
	clock.fire(DefaultFailureLogInterval) // nothing counted: no line
	clock.now = clock.now.Add(DefaultFailureLogInterval)
	serve(1)
	if got := rec.lines("who: authenticator failed"); len(got) != 2 || got[1]["err"] != "ldap down #1011" {
		t.Errorf("after a quiet interval: %v, want the new failure logged at once", got)
	}
	if sum := rec.lines("who: authenticator failed (repeated)"); len(sum) != 2 {
		t.Errorf("an empty interval was summarised: %v", sum)
	}
}

// TestFailureLogEveryLine: a negative interval logs every failure.
func TestFailureLogEveryLine(t *testing.T) {
	t.Parallel()
	rec := &records{}
	m, err := New(Config{
		Logger:             slog.New(rec),
		FailureLogInterval: -1,
		Identifiers:        []Entry{{Name: "ok", Plugin: fixedIdentifier{}}},
		Authenticators:     []Entry{{Name: "ldap", Plugin: &failingAuthenticator{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 5 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	if got := rec.lines("who: authenticator failed"); len(got) != 5 {
		t.Errorf("%d lines, want 5", len(got))
	}
}

// TestFailureLogConcurrent is for -race: failures and summaries at once.
func TestFailureLogConcurrent(t *testing.T) {
	t.Parallel()
	rec := &records{}
	l := newFailureLog(slog.New(rec), time.Hour)
	var sched sync.Mutex
	var pending []func()
	l.after = func(_ time.Duration, f func()) {
		sched.Lock()
		pending = append(pending, f)
		sched.Unlock()
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				l.failed("who: authenticator failed", fmt.Sprint("p", g%2), errors.New("down"))
				if i%100 == 0 {
					sched.Lock()
					p := pending
					pending = nil
					sched.Unlock()
					for _, f := range p {
						f()
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range pending {
		f()
	}
	total := 0
	for _, a := range rec.lines("who: authenticator failed (repeated)") {
		var n int
		fmt.Sscan(a["count"], &n)
		total += n
	}
	if first := len(rec.lines("who: authenticator failed")); first != 2 || total+first != 2000 {
		t.Errorf("%d first lines and %d summarised, want 2 and 1998", first, total)
	}
}

// TestFailureLogRepeatAllocatesNothing: while a backend is down every
// request fails, and a repeat is only counted, so counting must cost the
// request no allocation (boxing the plugin's name into an attribute did,
// once per failing request).
func TestFailureLogRepeatAllocatesNothing(t *testing.T) {
	rec := &records{}
	l := newFailureLog(slog.New(rec), time.Hour)
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	clock.install(l)
	identifier := fmt.Sprint("cookie", 1) // not a constant, as a plugin's name from who.toml
	err := errors.New("ldap down")
	l.failed("who: authenticator failed", "ldap", err, slog.String("identifier", identifier))
	l.failed("who: authenticator failed", "ldap", err, slog.String("identifier", identifier)) // schedules the summary
	if n := testing.AllocsPerRun(100, func() {
		l.failed("who: authenticator failed", "ldap", err, slog.String("identifier", identifier))
	}); n != 0 {
		t.Errorf("a counted repeat allocates %v times, want 0", n)
	}
	if got := rec.lines("who: authenticator failed"); len(got) != 1 || got[0]["identifier"] != identifier {
		t.Errorf("lines %v, want one with identifier=%s", got, identifier)
	}
}
