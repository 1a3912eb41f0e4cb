package redisclient_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/redisclient"
	"github.com/redis/go-redis/v9"
)

// unused is a client of nothing: Ping fails to dial until it is closed.
func unused() redis.UniversalClient {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, DialerRetries: 1, MaxRetries: -1})
}

func closed(c redis.UniversalClient) bool {
	return errors.Is(c.Ping(context.Background()).Err(), redis.ErrClosed)
}

func TestRenew(t *testing.T) {
	tests := []struct {
		name  string
		grace time.Duration
		close bool // Close before the grace is over
	}{
		{"closed after the grace", time.Millisecond, false},
		{"closed by Close", time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := redisclient.New(unused, tc.grace)
			old := c.Get()
			c.Renew()
			cur := c.Get()
			if cur == old {
				t.Fatal("Renew kept the client")
			}
			if tc.close {
				if closed(old) {
					t.Fatal("the renewed client was closed before its grace period")
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				if !closed(old) || !closed(cur) {
					t.Fatalf("after Close: renewed client closed %v, current closed %v", closed(old), closed(cur))
				}
				c.Renew() // after Close: nothing
				if c.Get() != cur {
					t.Error("Renew after Close made a client")
				}
				return
			}
			deadline := time.Now().Add(5 * time.Second)
			for !closed(old) {
				if time.Now().After(deadline) {
					t.Fatal("the renewed client was not closed 5 s after a 1 ms grace")
				}
				time.Sleep(time.Millisecond)
			}
			if closed(cur) {
				t.Error("the current client was closed")
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFixed(t *testing.T) {
	rc := unused()
	defer rc.Close()
	c := redisclient.Fixed(rc)
	c.Renew()
	if c.Get() != rc {
		t.Fatal("Renew replaced the caller's client")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if closed(rc) {
		t.Fatal("Close closed the caller's client")
	}
}

// TestConcurrent: Get, Renew and Close from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	c := redisclient.New(unused, time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				_ = c.Get()
				c.Renew()
			}
		})
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
