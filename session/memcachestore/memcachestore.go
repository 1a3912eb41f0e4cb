package memcachestore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/gowho/gowho/session"
)

// DefaultPrefix is the default of Options.Prefix.
const DefaultPrefix = "gowho:session:"

// DefaultTimeout is the default of Options.Timeout.
const DefaultTimeout = 500 * time.Millisecond

// Options configure a Store.
type Options struct {
	// Servers are the memcached servers, "host:port" (a "memcached://"
	// prefix is accepted) (key memcached_urls, required). Keys are spread
	// over them by the client's consistent selector; every app server must
	// list the same servers in the same order.
	Servers []string
	// Prefix starts every key (default "gowho:session:").
	Prefix string
	// Timeout bounds each operation (default 500ms).
	Timeout time.Duration
	// MaxIdleConns per server (default 8).
	MaxIdleConns int
}

// Store keeps sessions in memcached. Safe for concurrent use.
type Store struct {
	c      *memcache.Client
	prefix string
}

var _ session.Store = (*Store)(nil)

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
	return &Store{c: c, prefix: o.Prefix}, nil
}

// Client returns the memcached client.
func (st *Store) Client() *memcache.Client { return st.c }

// Load gets the record of token.
func (st *Store) Load(_ context.Context, token string) (string, []byte, bool, error) {
	if !session.ValidID(token) {
		return "", nil, false, nil
	}
	var it *memcache.Item
	err := st.retry(func() (err error) { it, err = st.c.Get(st.prefix + token); return err })
	if errors.Is(err, memcache.ErrCacheMiss) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("memcachestore: get: %w", err)
	}
	rec, ok := session.Unseal(it.Value, time.Now())
	if !ok {
		return "", nil, false, nil
	}
	return token, rec, true, nil
}

// Save sets id's record with memcached's expiration at expiry.
func (st *Store) Save(_ context.Context, id string, rec []byte, expiry time.Time) (string, error) {
	if !session.ValidID(id) {
		return "", errors.New("memcachestore: bad session id")
	}
	var exp int32
	if !expiry.IsZero() {
		secs := int64(time.Until(expiry)/time.Second) + 1 // round up
		if secs > 30*24*3600 {
			exp = int32(expiry.Unix() + 1) // memcached reads large values as unix time
		} else {
			exp = int32(max(secs, 1))
		}
	}
	it := &memcache.Item{Key: st.prefix + id, Value: session.Seal(rec, expiry), Expiration: exp}
	err := st.retry(func() error { return st.c.Set(it) })
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
	err := st.retry(func() error { return st.c.Delete(st.prefix + id) })
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("memcachestore: delete: %w", err)
	}
	return nil
}

// Close closes idle connections.
func (st *Store) Close() error { return st.c.Close() }

// retry runs op again, once, on fresh connections, when it failed on the
// connection rather than with a memcached answer: the pooled connections
// to a server that restarted are all dead, and a session must not be lost
// (or a logout left undone) for that. Get, Set and Delete are idempotent.
func (st *Store) retry(op func() error) error {
	err := op()
	if err == nil || !connError(err) {
		return err
	}
	_ = st.c.Close() // drops the idle connections; the client dials anew
	return op()
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
