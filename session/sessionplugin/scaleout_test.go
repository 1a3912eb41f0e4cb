package sessionplugin_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/redisstore"
	"github.com/gowho/gowho/session/sessionplugin"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// TestRedisModes: store = "redis" builds on one server, on Sentinels or on
// a cluster, from who.toml keys (no connection is made).
func TestRedisModes(t *testing.T) {
	t.Parallel()
	f, _, err := who.DefaultRegistry.Factory("session")
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []string{
		`redis_url = "redis://127.0.0.1:1/0"`,
		`sentinel_addrs = ["127.0.0.1:1", "127.0.0.1:2"]
master_name = "gowho"
sentinel_password = "pw"
redis_password = "pw2"
db = 1
wait_replicas = 1`,
		`cluster_addrs = ["127.0.0.1:1"]
redis_username = "app"
redis_password = "pw"`,
	} {
		v, err := f(whotest.Spec(t, "store = \"redis\"\n"+opts))
		if err != nil {
			t.Fatalf("%s: %v", opts, err)
		}
		p := v.(*sessionplugin.Plugin)
		if _, ok := p.Store().(*redisstore.Store); !ok {
			t.Fatalf("%s: store %T", opts, p.Store())
		}
		_ = p.Close()
	}
}

// TestRedisModeErrors: each mistake names its key, and no message holds a
// password.
func TestRedisModeErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-value"
	for _, c := range []struct{ opts, key string }{
		{`store = "redis"`, "redis_url"},
		{"store = \"redis\"\nredis_url = \"redis://h:1/0\"\ncluster_addrs = [\"h:2\"]", "cluster_addrs"},
		{"store = \"redis\"\nsentinel_addrs = [\"h:2\"]", "master_name"},
		{"store = \"redis\"\ncluster_addrs = [\"h:2\"]\nsentinel_password = \"" + secret + "\"", "sentinel_password"},
		{"store = \"redis\"\nredis_url = \"redis://h:1/0\"\nredis_password = \"" + secret + "\"", "redis_password"},
		{"store = \"redis\"\ncluster_addrs = [\"nocolon\"]", "cluster_addrs"},
		{"store = \"memory\"\nsentinel_addrs = [\"h:2\"]", "sentinel_addrs"},
		{"store = \"memory\"\ncluster_addrs = [\"h:2\"]", "cluster_addrs"},
		{"store = \"memory\"\nwait_replicas = 1", "wait_replicas"},
		{"store = \"file\"\ndata_dir = \"x\"\nredis_password = \"" + secret + "\"", "redis_password"},
	} {
		o := sessionplugin.Options{}
		if err := whotest.Spec(t, c.opts).Decode(&o); err != nil {
			t.Fatalf("%s: decode: %v", c.opts, err)
		}
		if o.DataDir != "" {
			o.DataDir = t.TempDir()
		}
		p, err := sessionplugin.New(o)
		if err == nil {
			_ = p.Close()
			t.Errorf("%q: no error", c.opts)
			continue
		}
		var keys []string
		var oe *who.OptionError
		for _, e := range flatten(err) {
			if errors.As(e, &oe) {
				keys = append(keys, oe.Key)
			}
		}
		if !slices.Contains(keys, c.key) {
			t.Errorf("%q: error %v names %q; want %s", c.opts, err, keys, c.key)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q: the password is in the message: %v", c.opts, err)
		}
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// TestDestroyUserCookieStore: the cookie store keeps sessions in the
// browsers, so DestroyUser cannot reach them and says so.
func TestDestroyUserCookieStore(t *testing.T) {
	t.Parallel()
	p, err := sessionplugin.New(sessionplugin.Options{Secret: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.DestroyUser(context.Background(), "alice"); !errors.Is(err, session.ErrNotSupported) {
		t.Fatalf("DestroyUser on the cookie store = %v; want ErrNotSupported", err)
	}
}

// TestDocsSentinelClusterExamples: the Sentinel and Cluster examples of
// docs/sessions.md load as they are.
func TestDocsSentinelClusterExamples(t *testing.T) {
	t.Setenv("REDIS_PASSWORD", "pw")
	t.Setenv("REDIS_SENTINEL_PASSWORD", "spw")
	b, err := os.ReadFile("../../docs/sessions.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, block := range strings.Split(string(b), "```toml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if !strings.Contains(block, "sentinel_addrs") && !strings.Contains(block, "cluster_addrs") {
			continue
		}
		found++
		c, err := config.Parse("who.toml", []byte(block), config.Options{})
		if err != nil {
			t.Fatalf("docs/sessions.md example:\n%s\n%v", block, err)
		}
		_ = c.Close()
	}
	if found != 2 {
		t.Fatalf("found %d Sentinel/Cluster examples in docs/sessions.md; want 2", found)
	}
}
