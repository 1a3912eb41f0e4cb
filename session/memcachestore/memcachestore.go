package memcachestore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/gowho/gowho/internal/backoff"
	"github.com/gowho/gowho/internal/memcachettl"
	"github.com/gowho/gowho/session"
)

// DefaultPrefix is the default of Options.Prefix.
const DefaultPrefix = "gowho:session:"

// DefaultTimeout is the default of Options.Timeout.
const DefaultTimeout = 500 * time.Millisecond

// DefaultBackoff is the default of Options.Backoff.
const DefaultBackoff = backoff.DefaultInterval

// BackoffAfter is the run of consecutive failures of a server after which
// the store backs off from it.
const BackoffAfter = backoff.DefaultThreshold

// ErrBackoff is returned (wrapped) while the store backs off from a
// server after failures, without asking it.
var ErrBackoff = backoff.ErrOpen

// Options configure a Store.
type Options struct {
	// Servers are the memcached servers, "host:port" (a "memcached://"
	// prefix is accepted) (key memcached_urls, required). Keys are spread
	// over them by the client's consistent selector; every app server must
	// list the same servers in the same order.
	Servers []string
	// Prefix starts every key (default "gowho:session:").
	Prefix string
	// Timeout bounds each operation, its writes and reads together, and
	// connecting (key timeout, default 500ms).
	Timeout time.Duration
	// DialTimeout bounds connecting to a server (key dial_timeout,
	// default and at most Timeout).
	DialTimeout time.Duration
	// Backoff is how long the store fails fast, without asking a server,
	// after BackoffAfter consecutive failures of that server (key backoff,
	// default 1s; negative: never). Then one request probes it: a success
	// ends the back-off, a failure starts another. The sessions on the
	// other servers are unaffected.
	Backoff time.Duration
	// MaxIdleConns per server (default 8).
	MaxIdleConns int
}

// Store keeps sessions in memcached. Safe for concurrent use.
type Store struct {
	c      *memcache.Client
	sl     *memcache.ServerList
	prefix string
	br     map[string]*backoff.Breaker // by server address
}

var (
	_ session.Store         = (*Store)(nil)
	_ session.SaveInfoStore = (*Store)(nil)
)

// New returns a store on o.Servers. It does not connect until used.
func New(o Options) (*Store, error) {
	if len(o.Servers) == 0 {
		return nil, errors.New("memcachestore: memcached_urls is required")
	}
	servers := make([]string, len(o.Servers))
	for i, s := range o.Servers {
		s = strings.TrimPrefix(s, "memcached://")
		s = strings.TrimSuffix(s, "/")
		if s == "" {
			return nil, fmt.Errorf("memcachestore: empty server in memcached_urls")
		}
		servers[i] = s
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 8
	}
	sl := new(memcache.ServerList)
	if err := sl.SetServers(servers...); err != nil {
		return nil, fmt.Errorf("memcachestore: %w", err)
	}
	c := memcache.NewFromSelector(sl)
	c.Timeout = o.Timeout
	c.MaxIdleConns = o.MaxIdleConns
	if d := o.DialTimeout; d > 0 && d < o.Timeout {
		c.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			var dl net.Dialer
			return dl.DialContext(ctx, network, addr)
		}
	}
	st := &Store{c: c, sl: sl, prefix: o.Prefix, br: map[string]*backoff.Breaker{}}
	err := sl.Each(func(a net.Addr) error {
		st.br[a.String()] = &backoff.Breaker{Interval: o.Backoff}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memcachestore: %w", err)
	}
	return st, nil
}

// Client returns the memcached client.
func (st *Store) Client() *memcache.Client { return st.c }

// Load gets the record of token.
func (st *Store) Load(_ context.Context, token string) (string, []byte, bool, error) {
	if !session.ValidID(token) {
		return "", nil, false, nil
	}
	var it *memcache.Item
	err := st.retry(st.prefix+token, func() (err error) { it, err = st.c.Get(st.prefix + token); return err })
	if errors.Is(err, memcache.ErrCacheMiss) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("memcachestore: get: %w", err)
	}
	rec, ok := session.UnwrapExpiry(it.Value, time.Now())
	if !ok {
		return "", nil, false, nil
	}
	return token, rec, true, nil
}

