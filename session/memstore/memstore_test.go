package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/session/sessiontest"
)

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return memstore.New(memstore.Options{}) })
}

func TestBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		o    memstore.Options
		size int
		max  int
	}{
		{"entries", memstore.Options{MaxEntries: 10}, 10, 10},
		{"bytes", memstore.Options{MaxBytes: 1000}, 100, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New(tc.o)
			for range 100 {
				if _, err := st.Save(ctx, session.NewID(), make([]byte, tc.size), time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			if n := st.Len(); n > tc.max {
				t.Fatalf("Len = %d; want <= %d", n, tc.max)
			}
		})
	}
}
