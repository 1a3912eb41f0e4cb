package sessionplugin

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
	"github.com/gowho/gowho/session/filestore"
	"github.com/gowho/gowho/session/memcachestore"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/session/redisstore"
	"github.com/gowho/gowho/who"
)

// Store kinds, the values of the store key.
const (
	StoreCookie    = "cookie"
	StoreMemory    = "memory"
	StoreFile      = "file"
	StoreMemcached = "memcached"
	StoreRedis     = "redis"
)

var storeKinds = []string{StoreCookie, StoreMemory, StoreFile, StoreMemcached, StoreRedis}

// Options are the keys of a [plugin.NAME] section with use = "session".
type Options struct {
	// Store is the kind of store (key store, default "cookie"): "cookie",
	// "memory", "file", "memcached" or "redis".
	Store string `toml:"store"`
	// Secret seals cookie sessions (key secret; required with store =
	// "cookie", at least 32 bytes).
	Secret string `toml:"secret"`
	// OldSecrets still open cookie sessions (key old_secrets, default none).
	OldSecrets []string `toml:"old_secrets"`
	// DataDir holds the file store's files (key data_dir; required with
	// store = "file"). In who.toml it follows who.PluginSpec.Path: "~/" is
	// the home directory, a relative path is relative to the configuration
	// file. New takes it as given.
	DataDir string `toml:"data_dir"`
	// MemcachedURLs are the memcached servers, "host:port" (key
	// memcached_urls; required with store = "memcached").
	MemcachedURLs []string `toml:"memcached_urls"`
	// RedisURL is the Redis server, "redis://host:port/db" (key redis_url;
	// required with store = "redis").
	RedisURL string `toml:"redis_url"`
	// SentinelAddrs are Redis Sentinels, "host:port" (key sentinel_addrs;
	// with store = "redis", instead of redis_url). MasterName names the
	// master (key master_name, required with it) and SentinelPassword
	// authenticates to them (key sentinel_password: write
	// "${REDIS_SENTINEL_PASSWORD}").
	SentinelAddrs    []string `toml:"sentinel_addrs"`
	MasterName       string   `toml:"master_name"`
	SentinelPassword string   `toml:"sentinel_password"`
	// ClusterAddrs are nodes of a Redis Cluster, "host:port" (key
	// cluster_addrs; with store = "redis", instead of redis_url).
	ClusterAddrs []string `toml:"cluster_addrs"`
	// RedisUsername and RedisPassword authenticate to the servers found
	// through sentinel_addrs or cluster_addrs (keys redis_username and
	// redis_password: write "${REDIS_PASSWORD}"; with redis_url they go in
	// the URL).
	RedisUsername string `toml:"redis_username"`
	RedisPassword string `toml:"redis_password"`
	// DB is the Redis database with sentinel_addrs (key db, default 0).
	DB int `toml:"db"`
	// WaitReplicas makes each Redis save wait until that many replicas
	// hold it, else fail (key wait_replicas, default 0): with Sentinel,
	// 1 keeps a failover from losing the sessions saved just before it.
	WaitReplicas int `toml:"wait_replicas"`
	// KeyPrefix starts memcached and Redis keys (key key_prefix, default
	// "gowho:session:").
	KeyPrefix string `toml:"key_prefix"`
	// Timeout bounds each network step of the memcached and Redis stores
	// (key timeout, default "500ms"): connecting, and each request's
	// writes and reads (memcached: together). dial_timeout, read_timeout
	// and write_timeout override it for one step.
	Timeout who.Duration `toml:"timeout"`
	// DialTimeout bounds connecting (key dial_timeout, memcached and
	// Redis; default timeout; memcached: at most timeout).
	DialTimeout who.Duration `toml:"dial_timeout"`
	// ReadTimeout bounds waiting for each Redis reply (key read_timeout,
	// Redis only; default timeout).
	ReadTimeout who.Duration `toml:"read_timeout"`
	// WriteTimeout bounds sending each Redis command (key write_timeout,
	// Redis only; default timeout).
	WriteTimeout who.Duration `toml:"write_timeout"`
	// Backoff is how long the memcached and Redis stores fail fast after
	// 3 consecutive failures of a server (key backoff, default "1s";
	// negative: never), before one request probes it again.
	Backoff who.Duration `toml:"backoff"`
	// CookieName (key cookie_name, default "gowho_session").
	CookieName string `toml:"cookie_name"`
	// CookiePath (key cookie_path, default "/").
	CookiePath string `toml:"cookie_path"`
	// CookieDomain (key cookie_domain, default none: the host only).
	CookieDomain string `toml:"cookie_domain"`
	// Secure (key secure, default "auto": Secure whenever the request is
	// https as the client saw it, who.RequestOrigin, so behind a proxy
	// listed in [general] trusted_proxies too; true or false force it).
	Secure who.Secure `toml:"secure"`
	// HTTPOnly (key http_only, default true).
	HTTPOnly *bool `toml:"http_only"`
	// SameSite (key same_site, default "lax"): "lax", "strict" or "none".
	SameSite string `toml:"same_site"`
	// IdleTimeout (key idle_timeout, default "2h"; negative: never).
	IdleTimeout who.Duration `toml:"idle_timeout"`
	// AbsoluteTimeout (key absolute_timeout, default "24h"; negative:
	// never).
	AbsoluteTimeout who.Duration `toml:"absolute_timeout"`
	// Rolling saves on every request (key rolling, default false).
	Rolling bool `toml:"rolling"`
	// Persistent gives the cookie an expiry (key persistent, default
	// false: a browser-session cookie).
	Persistent bool `toml:"persistent"`
	// Autoload loads the session before the handler (key autoload, default
	// false: on first use).
	Autoload bool `toml:"autoload"`
	// MaxCookieSize (key max_cookie_size, default 4096).
	MaxCookieSize int `toml:"max_cookie_size"`
	// MaxEntries bounds the memory store (key max_entries, default
	// 100000).
	MaxEntries int `toml:"max_entries"`
	// Logger receives store failures; nil: slog.Default().
	Logger *slog.Logger `toml:"-"`
}

