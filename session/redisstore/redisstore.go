package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gowho/gowho/session"
)

// DefaultPrefix is the default of Options.Prefix.
const DefaultPrefix = "gowho:session:"

// Options configure a Store.
type Options struct {
	// URL is the server, "redis://[:password@]host:port/db" or
	// "rediss://…" for TLS (key redis_url, required unless Client is set).
	URL string
	// Client is an existing client (Go only); it wins over URL, and Close
	// leaves it open.
	Client redis.UniversalClient
	// Prefix starts every key (default "gowho:session:").
	Prefix string
}

// Store keeps sessions in Redis with SET … PX, so Redis expires them.
// Safe for concurrent use.
type Store struct {
	c      redis.UniversalClient
	prefix string
	own    bool
}

var _ session.Store = (*Store)(nil)

// New returns a store on o.URL (or o.Client). It does not connect until
// used.
func New(o Options) (*Store, error) {
	st := &Store{c: o.Client, prefix: o.Prefix}
	if st.prefix == "" {
		st.prefix = DefaultPrefix
	}
	if st.c == nil {
		if o.URL == "" {
			return nil, errors.New("redisstore: redis_url is required")
		}
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("redisstore: redis_url: %w", err)
		}
		opt.MaxRetries = 1
		st.c = redis.NewClient(opt)
		st.own = true
	}
	return st, nil
}

// Load gets the record of token.
func (st *Store) Load(ctx context.Context, token string) (string, []byte, bool, error) {
	if !session.ValidID(token) {
		return "", nil, false, nil
	}
	b, err := st.c.Get(ctx, st.prefix+token).Bytes()
	if errors.Is(err, redis.Nil) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("redisstore: get: %w", err)
	}
	rec, ok := session.Unseal(b, time.Now())
	if !ok {
		return "", nil, false, nil
	}
	return token, rec, true, nil
}

// Save sets id's record to expire at expiry.
func (st *Store) Save(ctx context.Context, id string, rec []byte, expiry time.Time) (string, error) {
	if !session.ValidID(id) {
		return "", errors.New("redisstore: bad session id")
	}
	var ttl time.Duration
	if !expiry.IsZero() {
		ttl = max(time.Until(expiry), time.Millisecond)
	}
	if err := st.c.Set(ctx, st.prefix+id, session.Seal(rec, expiry), ttl).Err(); err != nil {
		return "", fmt.Errorf("redisstore: set: %w", err)
	}
	return id, nil
}

// Delete deletes id's record.
func (st *Store) Delete(ctx context.Context, id string) error {
	if !session.ValidID(id) {
		return nil
	}
	if err := st.c.Del(ctx, st.prefix+id).Err(); err != nil {
		return fmt.Errorf("redisstore: del: %w", err)
	}
	return nil
}

// Close closes the client it opened.
func (st *Store) Close() error {
	if st.own {
		return st.c.Close()
	}
	return nil
}
