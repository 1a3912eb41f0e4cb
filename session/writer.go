package session

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/gowho/gowho/who"
)

// writer saves the session when the response starts: at the first
// WriteHeader (other than 1xx), Write or Flush, at Hijack, or when the
// handler returns without writing. Saving there, not after the handler
// returns, keeps writes made before a redirect.
type writer struct {
	w       http.ResponseWriter
	s       *Session
	started bool
	failed  bool // the session could not be saved: a failure page answered
}

// start commits the session; it reports false when the response was
// replaced by a failure page.
func (sw *writer) start() bool {
	if sw.started {
		return !sw.failed
	}
	sw.started = true
	h := sw.w.Header()
	cookie, err := sw.s.commit(h)
	if err != nil {
		sw.failed = true
		sw.s.m.fail(sw.w, sw.s.r, err)
		return false
	}
	if cookie {
		// A response that sets (or expires) the session cookie is one
		// user's: a shared cache must neither keep it nor serve it to
		// another user.
		who.PreventSharedCaching(h)
	}
	return true
}

func (sw *writer) Header() http.Header { return sw.w.Header() }

func (sw *writer) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		sw.w.WriteHeader(code)
		return
	}
	if !sw.started {
		if !sw.start() {
			return
		}
	} else if sw.failed {
		return
	}
	sw.w.WriteHeader(code)
}

func (sw *writer) Write(p []byte) (int, error) {
	if !sw.start() {
		return len(p), nil // discarded: the failure page answered
	}
	return sw.w.Write(p)
}

// WriteString avoids a copy for io.WriteString callers.
func (sw *writer) WriteString(s string) (int, error) {
	if !sw.start() {
		return len(s), nil
	}
	if ws, ok := sw.w.(interface{ WriteString(string) (int, error) }); ok {
		return ws.WriteString(s)
	}
	return sw.w.Write([]byte(s))
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for
// http.ServeContent) once the session is saved.
func (sw *writer) ReadFrom(r io.Reader) (int64, error) {
	if !sw.start() {
		return io.Copy(io.Discard, r)
	}
	if rf, ok := sw.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{sw.w}, r)
}

// writerOnly hides every method but Write, so io.Copy cannot loop back
// into ReadFrom.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// Flush implements http.Flusher.
func (sw *writer) Flush() { _ = sw.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (sw *writer) FlushError() error {
	if !sw.start() {
		return nil
	}
	return http.NewResponseController(sw.w).Flush()
}

// Hijack implements http.Hijacker. The session is saved first; its cookie
// cannot be sent on a hijacked connection.
func (sw *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !sw.started {
		sw.started = true
		if _, err := sw.s.commit(http.Header{}); err != nil {
			if Cancelled(sw.s.r.Context(), err) {
				sw.s.m.log.Debug("session: save before hijack: request cancelled", "err", err)
			} else {
				sw.s.m.log.Error("session: save before hijack failed", "err", err)
			}
		}
	}
	return http.NewResponseController(sw.w).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (sw *writer) Unwrap() http.ResponseWriter { return sw.w }

// finish starts the response of a handler that returned without writing.
func (sw *writer) finish() {
	if !sw.started {
		sw.start()
	}
}