// Plugin is a session manager with the store it owns. It implements
// who.OuterMiddleware, session.Provider and io.Closer.
type Plugin struct {
	*session.Manager
	closer io.Closer // the store, when it holds resources
}

var (
	_ who.OuterMiddleware = (*Plugin)(nil)
	_ session.Provider    = (*Plugin)(nil)
	_ io.Closer           = (*Plugin)(nil)
)

// Close releases the store (connections, the file sweeper).
func (p *Plugin) Close() error {
	if p.closer != nil {
		return p.closer.Close()
	}
	return nil
}

// Wrap returns next behind the manager.
func (p *Plugin) Wrap(next http.Handler) http.Handler { return p.Manager.Wrap(next) }

// New builds the store o names and a manager on it.
func New(o Options) (*Plugin, error) {
	so, err := managerOptions(o)
	if err != nil {
		return nil, err
	}
	so.Logger = o.Logger
	p := &Plugin{}
	kind := o.Store
	if kind == "" {
		kind = StoreCookie
	}
	wrongStore := func(key string, set bool) error {
		if set {
			return &who.OptionError{Key: key, Err: fmt.Errorf("is for another store (store = %q)", kind)}
		}
		return nil
	}
	if err := errors.Join(
		wrongStore("secret", kind != StoreCookie && o.Secret != ""),
		wrongStore("old_secrets", kind != StoreCookie && len(o.OldSecrets) > 0),
		wrongStore("data_dir", kind != StoreFile && o.DataDir != ""),
		wrongStore("memcached_urls", kind != StoreMemcached && len(o.MemcachedURLs) > 0),
		wrongStore("redis_url", kind != StoreRedis && o.RedisURL != ""),
		wrongStore("sentinel_addrs", kind != StoreRedis && len(o.SentinelAddrs) > 0),
		wrongStore("master_name", kind != StoreRedis && o.MasterName != ""),
		wrongStore("sentinel_password", kind != StoreRedis && o.SentinelPassword != ""),
		wrongStore("cluster_addrs", kind != StoreRedis && len(o.ClusterAddrs) > 0),
		wrongStore("redis_username", kind != StoreRedis && o.RedisUsername != ""),
		wrongStore("redis_password", kind != StoreRedis && o.RedisPassword != ""),
		wrongStore("db", kind != StoreRedis && o.DB != 0),
		wrongStore("wait_replicas", kind != StoreRedis && o.WaitReplicas != 0),
		wrongStore("max_entries", kind != StoreMemory && o.MaxEntries != 0),
		wrongStore("key_prefix", kind != StoreMemcached && kind != StoreRedis && o.KeyPrefix != ""),
		wrongStore("timeout", kind != StoreMemcached && kind != StoreRedis && o.Timeout != 0),
		wrongStore("dial_timeout", kind != StoreMemcached && kind != StoreRedis && o.DialTimeout != 0),
		wrongStore("read_timeout", kind != StoreRedis && o.ReadTimeout != 0),
		wrongStore("write_timeout", kind != StoreRedis && o.WriteTimeout != 0),
		wrongStore("backoff", kind != StoreMemcached && kind != StoreRedis && o.Backoff != 0),
		notNegative("timeout", o.Timeout),
		notNegative("dial_timeout", o.DialTimeout),
		notNegative("read_timeout", o.ReadTimeout),
		notNegative("write_timeout", o.WriteTimeout),
	); err != nil {
		return nil, err
	}
	timeout := func(d who.Duration) time.Duration {
		if d != 0 {
			return d.D()
		}
		return o.Timeout.D() // zero: the store's default
	}
	switch kind {
	case StoreCookie:
		if o.Secret == "" {
			return nil, &who.OptionError{Key: "secret", Err: errors.New(`is required with store = "cookie" (write secret = "${WHO_SESSION_SECRET}")`)}
		}
		revoke := revokeFor(so.IdleTimeout, so.AbsoluteTimeout)
		st, err := cookiestore.New(cookiestore.Options{Secret: o.Secret, OldSecrets: o.OldSecrets, RevokeFor: revoke})
		if err != nil {
			return nil, &who.OptionError{Key: "secret", Err: err}
		}
		so.Store = st
	case StoreMemory:
		so.Store = memstore.New(memstore.Options{MaxEntries: o.MaxEntries})
	case StoreFile:
		if o.DataDir == "" {
			return nil, &who.OptionError{Key: "data_dir", Err: errors.New(`is required with store = "file"`)}
		}
		st, err := filestore.New(filestore.Options{Dir: o.DataDir})
		if err != nil {
			return nil, &who.OptionError{Key: "data_dir", Err: err}
		}
		so.Store, p.closer = st, st
	case StoreMemcached:
		st, err := memcachestore.New(memcachestore.Options{Servers: o.MemcachedURLs, Prefix: o.KeyPrefix,
			Timeout: o.Timeout.D(), DialTimeout: o.DialTimeout.D(), Backoff: o.Backoff.D()})
		if err != nil {
			return nil, &who.OptionError{Key: "memcached_urls", Err: err}
		}
		so.Store, p.closer = st, st
	case StoreRedis:
		st, err := redisstore.New(redisstore.Options{URL: o.RedisURL, Prefix: o.KeyPrefix,
			SentinelAddrs: o.SentinelAddrs, MasterName: o.MasterName, SentinelPassword: o.SentinelPassword,
			ClusterAddrs: o.ClusterAddrs, Username: o.RedisUsername, Password: o.RedisPassword, DB: o.DB,
			WaitReplicas: o.WaitReplicas,
			DialTimeout:  timeout(o.DialTimeout), ReadTimeout: timeout(o.ReadTimeout), WriteTimeout: timeout(o.WriteTimeout),
			Backoff: o.Backoff.D()})
		if err != nil {
			if _, named := errors.AsType[*who.OptionError](err); named {
				return nil, err
			}
			return nil, &who.OptionError{Key: "redis_url", Err: err}
		}
		so.Store, p.closer = st, st
	default:
		hint := ""
		if s := suggest.Closest(kind, storeKinds); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, &who.OptionError{Key: "store", Err: fmt.Errorf("unknown store %q%s: use one of %s", kind, hint, strings.Join(storeKinds, ", "))}
	}
	m, err := session.New(so)
	if err != nil {
		_ = p.Close()
		return nil, err
	}
	p.Manager = m
	return p, nil
}

