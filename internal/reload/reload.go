// Package reload serves a chain that can be replaced while it serves: the
// hot reload of `who serve` and `who gateway` on SIGHUP.
//
// A Handler holds the current generation (a config.Chain and the
// http.Handler built from it) behind an atomic pointer. Each request takes
// a reference to the generation current when it arrives and drops it when
// it ends, so requests in flight finish on the chain they started on.
// Reload builds the new generation with Options.Load (which checks it as
// `who check` does), and only when that succeeds swaps it in; the old
// generation's plugins are closed (config.Chain.Close) when its last
// request ends, never before. A failed reload logs every mistake and
// leaves the old generation serving.
package reload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowho/gowho/config"
)

// Message is the message of every audit line of a reload: the summary
// (level INFO when it worked, ERROR when not) with the attributes
// event=reload, file, ok, errors (the number of mistakes), warnings,
// generation and took; and, before a failed summary, one line per mistake
// (level ERROR, event=reload, file, mistake=the masked "file:line: ..."
// text), and one line per warning of `who check` (level WARN,
// event=reload, file, warning). docs/operations.md ("Reload") documents
// them; they are stable.
const Message = "gowho reload"

// DrainMessage is the message of the line logged when an old generation
// still has requests running DrainWarning after it was replaced (level
// WARN, event=reload, file, generation, requests): its plugins stay open
// until they end.
const DrainMessage = "gowho reload: old chain still serving"

// DefaultDrainWarning is Options.DrainWarning's default.
const DefaultDrainWarning = time.Minute

// ErrClosed is what Reload returns after Close.
var ErrClosed = errors.New("reload: handler closed")

// Loaded is what Options.Load builds: a chain, the handler that serves
// it, and what `who check` would warn about it (logged, not fatal).
type Loaded struct {
	Chain    *config.Chain
	Handler  http.Handler
	Warnings []string
}

// Options configure New.
type Options struct {
	// File names the configuration file in the log lines.
	File string
	// Load builds and checks a generation from File. It is called once by
	// New and then once per reload, never concurrently. On error it must
	// have closed whatever it built (config.Load does), and the error
	// should be the errors.Join of the mistakes, as config.Load returns
	// them: each is logged on its own line.
	Load func(ctx context.Context) (Loaded, error)
	// Logger receives the audit lines; nil: slog.Default().
	Logger *slog.Logger
	// DrainWarning is how long an old generation may keep requests
	// running after a reload before a line says so (it is still not
	// closed: a stuck request only logs); 0: DefaultDrainWarning, negative:
	// never.
	DrainWarning time.Duration
}

// generation is one loaded chain. refs counts the requests running on it
// plus one while it is current; it reaches 0 once, after it stopped being
// current and its last request ended, and never goes up again.
type generation struct {
	n         uint64
	chain     *config.Chain
	handler   http.Handler
	refs      atomic.Int64
	closeOnce sync.Once
	closed    chan struct{}
	warn      *time.Timer // the DrainWarning timer, set when retired
}

// Handler serves the current generation and reloads it. Its methods are
// safe for concurrent use.
type Handler struct {
	o   Options
	log *slog.Logger

	cur atomic.Pointer[generation]

	mu     sync.Mutex // serialises Reload and Close
	isDone bool       // under mu: Close was called
	next   uint64     // under mu: the number of the next generation

	liveMu sync.Mutex
	live   map[*generation]struct{} // loaded, and not yet done closing (Mask, Close)

	kick     chan struct{} // Trigger: a reload is pending (capacity 1: coalesced)
	stopLoop chan struct{}
	loopDone chan struct{}
}

