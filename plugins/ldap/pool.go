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
	url         string
	tls         *tls.Config
	startTLS    bool
	dialTimeout time.Duration
	timeout     time.Duration
	bindDN      string // service account for the search pool; "" for none
	bindPW      string
	idle        chan *goldap.Conn
	slots       chan struct{} // one per open connection
}

func newPool(o *Options, tlsConf *tls.Config, service bool) *pool {
	p := &pool{
		url: o.URL, tls: tlsConf, startTLS: o.StartTLS,
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
		return nil, backendError("wait for a connection", ctx.Err())
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

func (p *pool) dial(ctx context.Context) (*goldap.Conn, error) {
	d := &net.Dialer{Timeout: p.dialTimeout}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < p.dialTimeout {
		d.Deadline = dl
	}
	c, err := goldap.DialURL(p.url, goldap.DialWithDialer(d), goldap.DialWithTLSConfig(p.tls))
	if err != nil {
		return nil, backendError("dial", err)
	}
	c.SetTimeout(p.timeout)
	if p.startTLS {
		if err := c.StartTLS(p.tls); err != nil {
			c.Close()
			return nil, backendError("starttls", err)
		}
	}
	if p.bindDN != "" {
		if err := c.Bind(p.bindDN, p.bindPW); err != nil {
			c.Close()
			return nil, backendError("service bind (bind_dn)", err)
		}
	}
	return c, nil
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
		stop := context.AfterFunc(ctx, func() { c.Close() })
		err = op(c.Conn)
		cut := !stop()
		broken := cut || isNetwork(err)
		c.release(broken)
		if cut {
			return backendError("request", ctx.Err())
		}
		if broken && c.reused && attempt == 0 {
			continue
		}
		return err
	}
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
