package sqlauth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// endless is a SQLite condition that never finishes: it counts an endless
// recursive sequence. SQLite stops it when the query's context ends.
const endless = "(SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c)) > 0"

// TestTimeoutEndsAHungQuery: a query that never answers ends at the
// plugin's timeout with an error wrapping ErrDatabase and
// context.DeadlineExceeded, for Authenticate and AddMetadata, even when
// the caller's context never ends (the memcached wrapper runs the
// plugin detached from the HTTP request).
func TestTimeoutEndsAHungQuery(t *testing.T) {
	t.Parallel()
	path, _ := openDB(t)
	const timeout = 200 * time.Millisecond
	p, err := New(Options{Driver: "sqlite", DSN: path, Timeout: who.Duration(timeout),
		Query:         "SELECT id, password FROM users WHERE login = :login AND " + endless,
		MetadataQuery: "SELECT name FROM groups WHERE uid = :userid AND " + endless, Name: "groups"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r := req().WithContext(context.WithoutCancel(t.Context()))
	calls := []struct {
		name string
		call func() error
	}{
		{"authenticate", func() error {
			uid, err := p.Authenticate(r, who.Identity{who.KeyLogin: "alice", who.KeyPassword: "alice-pass"})
			if uid != "" {
				t.Errorf("authenticated as %q", uid)
			}
			return err
		}},
		{"metadata", func() error { return p.AddMetadata(r, who.Identity{who.KeyUserID: "1"}) }},
	}
	for _, c := range calls {
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- c.call() }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrDatabase) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %v; want ErrDatabase and context.DeadlineExceeded", c.name, err)
			}
			if d := time.Since(start); d > timeout+2*time.Second {
				t.Errorf("%s took %v with timeout %v", c.name, d, timeout)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still running after 10s with timeout %v", c.name, timeout)
		}
	}
}
