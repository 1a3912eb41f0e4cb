package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/redisstore"
	"github.com/gowho/gowho/session/sessiontest"
	"github.com/gowho/gowho/who"
)

// TestNewOptionErrors: each mistake names its who.toml key.
func TestNewOptionErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		o    redisstore.Options
		key  string
	}{
		{"none", redisstore.Options{}, "redis_url"},
		{"url and sentinel", redisstore.Options{URL: "redis://h:1/0", SentinelAddrs: []string{"h:2"}, MasterName: "m"}, "sentinel_addrs"},
		{"sentinel and cluster", redisstore.Options{SentinelAddrs: []string{"h:2"}, MasterName: "m", ClusterAddrs: []string{"h:3"}}, "cluster_addrs"},
		{"no master name", redisstore.Options{SentinelAddrs: []string{"h:2"}}, "master_name"},
		{"master name alone", redisstore.Options{URL: "redis://h:1/0", MasterName: "m"}, "master_name"},
		{"sentinel password with cluster", redisstore.Options{ClusterAddrs: []string{"h:3"}, SentinelPassword: "x"}, "sentinel_password"},
		{"db with cluster", redisstore.Options{ClusterAddrs: []string{"h:3"}, DB: 2}, "db"},
		{"password with url", redisstore.Options{URL: "redis://h:1/0", Password: "x"}, "redis_password"},
		{"bad cluster addr", redisstore.Options{ClusterAddrs: []string{"h:3", "nocolon"}}, "cluster_addrs"},
		{"bad sentinel addr", redisstore.Options{SentinelAddrs: []string{"nocolon"}, MasterName: "m"}, "sentinel_addrs"},
		{"negative wait", redisstore.Options{URL: "redis://h:1/0", WaitReplicas: -1}, "wait_replicas"},
		{"bad url", redisstore.Options{URL: "http://nope"}, "redis_url"},
	} {
		_, err := redisstore.New(c.o)
		oe, ok := errors.AsType[*who.OptionError](err)
		if !ok || oe.Key != c.key {
			t.Errorf("%s: New = %v; want an OptionError for key %s", c.name, err, c.key)
		}
		if err != nil && c.o.Password != "" && strings.Contains(err.Error(), c.o.Password) {
			t.Errorf("%s: the password is in the message: %v", c.name, err)
		}
	}
}

