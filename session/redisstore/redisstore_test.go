package redisstore_test

import (
	"testing"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/redisstore"
	"github.com/gowho/gowho/session/sessiontest"
)

func TestConformance(t *testing.T) {
	srv := testserver.Redis(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		st, err := redisstore.New(redisstore.Options{URL: "redis://" + srv.Addr + "/0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "http://nope", "redis://host:notaport"} {
		if _, err := redisstore.New(redisstore.Options{URL: u}); err == nil {
			t.Errorf("New(%q) = nil error", u)
		}
	}
}
