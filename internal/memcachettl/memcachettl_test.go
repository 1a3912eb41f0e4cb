package memcachettl

import (
	"testing"
	"time"
)

func TestExpiration(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		ttl  time.Duration
		want int32
	}{
		{0, 1},
		{-time.Hour, 1},
		{time.Millisecond, 1},
		{time.Second, 1},
		{1500 * time.Millisecond, 2},
		{time.Hour, 3600},
		{MaxRelative * time.Second, MaxRelative},
		{(MaxRelative + 1) * time.Second, 1_700_000_000 + MaxRelative + 1},
		{365 * 24 * time.Hour, 1_700_000_000 + 365*24*3600},
	} {
		if got := Expiration(tc.ttl, now); got != tc.want {
			t.Errorf("Expiration(%v) = %d, want %d", tc.ttl, got, tc.want)
		}
	}
}
