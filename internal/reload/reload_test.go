package reload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
)

// closer is an identifier whose Close reports its tag on closed, with
// " under a request" when a request of its generation was still running.
type closer struct {
	tag     string
	closed  chan<- string
	running *atomic.Int64
}

func (c *closer) Identify(*http.Request) (who.Identity, error) { return nil, nil }

func (c *closer) Close() error {
	if c.running.Load() > 0 {
		c.closed <- c.tag + " under a request"
		return nil
	}
	c.closed <- c.tag
	return nil
}

// rig builds generations whose chain is one closer plugin tagged "genN"
// and whose handler answers the tag; GET /block first says so on entered
// and then waits for release.
type rig struct {
	reg     *who.Registry
	closed  chan string
	entered chan string
	release chan struct{}
	loads   atomic.Int64
	fail    atomic.Bool // the next loads parse broken
	mu      sync.Mutex
	running map[string]*atomic.Int64 // requests running per tag
}

func (r *rig) counter(tag string) *atomic.Int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[tag] == nil {
		r.running[tag] = new(atomic.Int64)
	}
	return r.running[tag]
}

func newRig() *rig {
	r := &rig{closed: make(chan string, 100), entered: make(chan string, 100), release: make(chan struct{}),
		running: map[string]*atomic.Int64{}}
	r.reg = who.NewRegistry()
	r.reg.Register("closer", func(spec who.PluginSpec) (any, error) {
		var o struct {
			Tag    string `toml:"tag"`
			Secret string `toml:"secret"`
		}
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		return &closer{tag: o.Tag, closed: r.closed, running: r.counter(o.Tag)}, nil
	})
	return r
}

// brokenFile has two mistakes, on lines 3 and 5.
const brokenFile = "[plugin.c]\nuse = \"closer\"\ntga = \"x\"\n[identifiers]\nplugins = [\"nosuch\"]\n"

func (r *rig) load(context.Context) (Loaded, error) {
	n := r.loads.Add(1)
	tag := fmt.Sprintf("gen%d", n)
	data := fmt.Sprintf("[plugin.c]\nuse = \"closer\"\ntag = %q\n[identifiers]\nplugins = [\"c\"]\n", tag)
	if r.fail.Load() {
		data = brokenFile
	}
	chain, err := config.Parse("who.toml", []byte(data), config.Options{Registry: r.reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return Loaded{}, err
	}
	running := r.counter(tag)
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		running.Add(1)
		defer running.Add(-1)
		if req.URL.Path == "/block" {
			r.entered <- tag
			<-r.release
		}
		_, _ = io.WriteString(w, tag)
	})
	return Loaded{Chain: chain, Handler: h}, nil
}

// recorder is a slog handler that keeps every record and signals each.
type recorder struct {
	mu    sync.Mutex
	lines []string
	added chan struct{}
}

func newRecorder() *recorder { return &recorder{added: make(chan struct{}, 1000)} }

func (rc *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (rc *recorder) WithAttrs([]slog.Attr) slog.Handler       { return rc }
func (rc *recorder) WithGroup(string) slog.Handler            { return rc }

func (rc *recorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "level=%s msg=%q", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	})
	rc.mu.Lock()
	rc.lines = append(rc.lines, b.String())
	rc.mu.Unlock()
	select {
	case rc.added <- struct{}{}:
	default:
	}
	return nil
}

func (rc *recorder) all() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.lines...)
}

// waitLine waits up to a minute for a line holding every part.
func (rc *recorder) waitLine(t *testing.T, parts ...string) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		for _, l := range rc.all() {
			if containsAll(l, parts) {
				return l
			}
		}
		select {
		case <-rc.added:
		case <-timeout:
			t.Fatalf("no log line with %q in:\n%s", parts, strings.Join(rc.all(), "\n"))
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %q %v", url, resp.StatusCode, b, err)
	}
	return string(b)
}

