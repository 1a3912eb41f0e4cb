package who

import (
	"bufio"
	"net"
	"net/http"
)

// The downstream handler writes through a respwriter.Writer (the state's
// rw): it holds back the handler's status so the chain can decide between
// a challenge and remember before any byte leaves. The decision is taken at
// the first WriteHeader (other than 1xx), Write or Flush, at Hijack, or
// when the handler returns without writing.
//
// Headers go straight into the underlying writer's header map, so the
// common path copies nothing. A challenge replaces the downstream response
// as repoze.who replaces the application's: the headers the downstream
// handler set are dropped, the ones set before the chain ran (an outer
// middleware's HSTS, X-Request-Id) are put back as they were, and the
// challenger's headers, forget headers included, are added to them.

// chainOwner is the state as the writer's respwriter.Owner.
type chainOwner state

// Start takes the challenge/remember decision for status code.
func (o *chainOwner) Start(code int) (answered bool) {
	st := (*state)(o)
	challenge, challenged := st.decide(code, st.rw.Header())
	if !challenged {
		return false
	}
	st.rw.RestoreHeader() // the downstream headers and body never reach the client
	pc := &privateCookies{w: st.rw.Unwrap()}
	challenge.ServeHTTP(pc, st.r)
	pc.check() // a challenger that wrote nothing: net/http sends its headers now
	return true
}

// Hijacked: a hijacked connection carries no challenge and no remember
// headers; the handler writes its own bytes.
func (o *chainOwner) Hijacked() {}

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
