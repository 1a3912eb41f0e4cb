package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gowho/gowho/internal/backoff"
	"github.com/gowho/gowho/session"
)

// DefaultPrefix is the default of Options.Prefix.
const DefaultPrefix = "gowho:session:"

// DefaultTimeout is the default of Options.DialTimeout, ReadTimeout and
// WriteTimeout (go-redis's own defaults are 5s, with five dial attempts).
const DefaultTimeout = 500 * time.Millisecond

// DefaultBackoff is the default of Options.Backoff.
const DefaultBackoff = backoff.DefaultInterval

// ErrBackoff is returned (wrapped) while the store backs off after
// failures, without asking Redis.
var ErrBackoff = backoff.ErrOpen

// BackoffAfter is the run of consecutive failures after which the store
// backs off.
const BackoffAfter = backoff.DefaultThreshold

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
	// DialTimeout bounds connecting to Redis (key dial_timeout, default
	// 500ms; one attempt). A dial_timeout in URL is used when this is zero.
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for each reply (key read_timeout, default
	// 500ms). A read_timeout in URL is used when this is zero.
	ReadTimeout time.Duration
	// WriteTimeout bounds sending each command (key write_timeout, default
	// 500ms). A write_timeout in URL is used when this is zero.
	WriteTimeout time.Duration
	// Backoff is how long the store fails fast, without asking Redis,
	// after BackoffAfter consecutive failures (key backoff, default 1s;
	// negative: never). Then one request probes Redis: a success ends the
	// back-off, a failure starts another.
	Backoff time.Duration
}

// Store keeps sessions in Redis with SET … PX, so Redis expires them.
// Safe for concurrent use.
type Store struct {
	c      redis.UniversalClient
	prefix string
	own    bool
	br     backoff.Breaker
}

var _ session.Store = (*Store)(nil)

// New returns a store on o.URL (or o.Client). It does not connect until
// used.
func New(o Options) (*Store, error) {
	st := &Store{c: o.Client, prefix: o.Prefix, br: backoff.Breaker{Interval: o.Backoff}}
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
		pick := func(v, fromURL time.Duration) time.Duration {
			switch {
			case v != 0:
				return v
			case fromURL != 0:
				return fromURL
			}
			return DefaultTimeout
		}
		opt.DialTimeout = pick(o.DialTimeout, opt.DialTimeout)
		opt.ReadTimeout = pick(o.ReadTimeout, opt.ReadTimeout)
		opt.WriteTimeout = pick(o.WriteTimeout, opt.WriteTimeout)
		// Waiting for a pooled connection is bounded too: with a hung
		// Redis every connection is busy until its read times out.
		opt.PoolTimeout = max(opt.ReadTimeout, DefaultTimeout)
		opt.DialerRetries = 1 // go-redis's 5 dial attempts made a login wait 5-17s
		opt.MaxRetries = -1   // retried here, only where a retry can help
		st.c = redis.NewClient(opt)
		st.own = true
	}
	return st, nil
}

// do runs op through the back-off, and once more when it failed on a
// connection that broke (Redis restarted) rather than timed out: a retry
// after a timeout would only double the wait on a hung server.
func (st *Store) do(ctx context.Context, op func() error) error {
	t, err := st.br.Allow()
	if err != nil {
		return err
	}
	err = op()
	if retryable(ctx, err) {
		err = op()
	}
	neutral := session.Cancelled(ctx, err) // the caller went away
	t.Done(backendError(err), neutral)
	return err
}

// backendError is err unless it is an answer (a miss), not a failure.
func backendError(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

func retryable(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || ctx.Err() != nil {
		return false
	}
	var re redis.Error
	if errors.As(err, &re) { // a reply from Redis
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	var oe *net.OpError
	return !errors.As(err, &oe) || oe.Op != "dial" // a refused dial fails again at once
}

// Client returns the Redis client.
func (st *Store) Client() redis.UniversalClient { return st.c }

// Load gets the record of token.
func (st *Store) Load(ctx context.Context, token string) (string, []byte, bool, error) {
	if !session.ValidID(token) {
		return "", nil, false, nil
	}
	var b []byte
	err := st.do(ctx, func() (err error) { b, err = st.c.Get(ctx, st.prefix+token).Bytes(); return err })
	if errors.Is(err, redis.Nil) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("redisstore: get: %w", err)
	}
	rec, ok := session.UnwrapExpiry(b, time.Now())
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
	v := session.WrapExpiry(rec, expiry)
	if err := st.do(ctx, func() error { return st.c.Set(ctx, st.prefix+id, v, ttl).Err() }); err != nil {
		return "", fmt.Errorf("redisstore: set: %w", err)
	}
	return id, nil
}

// Delete deletes id's record.
func (st *Store) Delete(ctx context.Context, id string) error {
	if !session.ValidID(id) {
		return nil
	}
	if err := st.do(ctx, func() error { return st.c.Del(ctx, st.prefix+id).Err() }); err != nil {
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