func waitClosed(t *testing.T, closed <-chan string) string {
	t.Helper()
	select {
	case tag := <-closed:
		return tag
	case <-time.After(time.Minute):
		t.Fatal("no chain was closed")
		return ""
	}
}

func newHandler(t *testing.T, r *rig, rc *recorder, drain time.Duration) *Handler {
	t.Helper()
	h, err := New(Options{File: "who.toml", Load: r.load, Logger: slog.New(rc), DrainWarning: drain})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestOldChainClosesAfterItsLastRequest: a request running on generation
// 1 when the reload lands finishes on it; generation 1's plugins close
// only when that request ends (not at the swap, not on a timer), and
// new requests meanwhile get generation 2. A request stuck past
// DrainWarning only logs.
func TestOldChainClosesAfterItsLastRequest(t *testing.T) {
	t.Parallel()
	r, rc := newRig(), newRecorder()
	h := newHandler(t, r, rc, time.Millisecond)
	srv := httptest.NewServer(h)
	defer srv.Close()

	blocked := make(chan string, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/block")
		if err != nil {
			blocked <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		blocked <- string(b)
	}()
	if tag := <-r.entered; tag != "gen1" {
		t.Fatalf("blocked request on %s", tag)
	}
	if err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := get(t, srv.URL+"/"); got != "gen2" || h.Generation() != 2 {
		t.Errorf("after the reload: %q, generation %d; want gen2", got, h.Generation())
	}
	rc.waitLine(t, `msg="gowho reload"`, `ok="true"`, `errors="0"`, `generation="2"`, `file="who.toml"`)
	rc.waitLine(t, DrainMessage, `generation="1"`, `requests="1"`)
	// Generation 1 still holds the blocked request's reference: nothing
	// can have closed it.
	select {
	case tag := <-r.closed:
		t.Fatalf("%s closed while its request runs", tag)
	default:
	}
	close(r.release)
	if got := <-blocked; got != "gen1" {
		t.Errorf("the in-flight request ended with %q, want gen1", got)
	}
	if tag := waitClosed(t, r.closed); tag != "gen1" {
		t.Errorf("closed %s, want gen1", tag)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if tag := waitClosed(t, r.closed); tag != "gen2" {
		t.Errorf("Close closed %s, want gen2", tag)
	}
	if err := h.Reload(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Reload after Close: %v, want ErrClosed", err)
	}
}

// TestFailedReloadKeepsOldChain: a broken file is refused, each mistake
// logged with file and line, the summary says ok=false errors=2, and
// generation 1 keeps serving (and stays open).
func TestFailedReloadKeepsOldChain(t *testing.T) {
	t.Parallel()
	r, rc := newRig(), newRecorder()
	h := newHandler(t, r, rc, -1)
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	r.fail.Store(true)
	err := h.Reload(context.Background())
	if err == nil {
		t.Fatal("a broken file reloaded")
	}
	if got := get(t, srv.URL+"/"); got != "gen1" || h.Generation() != 1 {
		t.Errorf("after a failed reload: %q, generation %d; want gen1", got, h.Generation())
	}
	rc.waitLine(t, "level=ERROR", `mistake="who.toml:3: [plugin.c] (use = \"closer\"): unknown key \"tga\"`)
	rc.waitLine(t, "level=ERROR", `mistake="who.toml:5:`, "nosuch")
	rc.waitLine(t, "level=ERROR", `msg="gowho reload"`, `ok="false"`, `errors="2"`, `generation="1"`)
	// (The broken file's own plugins, tag "", are closed by config.)
	for len(r.closed) > 0 {
		if tag := <-r.closed; tag == "gen1" {
			t.Error("gen1 closed by a failed reload")
		}
	}
	r.fail.Store(false)
	if err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := get(t, srv.URL+"/"); got != "gen3" {
		t.Errorf("after the fixed file: %q, want gen3", got)
	}
}

// TestTriggerCoalesces: triggers during a running reload make exactly one
// more reload after it.
func TestTriggerCoalesces(t *testing.T) {
	t.Parallel()
	rc := newRecorder()
	var loads atomic.Int64
	started := make(chan int64, 10)
	gate := make(chan struct{})
	load := func(context.Context) (Loaded, error) {
		n := loads.Add(1)
		if n > 1 {
			started <- n
		}
		if n == 2 {
			<-gate
		}
		c, err := config.Parse("who.toml", nil, config.Options{Logger: slog.New(slog.DiscardHandler)})
		return Loaded{Chain: c, Handler: http.NotFoundHandler()}, err
	}
	h, err := New(Options{File: "who.toml", Load: load, Logger: slog.New(rc)})
	if err != nil {
		t.Fatal(err)
	}
	h.Trigger()
	if n := <-started; n != 2 {
		t.Fatalf("load %d", n)
	}
	for range 5 {
		h.Trigger()
	}
	close(gate)
	select {
	case n := <-started:
		if n != 3 {
			t.Fatalf("load %d", n)
		}
	case <-time.After(time.Minute):
		t.Fatal("the triggers during the reload were lost")
	}
	rc.waitLine(t, `generation="3"`, `ok="true"`)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if n := loads.Load(); n != 3 {
		t.Errorf("%d loads, want 3 (the first, the triggered one, one for the five triggers during it)", n)
	}
}

// TestCloseCutsStuckRequests: Close (after the server stopped) closes an
// old generation that still has a request, and says so.
func TestCloseCutsStuckRequests(t *testing.T) {
	t.Parallel()
	r, rc := newRig(), newRecorder()
	h := newHandler(t, r, rc, -1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/block", nil))
	}()
	<-r.entered
	if err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{waitClosed(t, r.closed): true, waitClosed(t, r.closed): true}
	if !got["gen1 under a request"] || !got["gen2"] {
		t.Errorf("closed %v, want gen1 (under its stuck request) and gen2", got)
	}
	rc.waitLine(t, "closing a chain under running requests", `generation="1"`, `requests="1"`)
	close(r.release)
	<-done
	select {
	case tag := <-r.closed:
		t.Errorf("%s closed twice", tag)
	default:
	}
}

// TestMaskCoversDrainingChains: while an old chain drains, the secrets of
// both files are masked.
func TestMaskCoversDrainingChains(t *testing.T) {
	t.Parallel()
	r := newRig()
	var n atomic.Int64
	block := make(chan struct{})
	entered := make(chan struct{}, 1)
	load := func(context.Context) (Loaded, error) {
		secret := fmt.Sprintf("secret-number-%d-long-enough-xxxxxxxx", n.Add(1))
		data := "[plugin.c]\nuse = \"closer\"\nsecret = \"" + secret + "\"\n[identifiers]\nplugins = [\"c\"]\n"
		c, err := config.Parse("who.toml", []byte(data), config.Options{Registry: r.reg, Logger: slog.New(slog.DiscardHandler)})
		return Loaded{Chain: c, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			entered <- struct{}{}
			<-block
		})}, err
	}
	h, err := New(Options{File: "who.toml", Load: load, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	<-entered
	if err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := h.Mask("a secret-number-1-long-enough-xxxxxxxx b secret-number-2-long-enough-xxxxxxxx")
	if strings.Contains(s, "secret-number") {
		t.Errorf("Mask = %q", s)
	}
	close(block)
	<-done
	_ = h.Close()
}

// BenchmarkServeHTTP measures what the reference count costs a request:
// the same trivial handler bare and behind a Handler, from parallel
// goroutines (the count is one shared word).
func BenchmarkServeHTTP(b *testing.B) {
	c, err := config.Parse("who.toml", nil, config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	h, err := New(Options{File: "who.toml", Load: func(context.Context) (Loaded, error) {
		return Loaded{Chain: c, Handler: bare}, nil
	}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"reload", h}} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
				for pb.Next() {
					bc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}
