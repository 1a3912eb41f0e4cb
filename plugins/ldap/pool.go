package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// pool keeps a few idle connections and bounds how many are open. A
// connection is prepared once (StartTLS, then the service bind for the
// search pool) when it is dialled, so StartTLS is never lost on a
// reconnect.
type pool struct {
	addr        string // host:port
	ldaps       bool
	tls         *tls.Config
	startTLS    bool
	dialTimeout time.Duration
	timeout     time.Duration
	bindDN      string // service account for the search pool; "" for none
	bindPW      string
	idle        chan *goldap.Conn
	slots       chan struct{} // one per open connection
}

func newPool(o *Options, addr string, ldaps bool, tlsConf *tls.Config, service bool) *pool {
	p := &pool{
		addr: addr, ldaps: ldaps, tls: tlsConf, startTLS: o.StartTLS,
		dialTimeout: o.DialTimeout.D(), timeout: o.Timeout.D(),
		idle:  make(chan *goldap.Conn, o.PoolSize),
		slots: make(chan struct{}, o.MaxConnections),
	}
	if service {
		p.bindDN, p.bindPW = o.BindDN, o.BindPassword
	}
	return p
}

// conn is a connection taken from the pool; release returns it.
type conn struct {
	*goldap.Conn
	p      *pool
	reused bool
}

// get returns an idle connection or dials a new one, waiting for a free
// slot no longer than ctx allows.
func (p *pool) get(ctx context.Context) (*conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, backendError("wait for a connection (max_connections)", context.Cause(ctx))
	}
	for {
		select {
		case c := <-p.idle:
			if c.IsClosing() {
				c.Close()
				continue
			}
			return &conn{Conn: c, p: p, reused: true}, nil
		default:
		}
		break
	}
	c, err := p.dial(ctx)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return &conn{Conn: c, p: p}, nil
}

// dial connects, within dial_timeout and ctx, and prepares the connection
// (StartTLS, the service bind) within ctx: a cancelled or timed-out call
// closes the connection under a hung server.
func (p *pool) dial(ctx context.Context) (*goldap.Conn, error) {
	dctx := ctx
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > p.dialTimeout {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeoutCause(ctx, p.dialTimeout,
			fmt.Errorf("no connection within dial_timeout (%s): %w", p.dialTimeout, context.DeadlineExceeded))
		defer cancel()
	}
	var nc net.Conn
	var err error
	d := &net.Dialer{}
	if p.ldaps {
		nc, err = (&tls.Dialer{NetDialer: d, Config: p.tls}).DialContext(dctx, "tcp", p.addr)
	} else {
		nc, err = d.DialContext(dctx, "tcp", p.addr)
	}
	if err != nil {
		// The dialer's socket deadline may fire a moment before dctx's
		// timer: the same deadline, whose cause says which one it was.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			<-dctx.Done()
		}
		if dctx.Err() != nil {
			err = context.Cause(dctx)
		}
		return nil, backendError("dial", err)
	}
	c := goldap.NewConn(nc, p.ldaps)
	c.Start()
	c.SetTimeout(p.opTimeout(ctx))
	if p.startTLS || p.bindDN != "" {
		stop := context.AfterFunc(ctx, func() { c.Close() })
		err := p.prepare(c)
		if !stop() || (isNetwork(err) && deadlineReached(ctx)) {
			err = backendError("dial", context.Cause(ctx))
		}
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (p *pool) prepare(c *goldap.Conn) error {
	if p.startTLS {
		if err := c.StartTLS(p.tls); err != nil {
			return backendError("starttls", err)
		}
	}
	if p.bindDN != "" {
		if err := c.Bind(p.bindDN, p.bindPW); err != nil {
			return backendError("service bind (bind_dn)", err)
		}
	}
	return nil
}

// opTimeout is go-ldap's own request timeout for a connection used under
// ctx: a backstop a little after ctx's deadline (which closes the
// connection first, so the error says which deadline ended the call), else
// timeout.
func (p *pool) opTimeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), 0) + 250*time.Millisecond
	}
	return p.timeout
}

// release puts the connection back, or closes it when it broke (broken:
// the operation failed at the network level or the context cut it).
func (c *conn) release(broken bool) {
	defer func() { <-c.p.slots }()
	if broken || c.IsClosing() {
		c.Close()
		return
	}
	select {
	case c.p.idle <- c.Conn:
	default:
		c.Close()
	}
}

// close closes the idle connections.
func (p *pool) close() {
	for {
		select {
		case c := <-p.idle:
			c.Close()
		default:
			return
		}
	}
}

// do runs op on a pooled connection, cut short when ctx ends (the
// connection is closed under it). A reused connection that turns out dead
// (the server restarted) is retried once on a fresh one.
func (p *pool) do(ctx context.Context, op func(c *goldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := p.get(ctx)
		if err != nil {
			return err
		}
		c.SetTimeout(p.opTimeout(ctx))
		stop := context.AfterFunc(ctx, func() { c.Close() })
		err = op(c.Conn)
		// go-ldap's own timeout may fire a moment before ctx's: the same
		// deadline.
		cut := !stop() || (isNetwork(err) && deadlineReached(ctx))
		broken := cut || isNetwork(err)
		c.release(broken)
		if cut {
			return backendError("request", context.Cause(ctx))
		}
		if broken && c.reused && attempt == 0 {
			continue
		}
		return err
	}
}

// deadlineReached reports whether ctx has ended, or its deadline has passed
// and it is about to end (its timer may run late on a loaded machine, after
// go-ldap's own timeout, which is the same deadline plus a margin); in the
// second case it waits for ctx to end, so context.Cause(ctx) names the cause.
func deadlineReached(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		<-ctx.Done()
		return true
	}
	return false
}

// isNetwork reports whether err is a connection-level failure, as opposed
// to an LDAP result code.
func isNetwork(err error) bool {
	if err == nil {
		return false
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		return le.ResultCode >= goldap.ErrorNetwork || le.ResultCode == goldap.LDAPResultUnavailable ||
			le.ResultCode == goldap.LDAPResultBusy || le.ResultCode == goldap.LDAPResultServerDown
	}
	return true
}

// resultCode returns the LDAP result code of err, or 0.
func resultCode(err error) uint16 {
	var le *goldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}

// opError is a backend failure. Its message names the operation and the
// result code (or the network failure) but never the server's diagnostic
// text, the DN or the filter, which may echo what the user typed.
type opError struct {
	op  string
	err error
}

func backendError(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *opError
	if errors.As(err, &oe) {
		return err
	}
	return &opError{op: op, err: err}
}

func (e *opError) Error() string {
	var le *goldap.Error
	switch {
	case errors.As(e.err, &le) && le.ResultCode < goldap.ErrorNetwork:
		name := goldap.LDAPResultCodeMap[le.ResultCode]
		return fmt.Sprintf("ldap: %s: result code %d (%s)", e.op, le.ResultCode, name)
	case errors.As(e.err, &le) && le.Err != nil:
		return fmt.Sprintf("ldap: %s: %v", e.op, le.Err)
	default:
		return fmt.Sprintf("ldap: %s: %v", e.op, e.err)
	}
}

// Unwrap returns ErrBackend and the underlying error.
func (e *opError) Unwrap() []error { return []error{ErrBackend, e.err} }
