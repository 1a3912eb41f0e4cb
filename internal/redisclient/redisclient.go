// Package redisclient holds a go-redis client that gowho's back-off can
// renew, so Redis coming back is noticed at gowho's next probe.
//
// go-redis's pool counts every failed dial over its life; at PoolSize of
// them it stops dialling and only probes Redis once a second in the
// background. Behind gowho's own breaker (internal/backoff) the two waits
// add up: gowho's probe lands while the pool still refuses, and the store
// backs off for another interval (a login failed 2 s after Redis was
// back). When gowho's breaker opens, the owner calls Renew: the next call
// goes to a new client with a fresh pool, and the old one is closed once
// the calls still using it have had their timeouts.
package redisclient

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Client is the current go-redis client of a store. Safe for concurrent
// use; Get costs one atomic load.
type Client struct {
	cur   atomic.Pointer[holder]
	open  func() redis.UniversalClient // nil: the caller's client, never renewed
	grace time.Duration

	mu      sync.Mutex
	closed  bool
	retired map[*holder]*time.Timer // renewed clients waiting out their calls
}

type holder struct{ c redis.UniversalClient }

// New returns a Client made by open, which Renew calls again for each new
// client. grace is how long a renewed client stays open for the calls
// that already hold it: the longest a call can take (pool wait, dial,
// write, read and any retry).
func New(open func() redis.UniversalClient, grace time.Duration) *Client {
	c := &Client{open: open, grace: grace}
	c.cur.Store(&holder{open()})
	return c
}

// Fixed returns a Client around a client the caller made and owns: Renew
// does nothing and Close does not close it.
func Fixed(rc redis.UniversalClient) *Client {
	c := &Client{}
	c.cur.Store(&holder{rc})
	return c
}

// Get returns the current client. Call it for each operation: do not keep
// it, Renew replaces it.
func (c *Client) Get() redis.UniversalClient { return c.cur.Load().c }

// Renew replaces a client this package made by a new one (the next Get
// returns it) and closes the old one after the grace period. It does
// nothing for a Fixed client or after Close. Call it when the back-off
// opens: then nothing is lost but pooled connections to a server that
// stopped answering.
func (c *Client) Renew() {
	if c.open == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	old := c.cur.Swap(&holder{c.open()})
	if c.retired == nil {
		c.retired = make(map[*holder]*time.Timer)
	}
	c.retired[old] = time.AfterFunc(c.grace, func() {
		c.mu.Lock()
		_, ok := c.retired[old]
		delete(c.retired, old)
		c.mu.Unlock()
		if ok {
			_ = old.c.Close()
		}
	})
}

// Close closes the current client and every renewed one still waiting
// out its grace period (a Fixed client is left to its owner).
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	retired := c.retired
	c.retired = nil
	c.mu.Unlock()
	var errs []error
	for h, timer := range retired {
		timer.Stop()
		errs = append(errs, h.c.Close())
	}
	if c.open != nil {
		errs = append(errs, c.Get().Close())
	}
	return errors.Join(errs...)
}
