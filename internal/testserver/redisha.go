package testserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// HATimeout bounds each wait of RedisSentinel, RedisCluster and
// Sentinel.Failover: replication up, Sentinels agreeing, cluster state ok.
const HATimeout = 30 * time.Second

// RedisWith starts redis-server as Redis does, with extra arguments after
// Redis's own (a later argument wins in redis-server).
func RedisWith(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := find(t, "redis-server", "redis-server")
	dir := t.TempDir()
	return start(t, "redis-server", bin, dir, func(port int) []string {
		return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--loglevel", "warning"}, extra...)
	}, nil)
}

// Sentinel is a Redis master, its replica and three Sentinels watching
// them under MasterName, started by RedisSentinel.
type Sentinel struct {
	MasterName      string
	Master, Replica *Server   // as started: after Failover, Replica is the master
	Sentinels       []*Server // three, quorum 2
}

// Addrs returns the Sentinels' addresses.
func (s *Sentinel) Addrs() []string {
	var a []string
	for _, x := range s.Sentinels {
		a = append(a, x.Addr)
	}
	return a
}

// RedisSentinel starts a master, a replica of it and three redis-sentinel
// processes (quorum 2, down-after 1s) and waits until the replica is in
// sync and every Sentinel knows the replica and the two other Sentinels.
func RedisSentinel(t testing.TB) *Sentinel {
	t.Helper()
	sbin := find(t, "redis-sentinel", "redis-sentinel")
	s := &Sentinel{MasterName: "gowho"}
	s.Master = RedisWith(t)
	s.Replica = RedisWith(t, "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port))
	waitFor(t, "the replica to sync", func(ctx context.Context) (bool, error) {
		info, err := cmd(ctx, s.Replica.Addr, "info", "replication")
		return strings.Contains(info, "master_link_status:up"), err
	})
	for range 3 {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		srv := start(t, "redis-sentinel", sbin, dir, func(port int) []string {
			c := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nloglevel warning\n"+
				"sentinel monitor %s 127.0.0.1 %d 2\n"+
				"sentinel down-after-milliseconds %[3]s 1000\nsentinel failover-timeout %[3]s 10000\nsentinel parallel-syncs %[3]s 1\n",
				port, dir, s.MasterName, s.Master.Port)
			if err := os.WriteFile(conf, []byte(c), 0o600); err != nil {
				t.Errorf("testserver: sentinel.conf: %v", err)
			}
			return []string{conf}
		}, nil)
		s.Sentinels = append(s.Sentinels, srv)
	}
	for _, x := range s.Sentinels {
		waitFor(t, "Sentinel "+x.Addr+" to know the replica and the other Sentinels", func(ctx context.Context) (bool, error) {
			c := redis.NewSentinelClient(&redis.Options{Addr: x.Addr, DialTimeout: time.Second, ReadTimeout: time.Second})
			defer c.Close()
			reps, err := c.Replicas(ctx, s.MasterName).Result()
			if err != nil {
				return false, err
			}
			sens, err := c.Sentinels(ctx, s.MasterName).Result()
			if err != nil {
				return false, err
			}
			return len(reps) == 1 && len(sens) == 2, nil
		})
	}
	return s
}

// MasterAddr returns the master's address as Sentinel number i (0-2)
// names it.
func (s *Sentinel) MasterAddr(t testing.TB, i int) string {
	t.Helper()
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[i].Addr, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	a, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil || len(a) != 2 {
		t.Fatalf("testserver: SENTINEL GET-MASTER-ADDR-BY-NAME: %v, %v", a, err)
	}
	return a[0] + ":" + a[1]
}

// Failover runs SENTINEL FAILOVER and waits until every Sentinel names
// the replica as the master and the replica answers as one.
func (s *Sentinel) Failover(t testing.TB) {
	t.Helper()
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0].Addr, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Failover(ctx, s.MasterName).Err(); err != nil {
		t.Fatalf("testserver: SENTINEL FAILOVER: %v", err)
	}
	s.WaitMaster(t, s.Replica)
}

