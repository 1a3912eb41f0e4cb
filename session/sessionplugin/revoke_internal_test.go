package sessionplugin

import (
	"testing"
	"time"
)

// TestRevokeFor: the cookie store remembers a logout as long as any cookie
// of the session can live: the shorter timeout, or for ever without one.
func TestRevokeFor(t *testing.T) {
	t.Parallel()
	tests := []struct{ idle, abs, want time.Duration }{
		{0, 0, 2 * time.Hour}, // the defaults: 2h idle, 24h absolute
		{30 * time.Minute, 12 * time.Hour, 30 * time.Minute},
		{-1, 12 * time.Hour, 12 * time.Hour},
		{time.Hour, -1, time.Hour},
		{-1, -1, -1},
	}
	for _, tc := range tests {
		if got := revokeFor(tc.idle, tc.abs); got != tc.want {
			t.Errorf("revokeFor(%v, %v) = %v; want %v", tc.idle, tc.abs, got, tc.want)
		}
	}
}
