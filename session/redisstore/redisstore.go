package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gowho/gowho/internal/backoff"
	"github.com/gowho/gowho/internal/redisclient"
	"github.com/gowho/gowho/internal/redisurl"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
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

// ErrNotReplicated is returned (wrapped) by Save when fewer replicas
// than Options.WaitReplicas acknowledged the write in time: the session
// might not survive a failover, so the save counts as failed.
var ErrNotReplicated = errors.New("redisstore: write not acknowledged by the replicas")

// Options configure a Store. Give exactly one of URL (one server),
// SentinelAddrs (Sentinel) and ClusterAddrs (Redis Cluster), or Client.
type Options struct {
	// URL is the server, "redis://[:password@]host:port/db" or
	// "rediss://…" for TLS (key redis_url).
	URL string
	// SentinelAddrs are Redis Sentinels, "host:port" (key sentinel_addrs):
	// the store asks them for the master of MasterName and follows a
	// failover.
	SentinelAddrs []string
	// MasterName is the master's name in the Sentinels (key master_name,
	// required with SentinelAddrs).
	MasterName string
	// SentinelPassword authenticates to the Sentinels (key
	// sentinel_password; write "${REDIS_SENTINEL_PASSWORD}" in who.toml).
	SentinelPassword string
	// ClusterAddrs are some nodes of a Redis Cluster, "host:port" (key
	// cluster_addrs): the store learns the others from them.
	ClusterAddrs []string
	// Username and Password authenticate to the Redis servers found
	// through SentinelAddrs or ClusterAddrs (keys redis_username and
	// redis_password; write "${REDIS_PASSWORD}"). With URL the password
	// goes in the URL.
	Username, Password string
	// DB is the database number with SentinelAddrs (key db, default 0; a
	// cluster has only database 0, and URL names its own).
	DB int
	// WaitReplicas makes every save wait until that many replicas have
	// the record (Redis's WAIT) and fail with ErrNotReplicated otherwise
	// (key wait_replicas, default 0: do not wait). Redis replicates
	// asynchronously: without it a failover can lose the sessions saved
	// just before it. It waits at most half of ReadTimeout for each key
	// written: the record and, for a logged-in session, the user's index
	// entry (on another master in a cluster).
	WaitReplicas int
	// Client is an existing client (Go only); it wins over the addresses,
	// and Close leaves it open.
	Client redis.UniversalClient
	// Prefix starts every key (default "gowho:session:"). In a cluster,
	// keep braces out of it unless every key should go to one node: a
	// {…} in it is a hash tag.
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

// Store keeps sessions in Redis with SET … PX, so Redis expires them, and
// for each userid a sorted set of its session ids scored by their expiry
// (the per-user index of session.UserIndexStore). Safe for concurrent use.
type Store struct {
	c           *redisclient.Client
	prefix      string
	br          backoff.Breaker
	waitN       int
	waitTimeout time.Duration
}

var (
	_ session.Store          = (*Store)(nil)
	_ session.UserIndexStore = (*Store)(nil)
)

// optErr is an error naming the who.toml key.
func optErr(key string, format string, args ...any) error {
	return &who.OptionError{Key: key, Err: fmt.Errorf(format, args...)}
}

// New returns a store on the server, Sentinels or cluster o names (or
// o.Client). It does not connect until used. Its errors are
// *who.OptionError naming the key.
func New(o Options) (*Store, error) {
	st := &Store{prefix: o.Prefix, br: backoff.Breaker{Interval: o.Backoff}, waitN: o.WaitReplicas}
	if st.prefix == "" {
		st.prefix = DefaultPrefix
	}
	if o.WaitReplicas < 0 {
		return nil, optErr("wait_replicas", "%d is negative", o.WaitReplicas)
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
	st.waitTimeout = pick(o.ReadTimeout, 0) / 2
	if o.Client != nil {
		st.c = redisclient.Fixed(o.Client)
		return st, nil
	}
	var given []string
	for _, k := range []struct {
		key string
		set bool
	}{{"redis_url", o.URL != ""}, {"sentinel_addrs", len(o.SentinelAddrs) > 0}, {"cluster_addrs", len(o.ClusterAddrs) > 0}} {
		if k.set {
			given = append(given, k.key)
		}
	}
	switch len(given) {
	case 0:
		return nil, optErr("redis_url", "is required (or sentinel_addrs and master_name, or cluster_addrs)")
	case 1:
	default:
		return nil, optErr(given[1], "cannot be given with %s: give one of redis_url, sentinel_addrs, cluster_addrs", given[0])
	}
	if o.MasterName != "" && len(o.SentinelAddrs) == 0 {
		return nil, optErr("master_name", "is for sentinel_addrs")
	}
	if o.SentinelPassword != "" && len(o.SentinelAddrs) == 0 {
		return nil, optErr("sentinel_password", "is for sentinel_addrs")
	}
	if o.DB != 0 && len(o.SentinelAddrs) == 0 {
		return nil, optErr("db", "is for sentinel_addrs (redis_url names its database; a cluster has only 0)")
	}
	if o.DB < 0 {
		return nil, optErr("db", "%d is negative", o.DB)
	}
	if o.URL != "" && (o.Username != "" || o.Password != "") {
		key := "redis_password"
		if o.Username != "" {
			key = "redis_username"
		}
		return nil, optErr(key, "is for sentinel_addrs and cluster_addrs: with redis_url write redis://user:${REDIS_PASSWORD}@host:port/0")
	}
	for _, l := range []struct {
		key   string
		addrs []string
	}{{"sentinel_addrs", o.SentinelAddrs}, {"cluster_addrs", o.ClusterAddrs}} {
		for i, a := range l.addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return nil, optErr(l.key, "entry %d %q: want host:port: %w", i+1, a, err)
			}
		}
	}
	if o.URL != "" {
		opt, err := redisurl.Parse("redisstore", o.URL)
		if err != nil {
			return nil, &who.OptionError{Key: "redis_url", Err: err}
		}
		opt.DialTimeout = pick(o.DialTimeout, opt.DialTimeout)
		opt.ReadTimeout = pick(o.ReadTimeout, opt.ReadTimeout)
		opt.WriteTimeout = pick(o.WriteTimeout, opt.WriteTimeout)
		// Waiting for a pooled connection is bounded too: with a hung
		// Redis every connection is busy until its read times out.
		opt.PoolTimeout = max(opt.ReadTimeout, DefaultTimeout)
		opt.DialerRetries = 1 // go-redis's 5 dial attempts made a login wait 5-17s
		opt.MaxRetries = -1   // retried here, only where a retry can help
		st.waitTimeout = opt.ReadTimeout / 2
		st.c = redisclient.New(func() redis.UniversalClient { return redis.NewClient(opt) },
			callBound(opt.PoolTimeout, opt.DialTimeout, opt.WriteTimeout, opt.ReadTimeout))
		return st, nil
	}
	uo := redis.UniversalOptions{Addrs: o.ClusterAddrs, IsClusterMode: true, Username: o.Username, Password: o.Password}
	if len(o.SentinelAddrs) > 0 {
		if o.MasterName == "" {
			return nil, optErr("master_name", "is required with sentinel_addrs")
		}
		uo = redis.UniversalOptions{Addrs: o.SentinelAddrs, MasterName: o.MasterName, SentinelPassword: o.SentinelPassword,
			DB: o.DB, Username: o.Username, Password: o.Password}
	}
	uo.DialTimeout = pick(o.DialTimeout, 0)
	uo.ReadTimeout = pick(o.ReadTimeout, 0)
	uo.WriteTimeout = pick(o.WriteTimeout, 0)
	uo.PoolTimeout = max(uo.ReadTimeout, DefaultTimeout)
	uo.DialerRetries = 1
	uo.MaxRetries = -1 // a cluster still follows MOVED and ASK (MaxRedirects)
	st.waitTimeout = uo.ReadTimeout / 2
	st.c = redisclient.New(func() redis.UniversalClient { return redis.NewUniversalClient(&uo) },
		callBound(uo.PoolTimeout, uo.DialTimeout, uo.WriteTimeout, uo.ReadTimeout))
	return st, nil
}

