package sessionplugin_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memcachestore"
	"github.com/gowho/gowho/session/redisstore"
	"github.com/gowho/gowho/session/sessionplugin"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

func load(t *testing.T, src string) (*sessionplugin.Plugin, error) {
	t.Helper()
	f, _, err := who.DefaultRegistry.Factory("session")
	if err != nil {
		t.Fatal(err)
	}
	spec := whotest.Spec(t, src)
	spec.Name, spec.Use = "sessions", "session"
	v, err := f(spec)
	if err != nil {
		return nil, err
	}
	p := v.(*sessionplugin.Plugin)
	t.Cleanup(func() { _ = p.Close() })
	return p, nil
}

// TestStoreTimeouts: the memcached and Redis stores' timeouts and back-off
// are set from who.toml, with defaults of at most 1s (reliability item 6).
func TestStoreTimeouts(t *testing.T) {
	t.Parallel()
	type want struct{ dial, read, write time.Duration }
	tests := []struct {
		name string
		src  string
		want want
	}{
		{"memcached default", `store = "memcached"
memcached_urls = ["127.0.0.1:1"]`, want{read: 500 * time.Millisecond}},
		{"memcached timeout", `store = "memcached"
memcached_urls = ["127.0.0.1:1"]
timeout = "150ms"
dial_timeout = "50ms"
backoff = "10s"`, want{read: 150 * time.Millisecond}},
		{"redis default", `store = "redis"
redis_url = "redis://127.0.0.1:1/0"`, want{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}},
		{"redis timeout", `store = "redis"
redis_url = "redis://127.0.0.1:1/0"
timeout = "200ms"`, want{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}},
		{"redis each", `store = "redis"
redis_url = "redis://127.0.0.1:1/0"
timeout = "200ms"
dial_timeout = "100ms"
read_timeout = "300ms"
write_timeout = "400ms"
backoff = "-1s"`, want{100 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}},
		{"redis url keeps its own", `store = "redis"
redis_url = "redis://127.0.0.1:1/0?read_timeout=250ms"`, want{500 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := load(t, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			switch st := p.Store().(type) {
			case *memcachestore.Store:
				if got := st.Client().Timeout; got != tc.want.read {
					t.Errorf("memcached timeout %v; want %v", got, tc.want.read)
				}
			case *redisstore.Store:
				o := st.Client().(*redis.Client).Options()
				if got := (want{o.DialTimeout, o.ReadTimeout, o.WriteTimeout}); got != tc.want {
					t.Errorf("redis timeouts %+v; want %+v", got, tc.want)
				}
				if o.DialerRetries != 1 || o.PoolTimeout > time.Second {
					t.Errorf("redis dial attempts %d, pool timeout %v; want 1 and at most 1s", o.DialerRetries, o.PoolTimeout)
				}
			default:
				t.Fatalf("store %T", st)
			}
		})
	}
}

func TestStoreTimeoutErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, key string }{
		{"timeout on cookie", "secret = \"0123456789abcdef0123456789abcdef\"\ntimeout = \"1s\"", "timeout"},
		{"backoff on file", "store = \"file\"\ndata_dir = \"d\"\nbackoff = \"1s\"", "backoff"},
		{"read_timeout on memcached", "store = \"memcached\"\nmemcached_urls = [\"127.0.0.1:1\"]\nread_timeout = \"1s\"", "read_timeout"},
		{"negative", "store = \"redis\"\nredis_url = \"redis://127.0.0.1:1/0\"\ntimeout = \"-1s\"", "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.src)
			var oe *who.OptionError
			if !errors.As(err, &oe) || oe.Key != tc.key {
				t.Fatalf("error %v; want an OptionError for %q", err, tc.key)
			}
		})
	}
}

// TestHungStoreAnswers: a who.toml store on a hung server (a black hole)
// answers a request that needs the session with a 503 within the
// configured timeout, not go-redis's 5-17 s.
func TestHungStoreAnswers(t *testing.T) {
	for _, kind := range []string{"memcached", "redis"} {
		t.Run(kind, func(t *testing.T) {
			bh := testserver.StartBlackHole(t)
			src := "store = \"memcached\"\nmemcached_urls = [\"" + bh.Addr + "\"]\ntimeout = \"200ms\""
			if kind == "redis" {
				src = "store = \"redis\"\nredis_url = \"redis://" + bh.Addr + "/0\"\ntimeout = \"200ms\""
			}
			p, err := load(t, src)
			if err != nil {
				t.Fatal(err)
			}
			h := p.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Set("k", "v") }))
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			took := time.Since(start)
			t.Logf("%s on a black hole, timeout 200ms: %d in %v", kind, rec.Code, took)
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d; want 503", rec.Code)
			}
			if took > 3*time.Second {
				t.Fatalf("the request took %v", took)
			}
		})
	}
}
