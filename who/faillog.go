package who

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultFailureLogInterval is the default of Config.FailureLogInterval: a
// failing plugin gets one log line at once and then at most one summary
// line per interval while it keeps failing.
const DefaultFailureLogInterval = 10 * time.Second

// failureLog logs plugin failures without flooding: the first failure of a
// plugin (per message) is logged at once; the repeats within the following
// interval are counted and logged as one "<message> (repeated)" line with
// the count and the last error when the interval ends. While the plugin
// keeps failing, one summary per interval follows; after a quiet interval
// the next failure is again logged at once. A backend down under load thus
// costs two lines per interval per plugin, not one per request.
type failureLog struct {
	log      *slog.Logger
	interval time.Duration // <= 0: every failure is logged
	now      func() time.Time
	after    func(d time.Duration, f func()) // schedules a summary

	mu   sync.Mutex
	open map[failKey]*failWindow
}

type failKey struct{ msg, plugin string }

// failWindow is one plugin's current interval.
type failWindow struct {
	end       time.Time // when the interval ends
	count     int       // failures not logged yet
	last      error     // the last of them
	scheduled bool      // a summary is scheduled for end
}

func newFailureLog(log *slog.Logger, interval time.Duration) *failureLog {
	if interval == 0 {
		interval = DefaultFailureLogInterval
	}
	return &failureLog{
		log:      log,
		interval: interval,
		now:      time.Now,
		after:    func(d time.Duration, f func()) { time.AfterFunc(d, f) },
		open:     map[failKey]*failWindow{},
	}
}

// failed records that plugin failed with err; attrs are logged with the
// first line only. They are slog.Attrs, not key-value pairs, so that a
// repeat that is only counted (the common case while a backend is down)
// allocates nothing: boxing a string attribute into an any would.
func (l *failureLog) failed(msg, plugin string, err error, attrs ...slog.Attr) {
	if l.interval < 0 {
		l.warn(msg, plugin, err, attrs)
		return
	}
	k := failKey{msg, plugin}
	now := l.now()
	l.mu.Lock()
	w := l.open[k]
	if w == nil || (w.count == 0 && !now.Before(w.end)) {
		l.open[k] = &failWindow{end: now.Add(l.interval)}
		l.mu.Unlock()
		l.warn(msg, plugin, err, attrs)
		return
	}
	w.count++
	w.last = err
	if !w.scheduled {
		w.scheduled = true
		l.after(w.end.Sub(now), func() { l.summarise(k) })
	}
	l.mu.Unlock()
}

// warn logs one failure line: plugin, then attrs, then err.
func (l *failureLog) warn(msg, plugin string, err error, attrs []slog.Attr) {
	line := make([]slog.Attr, 0, len(attrs)+2)
	line = append(line, slog.String("plugin", plugin))
	line = append(line, attrs...)
	line = append(line, slog.Any("err", err))
	l.log.LogAttrs(context.Background(), slog.LevelWarn, msg, line...)
}

// summarise logs the repeats counted in k's interval and opens the next
// interval.
func (l *failureLog) summarise(k failKey) {
	l.mu.Lock()
	w := l.open[k]
	if w == nil || w.count == 0 {
		l.mu.Unlock()
		return
	}
	count, last := w.count, w.last
	w.count, w.last, w.scheduled = 0, nil, false
	w.end = l.now().Add(l.interval)
	l.mu.Unlock()
	l.log.Warn(k.msg+" (repeated)", "plugin", k.plugin, "count", count, "interval", l.interval.String(), "err", last)
}