// Save sets id's record with memcached's expiration at expiry.
func (st *Store) Save(_ context.Context, id string, rec []byte, expiry time.Time) (string, error) {
	return st.save(id, rec, expiry, false)
}

// SaveInfo is Save; with info.Existing it is memcached's replace, which
// stores the record only if id's item is still there, and SaveInfo
// returns an error wrapping session.ErrGone otherwise: a session deleted
// by another request (or expired, or evicted) stays deleted. The userid
// is not used: the store keeps no per-user index (see the package doc).
func (st *Store) SaveInfo(_ context.Context, id string, rec []byte, expiry time.Time, info session.SaveInfo) (string, error) {
	return st.save(id, rec, expiry, info.Existing)
}

// save sets id's record, or with existing replaces it.
func (st *Store) save(id string, rec []byte, expiry time.Time, existing bool) (string, error) {
	if !session.ValidID(id) {
		return "", errors.New("memcachestore: bad session id")
	}
	var exp int32
	if !expiry.IsZero() {
		now := time.Now()
		exp = memcachettl.Expiration(expiry.Sub(now), now)
	}
	it := &memcache.Item{Key: st.prefix + id, Value: session.WrapExpiry(rec, expiry), Expiration: exp}
	if existing {
		err := st.retry(it.Key, func() error { return st.c.Replace(it) })
		if errors.Is(err, memcache.ErrNotStored) {
			return "", fmt.Errorf("memcachestore: replace: %w (%w)", session.ErrGone, err)
		}
		if err != nil {
			return "", fmt.Errorf("memcachestore: replace: %w", err)
		}
		return id, nil
	}
	err := st.retry(it.Key, func() error { return st.c.Set(it) })
	if err != nil {
		return "", fmt.Errorf("memcachestore: set: %w", err)
	}
	return id, nil
}

// Delete deletes id's record.
func (st *Store) Delete(_ context.Context, id string) error {
	if !session.ValidID(id) {
		return nil
	}
	err := st.retry(st.prefix+id, func() error { return st.c.Delete(st.prefix + id) })
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("memcachestore: delete: %w", err)
	}
	return nil
}

// Close closes idle connections.
func (st *Store) Close() error { return st.c.Close() }

// retry runs op on key's server through that server's back-off, and
// again, once, on fresh connections, when it failed on a connection that
// broke rather than with a memcached answer or a timeout: the pooled
// connections to a server that restarted are all dead, and a session must
// not be lost (or a logout left undone) for that, while a retry after a
// timeout would only double the wait on a hung server. Get, Set, Replace
// and Delete are idempotent.
func (st *Store) retry(key string, op func() error) error {
	br := st.breaker(key)
	t, err := br.Allow()
	if err != nil {
		return err
	}
	err = op()
	if err != nil && connError(err) && !timeout(err) {
		_ = st.c.Close() // drops the idle connections; the client dials anew
		err = op()
	}
	if err != nil && !connError(err) {
		t.Done(nil, false) // an answer: the server is up
	} else {
		t.Done(err, false)
	}
	return err
}

// breaker returns the back-off of key's server.
func (st *Store) breaker(key string) *backoff.Breaker {
	if a, err := st.sl.PickServer(key); err == nil {
		if b := st.br[a.String()]; b != nil {
			return b
		}
	}
	return &backoff.Breaker{Interval: -1} // no server for key: the client reports it
}

func timeout(err error) bool {
	var cte *memcache.ConnectTimeoutError
	var ne net.Error
	return errors.As(err, &cte) || errors.As(err, &ne) && ne.Timeout()
}

func connError(err error) bool {
	for _, answer := range []error{memcache.ErrCacheMiss, memcache.ErrCASConflict, memcache.ErrNotStored,
		memcache.ErrServerError, memcache.ErrMalformedKey, memcache.ErrNoStats} {
		if errors.Is(err, answer) {
			return false
		}
	}
	return true
}
