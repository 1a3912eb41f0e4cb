package who

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter holds back the downstream handler's status so the chain
// can decide between a challenge and remember before any byte leaves. The
// decision is taken at the first WriteHeader (other than 1xx), Write or
// Flush, at Hijack, or when the handler returns without writing.
//
// It writes headers straight into the underlying writer's header map, so
// the common path copies nothing; a challenge clears that map before the
// challenger answers.
type responseWriter struct {
	w          http.ResponseWriter
	st         *state
	decided    bool
	challenged bool
	discarded  http.Header // what Header returns after a challenge
}

func (rw *responseWriter) Header() http.Header {
	if rw.challenged {
		if rw.discarded == nil {
			rw.discarded = http.Header{}
		}
		return rw.discarded
	}
	return rw.w.Header()
}

func (rw *responseWriter) WriteHeader(code int) {
	if rw.decided {
		if !rw.challenged {
			rw.w.WriteHeader(code) // net/http reports the superfluous call
		}
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code) // informational: not the final status
		return
	}
	rw.decideAt(code)
}

// decideAt takes the challenge/remember decision for status code.
func (rw *responseWriter) decideAt(code int) {
	rw.decided = true
	h := rw.w.Header()
	challenge, challenged := rw.st.decide(code, h)
	if !challenged {
		rw.w.WriteHeader(code)
		return
	}
	rw.challenged = true
	clear(h) // the downstream headers and body never reach the client
	pc := &privateCookies{w: rw.w}
	challenge.ServeHTTP(pc, rw.st.r)
	pc.check() // a challenger that wrote nothing: net/http sends its headers now
}

// privateCookies is the writer a challenger answers through: when its
// response carries a Set-Cookie (the forget headers, a came-from cookie),
// it is kept out of shared caches (PreventSharedCaching) before the headers
// are written.
type privateCookies struct {
	w       http.ResponseWriter
	checked bool
}

func (p *privateCookies) Header() http.Header { return p.w.Header() }

func (p *privateCookies) check() {
	if p.checked {
		return
	}
	p.checked = true
	if h := p.w.Header(); len(h["Set-Cookie"]) > 0 {
		PreventSharedCaching(h)
	}
}

func (p *privateCookies) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		p.check()
	}
	p.w.WriteHeader(code)
}

func (p *privateCookies) Write(b []byte) (int, error) {
	p.check()
	return p.w.Write(b)
}

// Flush implements http.Flusher.
func (p *privateCookies) Flush() { _ = p.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (p *privateCookies) FlushError() error {
	p.check()
	return http.NewResponseController(p.w).Flush()
}

// Hijack implements http.Hijacker for a challenger that takes over the
// connection: it writes its own bytes, so nothing is added.
func (p *privateCookies) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	p.checked = true
	return http.NewResponseController(p.w).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (p *privateCookies) Unwrap() http.ResponseWriter { return p.w }

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.decided {
		rw.decideAt(http.StatusOK)
	}
	if rw.challenged {
		return len(p), nil // discarded: the challenger answered
	}
	return rw.w.Write(p)
}

// WriteString avoids a copy for io.WriteString callers.
func (rw *responseWriter) WriteString(s string) (int, error) {
	if !rw.decided {
		rw.decideAt(http.StatusOK)
	}
	if rw.challenged {
		return len(s), nil
	}
	if sw, ok := rw.w.(interface{ WriteString(string) (int, error) }); ok {
		return sw.WriteString(s)
	}
	return rw.w.Write([]byte(s))
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for
// io.Copy and http.ServeContent) once the decision is taken, as a Write
// would take it; after a challenge what it reads is discarded.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !rw.decided {
		rw.decideAt(http.StatusOK)
	}
	if rw.challenged {
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
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (rw *responseWriter) FlushError() error {
	if !rw.decided {
		rw.decideAt(http.StatusOK)
	}
	if rw.challenged {
		return nil
	}
	return http.NewResponseController(rw.w).Flush()
}

// Hijack implements http.Hijacker. A hijacked connection carries no
// challenge and no remember headers: the handler writes its own bytes, so
// the decision is taken here as "neither".
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		rw.decided = true
	}
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach the underlying writer for
// deadlines and full-duplex.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// finish takes the decision for a handler that returned without writing.
func (rw *responseWriter) finish() {
	if !rw.decided {
		rw.decideAt(http.StatusOK)
	}
}