// revokeFor is how long a cookie lives at most after it is sealed: the
// shorter of the idle and absolute timeouts (zero: the manager's default),
// or for ever (-1) when neither applies.
func revokeFor(idle, abs time.Duration) time.Duration {
	if idle == 0 {
		idle = session.DefaultIdleTimeout
	}
	if abs == 0 {
		abs = session.DefaultAbsoluteTimeout
	}
	switch {
	case idle > 0 && abs > 0:
		return min(idle, abs)
	case idle > 0:
		return idle
	case abs > 0:
		return abs
	}
	return -1
}

func notNegative(key string, d who.Duration) error {
	if d < 0 {
		return &who.OptionError{Key: key, Err: fmt.Errorf("%v is negative: give a positive duration such as \"500ms\", or leave it out for the default", d)}
	}
	return nil
}

// secureFlag is session.Options.Secure for s: nil for "auto".
func secureFlag(s who.Secure) *bool {
	if s == who.SecureAuto {
		return nil
	}
	b := s == who.SecureAlways
	return &b
}

func managerOptions(o Options) (session.Options, error) {
	so := session.Options{
		CookieName:      o.CookieName,
		CookiePath:      o.CookiePath,
		CookieDomain:    o.CookieDomain,
		Secure:          secureFlag(o.Secure),
		HTTPOnly:        o.HTTPOnly,
		IdleTimeout:     o.IdleTimeout.D(),
		AbsoluteTimeout: o.AbsoluteTimeout.D(),
		Rolling:         o.Rolling,
		Persistent:      o.Persistent,
		Autoload:        o.Autoload,
		MaxCookieSize:   o.MaxCookieSize,
	}
	switch strings.ToLower(o.SameSite) {
	case "", "lax":
		so.SameSite = http.SameSiteLaxMode
	case "strict":
		so.SameSite = http.SameSiteStrictMode
	case "none":
		so.SameSite = http.SameSiteNoneMode
	default:
		return so, &who.OptionError{Key: "same_site", Err: fmt.Errorf("bad value %q: use \"lax\", \"strict\" or \"none\"", o.SameSite)}
	}
	if o.MaxCookieSize < 0 {
		return so, &who.OptionError{Key: "max_cookie_size", Err: errors.New("must not be negative")}
	}
	if o.IdleTimeout.D() > 0 && o.AbsoluteTimeout.D() > 0 && o.IdleTimeout.D() > o.AbsoluteTimeout.D() {
		return so, &who.OptionError{Key: "idle_timeout", Err: fmt.Errorf("%v is longer than absolute_timeout %v", o.IdleTimeout, o.AbsoluteTimeout)}
	}
	return so, nil
}