// WaitMaster waits until every Sentinel names m as the master and m
// answers as one.
func (s *Sentinel) WaitMaster(t testing.TB, m *Server) {
	t.Helper()
	for i := range s.Sentinels {
		waitFor(t, "Sentinel "+s.Sentinels[i].Addr+" to name "+m.Addr, func(ctx context.Context) (bool, error) {
			c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[i].Addr, DialTimeout: time.Second, ReadTimeout: time.Second})
			defer c.Close()
			a, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
			return err == nil && len(a) == 2 && a[0]+":"+a[1] == m.Addr, err
		})
	}
	waitFor(t, m.Addr+" to be master", func(ctx context.Context) (bool, error) {
		info, err := cmd(ctx, m.Addr, "info", "replication")
		return strings.Contains(info, "role:master"), err
	})
}

// Cluster is a Redis Cluster of three masters, started by RedisCluster
// (no replicas) or RedisClusterReplicated (one replica each).
type Cluster struct {
	Nodes []*Server // every node, masters and replicas
}

// Addrs returns the nodes' addresses.
func (c *Cluster) Addrs() []string {
	var a []string
	for _, n := range c.Nodes {
		a = append(a, n.Addr)
	}
	return a
}

// RedisCluster starts three redis-server processes with cluster mode on,
// joins them with redis-cli --cluster create (the 16384 slots split
// among them) and waits until every node reports cluster_state:ok and
// knows the three.
func RedisCluster(t testing.TB) *Cluster {
	t.Helper()
	return redisCluster(t, 0)
}

// RedisClusterReplicated is RedisCluster with one replica per master (six
// nodes, redis-cli --cluster-replicas 1); it also waits until every
// replica is in sync.
func RedisClusterReplicated(t testing.TB) *Cluster {
	t.Helper()
	return redisCluster(t, 1)
}

func redisCluster(t testing.TB, replicas int) *Cluster {
	t.Helper()
	cli := find(t, "redis-cli", "redis-tools")
	c := &Cluster{}
	n := 3 * (1 + replicas)
	for range n {
		c.Nodes = append(c.Nodes, RedisWith(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), HATimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("testserver: redis-cli --cluster create: %v\n%s", err, out)
	}
	known := "cluster_known_nodes:" + strconv.Itoa(n)
	for _, x := range c.Nodes {
		waitFor(t, "cluster node "+x.Addr+" to be ok", func(ctx context.Context) (bool, error) {
			info, err := cmd(ctx, x.Addr, "cluster", "info")
			return strings.Contains(info, "cluster_state:ok") && strings.Contains(info, known), err
		})
		waitFor(t, "cluster node "+x.Addr+" to be a master or a replica in sync", func(ctx context.Context) (bool, error) {
			info, err := cmd(ctx, x.Addr, "info", "replication")
			return strings.Contains(info, "role:master") || strings.Contains(info, "master_link_status:up"), err
		})
	}
	return c
}

// ReplicaOf returns the node that replicates the master at addr, or
// fails the test.
func (c *Cluster) ReplicaOf(t testing.TB, addr string) *Server {
	t.Helper()
	for _, x := range c.Nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		info, err := cmd(ctx, x.Addr, "info", "replication")
		cancel()
		if err != nil {
			t.Fatalf("testserver: INFO replication on %s: %v", x.Addr, err)
		}
		host, port, _ := strings.Cut(addr, ":")
		if strings.Contains(info, "role:slave") && strings.Contains(info, "master_host:"+host+"\r\n") &&
			strings.Contains(info, "master_port:"+port+"\r\n") {
			return x
		}
	}
	t.Fatalf("testserver: no replica of %s in the cluster", addr)
	return nil
}

// cmd runs one command on addr and returns its reply as text.
func cmd(ctx context.Context, addr string, args ...any) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	return c.Do(ctx, args...).Text()
}

// waitFor polls cond every 50ms until it reports true, failing the test
// after HATimeout with what was waited for and the last error.
func waitFor(t testing.TB, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(HATimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ok, err := cond(ctx)
		cancel()
		if ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("testserver: waited %v for %s (last error: %v)", HATimeout, what, last)
}