// callBound is the longest one call through do can hold a client: two
// tries, each waiting for a connection, dialling, writing and reading
// (zero timeouts are go-redis's defaults, at most 5 s each), and a margin.
func callBound(timeouts ...time.Duration) time.Duration {
	var one time.Duration
	for _, d := range timeouts {
		if d <= 0 {
			d = 5 * time.Second
		}
		one += d
	}
	return 2*one + time.Second
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
	if t.Done(backendError(err), neutral) {
		// go-redis's pool may have stopped dialling (see redisclient):
		// the probe after the back-off goes to a fresh pool.
		st.c.Renew()
	}
	return err
}

// backendError is err unless it is an answer (a miss, a SET … XX on a
// key not there), not a failure.
func backendError(err error) error {
	if errors.Is(err, redis.Nil) || errors.Is(err, errNotSet) {
		return nil
	}
	return err
}

func retryable(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, errNotSet) || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, ErrNotReplicated) { // the write arrived: waiting again only doubles the wait
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

// Client returns the store's current Redis client: Options.Client, or
// the one the store made, which it replaces by a new one when Redis stops
// answering (do not keep it).
func (st *Store) Client() redis.UniversalClient { return st.c.Get() }

// Load gets the record of token.
func (st *Store) Load(ctx context.Context, token string) (string, []byte, bool, error) {
	if !session.ValidID(token) {
		return "", nil, false, nil
	}
	var b []byte
	err := st.do(ctx, func() (err error) { b, err = st.c.Get().Get(ctx, st.prefix+token).Bytes(); return err })
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
	return st.SaveInfo(ctx, id, rec, expiry, session.SaveInfo{})
}

// SaveInfo is Save, after it indexes id under info.UserID (when set) so
// that UserSessions finds it. With info.Existing it is SET … XX: Redis
// writes the record only if id's key is still there, and SaveInfo returns
// an error wrapping session.ErrGone otherwise, so a session deleted by
// another request (or expired) stays deleted.
func (st *Store) SaveInfo(ctx context.Context, id string, rec []byte, expiry time.Time, info session.SaveInfo) (string, error) {
	if !session.ValidID(id) {
		return "", errors.New("redisstore: bad session id")
	}
	if info.UserID != "" {
		if err := st.do(ctx, func() error { return st.index(ctx, info.UserID, id, expiry) }); err != nil {
			return "", fmt.Errorf("redisstore: index: %w", err)
		}
	}
	var ttl time.Duration
	if !expiry.IsZero() {
		ttl = max(time.Until(expiry), time.Millisecond)
	}
	v := session.WrapExpiry(rec, expiry)
	if err := st.do(ctx, func() error { return st.set(ctx, st.prefix+id, v, ttl, info.Existing) }); err != nil {
		return "", fmt.Errorf("redisstore: set: %w", err)
	}
	return id, nil
}

// errNotSet is SET … XX's nil answer: the key was not there.
var errNotSet = fmt.Errorf("key not there (SET XX): %w", session.ErrGone)

// set is SET key v PX ttl (with xx, SET … XX: only over a key still
// there, else errNotSet), followed on the same connection by WAIT when
// the store waits for replicas (see waited). A retry of a SET … XX that
// did set (the answer was lost) finds the key and sets it again: the same
// value.
func (st *Store) set(ctx context.Context, key string, v []byte, ttl time.Duration, xx bool) error {
	setCmd := func(c redis.Cmdable) func() error {
		if !xx {
			cmd := c.Set(ctx, key, v, ttl)
			return cmd.Err
		}
		cmd := c.SetXX(ctx, key, v, ttl)
		return func() error {
			ok, err := cmd.Result()
			if err == nil && !ok {
				return errNotSet
			}
			return err
		}
	}
	if st.waitN == 0 {
		return setCmd(st.c.Get())()
	}
	return st.waited(ctx, key, setCmd)
}

// waited sends the write that queue queues and a WAIT in one pipeline,
// on one connection to key's master (in a cluster, MasterForKey's node),
// so that WAIT counts the replicas that have that write; fewer than
// WaitReplicas is ErrNotReplicated. queue returns the write's result. A
// write answered with errNotSet wrote nothing: it is returned as is,
// whatever WAIT said.
func (st *Store) waited(ctx context.Context, key string, queue func(redis.Cmdable) func() error) error {
	rc := st.c.Get()
	var c redis.Cmdable = rc
	if cc, ok := rc.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		c = node
	}
	var w *redis.Cmd
	var res func() error
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		res = queue(p)
		// The pipeline's read timeout is ReadTimeout: WAIT's own is half.
		w = p.Do(ctx, "wait", st.waitN, st.waitTimeout.Milliseconds())
		return nil
	}); err != nil {
		if res != nil && errors.Is(res(), errNotSet) {
			return errNotSet // SET … XX answered "not there": nothing written, nothing to wait for
		}
		return err
	}
	if err := res(); err != nil {
		return err // errNotSet: nothing written, nothing to wait for
	}
	if n, _ := w.Int64(); n < int64(st.waitN) {
		return fmt.Errorf("%w: %d of %d within %v", ErrNotReplicated, n, st.waitN, st.waitTimeout)
	}
	return nil
}

