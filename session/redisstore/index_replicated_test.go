//go:build unix

package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/redisstore"
)

// TestClusterWaitReplicasIndex: in a cluster, a user's index and a
// session's record are keys on different masters, and wait_replicas must
// hold for both: a save whose index entry no replica has is not
// acknowledged, or a failover of the index's master loses the entry and
// DestroyUser leaves that session alive. The index's replica is stopped
// (SIGSTOP), the record's runs: the save must fail with ErrNotReplicated.
func TestClusterWaitReplicasIndex(t *testing.T) {
	cl := testserver.RedisClusterReplicated(t)
	// WAIT gets 1s of the 2s: a loaded host's replica acknowledges in
	// time (a 200ms WAIT missed it under -race -count=3).
	st, err := redisstore.New(redisstore.Options{ClusterAddrs: cl.Addrs(), WaitReplicas: 1, ReadTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cc := st.Client().(*redis.ClusterClient)
	ctx := context.Background()
	master := func(key string) string {
		t.Helper()
		n, err := cc.MasterForKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return n.Options().Addr
	}
	// A userid and a session id whose keys are on different masters.
	id := session.NewID()
	var user, indexMaster string
	for i := 0; i < 100 && user == ""; i++ {
		u := fmt.Sprintf("user %d {tag}:x", i)
		if m := master(st.UserKey(u)); m != master("gowho:session:"+id) {
			user, indexMaster = u, m
		}
	}
	if user == "" {
		t.Fatal("no userid whose index is on another master than the record")
	}
	save := func(id string) error {
		_, err := st.SaveInfo(ctx, id, []byte("r"), time.Now().Add(time.Hour), session.SaveInfo{Authenticated: true, UserID: user})
		return err
	}
	if err := save(session.NewID()); err != nil {
		t.Fatalf("save with every replica up: %v", err)
	}
	rep := cl.ReplicaOf(t, indexMaster)
	pid := rep.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGCONT) }()
	if err := save(id); !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("save while the index's replica is stopped = %v; want ErrNotReplicated", err)
	}
}
