package config

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// buildLog keeps the log lines a plugin's factory writes while the loader
// builds it, so that a line written again by a later call of the same
// factory (see findMore) is not repeated: `who check` printed a short
// authtkt secret's warning once per call. Only lines written during a
// factory call are compared; what the plugin logs afterwards, while it
// runs, passes untouched.
type buildLog struct {
	mu       sync.Mutex
	building bool
	seen     map[string]bool
}

// during runs f with duplicate lines dropped.
func (b *buildLog) during(f func()) {
	b.mu.Lock()
	b.building = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.building = false
		b.mu.Unlock()
	}()
	f()
}

// first reports whether key is to be logged: always outside a factory
// call, once per key within.
func (b *buildLog) first(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.building {
		return true
	}
	if b.seen[key] {
		return false
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	b.seen[key] = true
	return true
}

// onceHandler is the slog.Handler of a factory's logger: next, with the
// lines buildLog has seen left out.
type onceHandler struct {
	next   slog.Handler
	log    *buildLog
	prefix string // the attributes and groups of With and WithGroup
}

func (h *onceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *onceHandler) Handle(ctx context.Context, r slog.Record) error {
	var key strings.Builder
	key.WriteString(h.prefix)
	key.WriteString(r.Level.String())
	key.WriteByte(0)
	key.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		key.WriteByte(0)
		key.WriteString(a.String())
		return true
	})
	if !h.log.first(key.String()) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *onceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		b.WriteString(a.String())
		b.WriteByte(0)
	}
	return &onceHandler{next: h.next.WithAttrs(attrs), log: h.log, prefix: b.String()}
}

func (h *onceHandler) WithGroup(name string) slog.Handler {
	return &onceHandler{next: h.next.WithGroup(name), log: h.log, prefix: h.prefix + "group " + name + "\x00"}
}