// New loads the first generation with o.Load and returns the handler
// serving it, with its background reloader running (see Trigger). A
// failed first load is returned as is (nothing is logged for it: the
// caller prints the mistakes as `who check` does).
func New(o Options) (*Handler, error) {
	if o.Load == nil {
		return nil, errors.New("reload: Options.Load is nil")
	}
	if o.DrainWarning == 0 {
		o.DrainWarning = DefaultDrainWarning
	}
	h := &Handler{
		o:        o,
		log:      o.Logger,
		live:     map[*generation]struct{}{},
		kick:     make(chan struct{}, 1),
		stopLoop: make(chan struct{}),
		loopDone: make(chan struct{}),
		next:     1,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	l, err := o.Load(context.Background())
	if err != nil {
		return nil, err
	}
	h.cur.Store(h.newGeneration(l))
	go h.loop()
	return h, nil
}

// newGeneration registers l as a live generation holding the "current"
// reference. Called under mu or before the handler is shared.
func (h *Handler) newGeneration(l Loaded) *generation {
	g := &generation{n: h.next, chain: l.Chain, handler: l.Handler, closed: make(chan struct{})}
	h.next++
	g.refs.Store(1)
	h.liveMu.Lock()
	h.live[g] = struct{}{}
	h.liveMu.Unlock()
	return g
}

// ServeHTTP serves r on the generation current when it arrives.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := h.acquire()
	defer h.release(g)
	g.handler.ServeHTTP(w, r)
}

// acquire takes a reference to the current generation. A generation
// whose count already reached 0 was replaced (it reaches 0 only after
// the swap), so the loop finds the new one at its next Load: it turns at
// most once per reload that lands meanwhile.
func (h *Handler) acquire() *generation {
	for {
		g := h.cur.Load()
		n := g.refs.Load()
		if n > 0 && g.refs.CompareAndSwap(n, n+1) {
			return g
		}
	}
}

// release drops a reference; the last one closes the generation, in its
// own goroutine so that a slow plugin Close does not hold the request.
func (h *Handler) release(g *generation) {
	if g.refs.Add(-1) == 0 {
		go h.closeGeneration(g, "drained")
	}
}

// closeGeneration closes g's chain once and logs a failure; a second
// call waits for the first to finish (sync.Once), which Close relies on.
// g leaves the live set only once closed.
func (h *Handler) closeGeneration(g *generation, why string) {
	g.closeOnce.Do(func() {
		// g.warn was set before the "current" reference was dropped
		// (retire), and Close runs after Reload (mu).
		if g.warn != nil {
			g.warn.Stop()
		}
		if err := g.chain.Close(); err != nil && why == "drained" {
			h.log.LogAttrs(context.Background(), slog.LevelWarn, "gowho reload: closing the old chain",
				slog.String("event", "reload"), slog.String("file", h.o.File),
				slog.Uint64("generation", g.n), slog.String("err", g.chain.Mask(err.Error())))
		}
		h.liveMu.Lock()
		delete(h.live, g)
		h.liveMu.Unlock()
		close(g.closed)
	})
}

// Chain returns the current generation's chain.
func (h *Handler) Chain() *config.Chain { return h.cur.Load().chain }

// Generation returns the number of the current generation: 1 for the
// chain New loaded, one more after each successful reload.
func (h *Handler) Generation() uint64 { return h.cur.Load().n }

// Mask masks s with the secrets of every generation not yet closed (the
// current one and those still draining), for a log whose lines may come
// from any of them.
func (h *Handler) Mask(s string) string {
	h.liveMu.Lock()
	defer h.liveMu.Unlock()
	if len(h.live) == 0 {
		return config.MaskURLPasswords(s)
	}
	for g := range h.live {
		s = g.chain.Mask(s)
	}
	return s
}

// Trigger asks the background reloader for a reload and returns at once.
// Reloads run one at a time; triggers that come while one runs are
// coalesced into one more reload after it (it reads the file as it is
// then), so a burst of SIGHUPs costs at most two reloads.
func (h *Handler) Trigger() {
	select {
	case h.kick <- struct{}{}:
	default: // one is pending already
	}
}

// loop runs the reloads Trigger asks for until Close.
func (h *Handler) loop() {
	defer close(h.loopDone)
	for {
		select {
		case <-h.stopLoop:
			return
		case <-h.kick:
			_ = h.Reload(context.Background()) // logged by Reload
		}
	}
}

