package redisstore_test

import (
	"fmt"
	"os"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/redisstore"
)

// ExampleNew_sentinel keeps sessions on the master three Sentinels watch,
// following a failover; wait_replicas = 1 makes a save fail rather than
// report a session saved that the failover would lose.
func ExampleNew_sentinel() {
	st, err := redisstore.New(redisstore.Options{
		SentinelAddrs:    []string{"10.0.0.7:26379", "10.0.0.8:26379", "10.0.0.9:26379"},
		MasterName:       "gowho",
		SentinelPassword: os.Getenv("REDIS_SENTINEL_PASSWORD"),
		Password:         os.Getenv("REDIS_PASSWORD"),
		WaitReplicas:     1,
		ReadTimeout:      time.Second,
	})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	m, err := session.New(session.Options{Store: st})
	fmt.Println(m != nil, err)
	// Output: true <nil>
}

// ExampleNew_cluster keeps sessions in a Redis Cluster; the store learns
// the other nodes from the ones given.
func ExampleNew_cluster() {
	st, err := redisstore.New(redisstore.Options{ClusterAddrs: []string{"10.0.1.1:6379", "10.0.1.2:6379"}})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	fmt.Println(st.Client() != nil)
	// Output: true
}