// userKey is the key of userid's index: the prefix, "user:" and the
// SHA-256 of the userid (fixed length and no braces, whatever the userid).
func (st *Store) userKey(userid string) string {
	h := sha256.Sum256([]byte(userid))
	return st.prefix + "user:" + base64.RawURLEncoding.EncodeToString(h[:])
}

// indexScript adds ARGV[3] to the sorted set KEYS[1] with score ARGV[2]
// (its expiry in Unix ms, or +inf), drops the members that expired by
// ARGV[1] (now) and gives the key the expiry of its last member, so the
// index of a user who stops coming back goes with their last session. One
// key: it runs on that key's node in a cluster.
var indexScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] == 'inf' then
	redis.call('PERSIST', KEYS[1])
else
	redis.call('PEXPIREAT', KEYS[1], top[2])
end
return 1
`)

// index adds id, until expiry, to userid's index.
func (st *Store) index(ctx context.Context, userid, id string, expiry time.Time) error {
	now := time.Now().UnixMilli()
	score := "+inf"
	if !expiry.IsZero() {
		score = strconv.FormatInt(max(expiry.UnixMilli(), now+1), 10)
	}
	key := st.userKey(userid)
	if st.waitN == 0 {
		return indexScript.Run(ctx, st.c.Get(), []string{key}, now, score, id).Err()
	}
	// The index waits for the replicas too: in a cluster it is on
	// another master than the record, and with Sentinel the record's
	// WAIT may run on a new master that never got the index entry
	// written to the old one. An entry lost in a failover is a session
	// DestroyUser misses. (Eval: a pipeline cannot fall back from
	// EVALSHA; Redis caches the script either way.)
	return st.waited(ctx, key, func(c redis.Cmdable) func() error {
		return indexScript.Eval(ctx, c, []string{key}, now, score, id).Err
	})
}

// UserSessions returns the ids in userid's index that have not expired.
func (st *Store) UserSessions(ctx context.Context, userid string) ([]string, error) {
	var ids []string
	from := "(" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	err := st.do(ctx, func() (err error) {
		ids, err = st.c.Get().ZRangeByScore(ctx, st.userKey(userid), &redis.ZRangeBy{Min: from, Max: "+inf"}).Result()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: zrangebyscore: %w", err)
	}
	return ids, nil
}

// Delete deletes id's record.
func (st *Store) Delete(ctx context.Context, id string) error {
	if !session.ValidID(id) {
		return nil
	}
	if err := st.do(ctx, func() error { return st.c.Get().Del(ctx, st.prefix+id).Err() }); err != nil {
		return fmt.Errorf("redisstore: del: %w", err)
	}
	return nil
}

// Close closes the clients it opened (not Options.Client).
func (st *Store) Close() error { return st.c.Close() }
