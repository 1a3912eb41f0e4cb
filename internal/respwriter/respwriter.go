// Package respwriter is the response writer the who middleware and the
// session manager share. It holds a response back until it starts (the
// first WriteHeader with a final status, Write, WriteString, ReadFrom or
// Flush, or the handler's return), lets its owner take a decision there
// (a challenge, saving a session) and answer the request instead of the
// handler, and remembers the headers that were set on the ResponseWriter
// before the handler ran, so that an answer replacing the handler's
// response keeps them (an outer middleware's HSTS, X-Request-Id).
//
// It keeps the underlying writer's optional abilities: http.Flusher,
// http.Hijacker, io.ReaderFrom (sendfile), io.StringWriter and Unwrap for
// http.ResponseController.
package respwriter

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
)

// An Owner takes the decision when the response starts.
type Owner interface {
	// Start is called once, when the response starts, with its status
	// (http.StatusOK for a response started by Write, WriteString,
	// ReadFrom, Flush or Finish). It may add headers to w.Header(). It
	// returns true when it answered the request itself through the
	// underlying writer (after Writer.RestoreHeader when the handler's
	// headers must not reach the client); what the handler writes
	// afterwards is then discarded. Otherwise the Writer passes the status
	// on.
	Start(status int) (answered bool)
	// Hijacked is called once when the handler hijacked the connection
	// before the response started: nothing is sent through the Writer any
	// more.
	Hijacked()
}

// Writer is the http.ResponseWriter a handler runs behind. Set it up with
// Reset; the zero Writer is not usable. It is used by one request, from
// the goroutine that serves it, as any ResponseWriter.
type Writer struct {
	w         http.ResponseWriter
	owner     Owner
	started   bool
	answered  bool
	discarded http.Header // what Header returns after the owner answered
	before    Snapshot
}

// Reset sets rw up for a handler writing to w, with o deciding, and
// remembers w's headers as they are now: the headers set before the
// handler runs.
func (rw *Writer) Reset(w http.ResponseWriter, o Owner) {
	rw.w, rw.owner = w, o
	rw.started, rw.answered, rw.discarded = false, false, nil
	rw.before.Take(w.Header())
}

// RestoreHeader puts the underlying writer's headers back to what they
// were at Reset, dropping every header the handler set and bringing back
// every earlier one it changed or removed. The owner calls it from Start
// before answering in the handler's place.
func (rw *Writer) RestoreHeader() { rw.before.Restore(rw.w.Header()) }

// Started reports whether the response has started.
func (rw *Writer) Started() bool { return rw.started }

// Answered reports whether the owner answered in the handler's place.
func (rw *Writer) Answered() bool { return rw.answered }

// start takes the decision at status; it reports whether the handler's
// response goes on.
func (rw *Writer) start(status int) bool {
	if rw.started {
		return !rw.answered
	}
	rw.started = true
	if rw.owner.Start(status) {
		rw.answered = true
		return false
	}
	rw.w.WriteHeader(status)
	return true
}

// Header returns the underlying writer's headers, or a throwaway map once
// the owner answered.
func (rw *Writer) Header() http.Header {
	if rw.answered {
		if rw.discarded == nil {
			rw.discarded = http.Header{}
		}
		return rw.discarded
	}
	return rw.w.Header()
}

// WriteHeader starts the response at code. An informational status
// (1xx other than 101) is passed on and starts nothing.
func (rw *Writer) WriteHeader(code int) {
	if rw.started {
		if !rw.answered {
			rw.w.WriteHeader(code) // net/http reports the superfluous call
		}
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code) // informational: not the final status
		return
	}
	rw.start(code)
}

// Write starts the response (200) if it has not started.
func (rw *Writer) Write(p []byte) (int, error) {
	if !rw.start(http.StatusOK) {
		return len(p), nil // discarded: the owner answered
	}
	return rw.w.Write(p)
}

// WriteString avoids a copy for io.WriteString callers.
func (rw *Writer) WriteString(s string) (int, error) {
	if !rw.start(http.StatusOK) {
		return len(s), nil
	}
	if sw, ok := rw.w.(io.StringWriter); ok {
		return sw.WriteString(s)
	}
	return rw.w.Write([]byte(s))
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for
// io.Copy and http.ServeContent) once the response started; after the
// owner answered, what it reads is discarded.
func (rw *Writer) ReadFrom(src io.Reader) (int64, error) {
	if !rw.start(http.StatusOK) {
		return io.Copy(io.Discard, src)
	}
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{rw.w}, src)
}

// writerOnly hides every method but Write, so io.Copy cannot loop back
// into ReadFrom.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// Flush implements http.Flusher.
func (rw *Writer) Flush() { _ = rw.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (rw *Writer) FlushError() error {
	if !rw.start(http.StatusOK) {
		return nil
	}
	return http.NewResponseController(rw.w).Flush()
}

// Hijack implements http.Hijacker. A connection hijacked before the
// response started carries nothing of the owner's: the owner is told
// (Hijacked) and the response counts as started. A failed Hijack (HTTP/2)
// leaves the response as it was.
func (rw *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil && !rw.started {
		rw.started = true
		rw.owner.Hijacked()
	}
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach the underlying writer for
// deadlines and full-duplex.
func (rw *Writer) Unwrap() http.ResponseWriter { return rw.w }

// Finish starts the response of a handler that returned without writing.
func (rw *Writer) Finish() { rw.start(http.StatusOK) }

// inlineFields is how many header fields a Snapshot holds without
// allocating: what an outer middleware typically sets (HSTS, a request
// id, a few security headers).
const inlineFields = 8

// Snapshot is a response's header as it stood at one moment. Taking one
// allocates nothing for up to eight fields; the value slices are shared
// with the header until Restore, which net/http's Header methods never
// change in place (Set and Del replace a field, Add appends past what the
// snapshot holds).
type Snapshot struct {
	n      int
	inline [inlineFields]field
	more   []field
}

type field struct {
	name   string
	values []string
}

// Take records h.
func (s *Snapshot) Take(h http.Header) {
	s.n = 0
	clear(s.inline[:])
	s.more = s.more[:0]
	for k, vs := range h {
		if s.n < inlineFields {
			s.inline[s.n] = field{k, vs}
		} else {
			s.more = append(s.more, field{k, vs})
		}
		s.n++
	}
}

// Restore makes h hold exactly what Take recorded, each value slice a copy
// of its own.
func (s *Snapshot) Restore(h http.Header) {
	clear(h)
	for i := range min(s.n, inlineFields) {
		f := s.inline[i]
		h[f.name] = slices.Clone(f.values)
	}
	for _, f := range s.more {
		h[f.name] = slices.Clone(f.values)
	}
}
