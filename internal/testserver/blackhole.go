package testserver

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// BlackHole is a listener on 127.0.0.1 that accepts every connection and
// never answers: what a hung directory, cache or store looks like to a
// client. Connections stay open (and silent) until the test ends or Close.
type BlackHole struct {
	// Addr is host:port on 127.0.0.1.
	Addr string

	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
	done     chan struct{}
}

// StartBlackHole starts a black-hole listener for one test; t.Cleanup closes
// it and every connection it holds.
func StartBlackHole(t testing.TB) *BlackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("black hole: %v", err)
	}
	b := &BlackHole{Addr: ln.Addr().String(), ln: ln, done: make(chan struct{})}
	go b.serve()
	t.Cleanup(b.Close)
	return b
}

func (b *BlackHole) serve() {
	defer close(b.done)
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.accepted.Add(1)
		b.mu.Lock()
		b.conns = append(b.conns, c)
		b.mu.Unlock()
	}
}

// Accepted is the number of connections accepted so far.
func (b *BlackHole) Accepted() int64 { return b.accepted.Load() }

// Close stops listening and closes every held connection (the clients then
// see a reset or EOF). It is safe to call more than once.
func (b *BlackHole) Close() {
	b.ln.Close()
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
	b.conns = nil
}
