package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/redisstore"
)

// BenchmarkSave: what the per-user index costs a logged-in session's
// save (the index script, then SET) against an anonymous one's (SET), on
// one local Redis.
func BenchmarkSave(b *testing.B) {
	srv := testserver.Redis(b)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	rec := make([]byte, 200)
	for _, c := range []struct {
		name string
		info session.SaveInfo
	}{
		{"anonymous", session.SaveInfo{}},
		{"user", session.SaveInfo{Authenticated: true, UserID: "alice"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			id := session.NewID()
			for b.Loop() {
				if _, err := st.SaveInfo(ctx, id, rec, time.Now().Add(time.Hour), c.info); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