// TestCluster runs the conformance and log-out-everywhere suites on a
// three-master Redis Cluster, and checks that the sessions were spread
// over the masters (each key on its own slot: no command of the store
// spans two keys).
func TestCluster(t *testing.T) {
	cl := testserver.RedisCluster(t)
	newStore := func(t *testing.T) session.Store {
		st, err := redisstore.New(redisstore.Options{ClusterAddrs: cl.Addrs()[:1]}) // it learns the other nodes
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	t.Run("Conformance", func(t *testing.T) { sessiontest.Run(t, newStore) })
	t.Run("UserIndex", func(t *testing.T) { sessiontest.RunUserIndex(t, newStore) })
	t.Run("WaitReplicas", func(t *testing.T) {
		// The cluster has no replicas: WAIT, sent to the key's master,
		// answers 0 and the save fails. WAIT gets half the read timeout;
		// the other half is slack a loaded host needs (200ms made the
		// pipeline's read time out first under -race -count=3).
		st, err := redisstore.New(redisstore.Options{ClusterAddrs: cl.Addrs(), WaitReplicas: 1, ReadTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for range 3 { // keys on different masters
			if _, err := st.Save(context.Background(), session.NewID(), []byte("r"), time.Now().Add(time.Hour)); !errors.Is(err, redisstore.ErrNotReplicated) {
				t.Fatalf("Save = %v; want ErrNotReplicated", err)
			}
		}
	})
	t.Run("Spread", func(t *testing.T) {
		st := newStore(t).(*redisstore.Store)
		ctx := context.Background()
		for i := range 30 {
			if _, err := st.SaveInfo(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour),
				session.SaveInfo{Authenticated: true, UserID: fmt.Sprintf("user%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		used := 0
		for _, a := range cl.Addrs() {
			c := redis.NewClient(&redis.Options{Addr: a})
			n, err := c.DBSize(ctx).Result()
			_ = c.Close()
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				used++
			}
		}
		if used != 3 {
			t.Fatalf("keys on %d of 3 masters; want all three", used)
		}
	})
}

// TestSentinelFailover: a master, a replica and three Sentinels; sessions
// are written before and during a SENTINEL FAILOVER. Every save that
// returned nil is read back after the failover (none silently lost: with
// wait_replicas = 1 a save the replica did not get fails instead), the
// store follows the new master, and the user's index still lists every
// session (what DestroyUser reads). Twice: a SENTINEL FAILOVER, and the
// master killed (the Sentinels promote the replica after down-after).
func TestSentinelFailover(t *testing.T) {
	t.Run("SentinelFailover", func(t *testing.T) {
		t.Parallel()
		failover(t, func(s *testserver.Sentinel) { s.Failover(t) })
	})
	t.Run("MasterKilled", func(t *testing.T) {
		t.Parallel()
		// Until the old master comes back, as a replica of the new one,
		// no replica can acknowledge: the saves fail (cleanly).
		failover(t, func(s *testserver.Sentinel) { s.Master.Stop(); s.WaitMaster(t, s.Replica); s.Master.Start() })
	})
}

func failover(t *testing.T, trigger func(s *testserver.Sentinel)) {
	t0 := time.Now()
	s := testserver.RedisSentinel(t)
	t.Logf("Sentinel set up in %v", time.Since(t0))
	st, err := redisstore.New(redisstore.Options{SentinelAddrs: s.Addrs(), MasterName: s.MasterName, WaitReplicas: 1,
		Backoff: -1, ReadTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	save := func(id string, i int) error {
		_, err := st.SaveInfo(ctx, id, fmt.Appendf(nil, "rec %d", i), time.Now().Add(time.Hour),
			session.SaveInfo{Authenticated: true, UserID: "alice"})
		return err
	}
	type saved struct {
		id string
		i  int
	}
	var acked []saved
	for i := range 50 {
		id := session.NewID()
		if err := save(id, i); err != nil {
			t.Fatalf("save %d before the failover: %v", i, err)
		}
		acked = append(acked, saved{id, i})
	}

	stop := make(chan struct{})
	var (
		mu      sync.Mutex
		failed  int
		during  []saved
		writers sync.WaitGroup
	)
	for w := range 4 {
		writers.Go(func() {
			for i := 1000 * (w + 1); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := session.NewID()
				err := save(id, i)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					during = append(during, saved{id, i})
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond) // a failing client retries a little later
				}
			}
		})
	}
	t0 = time.Now()
	trigger(s)
	t.Logf("failover done in %v", time.Since(t0))
	// Writes go on until the store has saved through the new master.
	deadline := time.Now().Add(20 * time.Second)
	for {
		id := session.NewID()
		err := save(id, -1)
		if err == nil {
			acked = append(acked, saved{id, -1})
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			writers.Wait()
			t.Fatalf("no save succeeded within 20s of the failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	writers.Wait()
	t.Logf("saving again %v after the failover", time.Since(t0))
	acked = append(acked, during...)
	t.Logf("saves during the failover: %d acknowledged, %d failed (the client sees those and retries)", len(during), failed)

	if got := s.MasterAddr(t, 1); got != s.Replica.Addr {
		t.Fatalf("master after failover %s; want the old replica %s", got, s.Replica.Addr)
	}
	for _, a := range acked {
		_, rec, found, err := st.Load(ctx, a.id)
		if err != nil || !found || string(rec) != fmt.Sprintf("rec %d", a.i) {
			t.Fatalf("session %d after the failover: %q, found %v, err %v: a saved session was lost", a.i, rec, found, err)
		}
	}
	t.Logf("all read back %v after the failover", time.Since(t0))
	ids, err := st.UserSessions(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	indexed := map[string]bool{}
	for _, id := range ids {
		indexed[id] = true
	}
	for _, a := range acked {
		if !indexed[a.id] {
			t.Fatalf("session %d missing from alice's index after the failover", a.i)
		}
	}
}

// TestWaitReplicasFails: with wait_replicas and no replica to
// acknowledge, a save fails with ErrNotReplicated instead of reporting a
// session saved that a failover would lose.
func TestWaitReplicasFails(t *testing.T) {
	srv := testserver.Redis(t)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0", WaitReplicas: 1, ReadTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	_, err = st.Save(context.Background(), session.NewID(), []byte("r"), time.Now().Add(time.Hour))
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Save with no replica = %v; want ErrNotReplicated", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Save took %v; want it bounded by the read timeout", d)
	}
}

// TestURLErrorsHidePassword: a redis_url that does not parse is named by
// its key, and its password is not in the message (url.Parse's error
// quotes the whole URL; the Go API's caller may log it as is, and the
// who.toml masking misses a password it cannot find in a broken URL).
func TestURLErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cretpw"
	for _, u := range []string{
		"redis://:" + secret + "@h:abc/0",                 // bad port
		"redis://u:" + secret + "@h:1/x",                  // bad database
		"redis://u:" + secret + "@h:1/0?bogus=1",          // unknown option
		"redis://u:" + secret + "%zz@h:1/0",               // bad escape
		"redis://u:" + secret + " x@h:1/0",                // space in the password
		"redis://u:" + secret + "@[::1/0",                 // bad host
		"rediss://u:" + secret + "@h:1/0?dial_timeout=zz", // bad duration
		"ftp://u:" + secret + "@h:1",                      // bad scheme
		// Unescaped '/', '?' or '#' in a generated password: url.Parse
		// ends the host there and quotes a piece of the password.
		"redis://u:s3cr/etpw@h:1/0",
		"redis://u:s3cr?etpw@h:1/0",
		"redis://u:s3cr#etpw@h:1/0",
	} {
		_, err := redisstore.New(redisstore.Options{URL: u})
		oe, ok := errors.AsType[*who.OptionError](err)
		if !ok || oe.Key != "redis_url" {
			t.Errorf("New(%q) = %v; want an OptionError for redis_url", u, err)
			continue
		}
		for _, piece := range []string{secret, "s3cr", "etpw"} {
			if strings.Contains(err.Error(), piece) {
				t.Errorf("New: the password (%q) is in the message: %v", piece, err)
			}
		}
	}
}