// Reload builds a new generation with Options.Load and, when that works,
// makes it current; the old one closes once its last request ends. On
// failure the current generation keeps serving, every mistake is logged
// and the error returned. Reloads are serialised: a call waits for the
// one running.
func (h *Handler) Reload(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.isDone {
		return ErrClosed
	}
	start := time.Now()
	l, err := h.o.Load(ctx)
	if err != nil {
		h.logFailure(ctx, err, time.Since(start))
		return err
	}
	for _, w := range l.Warnings {
		h.log.LogAttrs(ctx, slog.LevelWarn, Message, slog.String("event", "reload"),
			slog.String("file", h.o.File), slog.String("warning", w))
	}
	g := h.newGeneration(l)
	old := h.cur.Swap(g)
	h.log.LogAttrs(ctx, slog.LevelInfo, Message, slog.String("event", "reload"), slog.String("file", h.o.File),
		slog.Bool("ok", true), slog.Int("errors", 0), slog.Int("warnings", len(l.Warnings)),
		slog.Uint64("generation", g.n), slog.Duration("took", time.Since(start).Round(time.Millisecond)))
	h.retire(old)
	return nil
}

// retire drops the "current" reference of old and starts its
// DrainWarning timer.
func (h *Handler) retire(old *generation) {
	if d := h.o.DrainWarning; d > 0 {
		old.warn = time.AfterFunc(d, func() {
			if n := old.refs.Load(); n > 0 {
				h.log.LogAttrs(context.Background(), slog.LevelWarn, DrainMessage, slog.String("event", "reload"),
					slog.String("file", h.o.File), slog.Uint64("generation", old.n), slog.Int64("requests", n),
					slog.Duration("after", d))
			}
		})
	}
	h.release(old)
}

// logFailure logs each mistake of err, then the summary.
func (h *Handler) logFailure(ctx context.Context, err error, took time.Duration) {
	mistakes := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		mistakes = j.Unwrap()
	}
	for _, m := range mistakes {
		h.log.LogAttrs(ctx, slog.LevelError, Message, slog.String("event", "reload"),
			slog.String("file", h.o.File), slog.String("mistake", h.Mask(m.Error())))
	}
	h.log.LogAttrs(ctx, slog.LevelError, Message, slog.String("event", "reload"), slog.String("file", h.o.File),
		slog.Bool("ok", false), slog.Int("errors", len(mistakes)), slog.Int("warnings", 0),
		slog.Uint64("generation", h.cur.Load().n), slog.Duration("took", took.Round(time.Millisecond)))
}

// Close stops the reloader and closes every generation: the current one
// once its requests end and, at once, any old one still running requests
// (Close comes after the server stopped: those were cut). It returns the
// current chain's Close error; old chains' errors are logged. Call it
// once the server no longer sends requests.
func (h *Handler) Close() error {
	h.mu.Lock()
	if h.isDone {
		h.mu.Unlock()
		return ErrClosed
	}
	h.isDone = true
	h.mu.Unlock()
	close(h.stopLoop)
	<-h.loopDone

	cur := h.cur.Load()
	h.release(cur) // the "current" reference
	// Every generation not yet done closing, including those a drained
	// release is closing now (closeGeneration waits for it).
	h.liveMu.Lock()
	var rest []*generation
	for g := range h.live {
		rest = append(rest, g)
	}
	h.liveMu.Unlock()
	for _, g := range rest {
		if n := g.refs.Load(); n > 0 {
			h.log.LogAttrs(context.Background(), slog.LevelWarn, "gowho reload: closing a chain under running requests",
				slog.String("event", "reload"), slog.String("file", h.o.File), slog.Uint64("generation", g.n), slog.Int64("requests", n))
		}
		h.closeGeneration(g, "stopping")
	}
	if err := cur.chain.Close(); err != nil { // Chain.Close returns the same error again
		return fmt.Errorf("reload: %s: %w", h.o.File, err)
	}
	return nil
}
