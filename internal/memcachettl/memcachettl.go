// Package memcachettl converts a lifetime into memcached's expiration
// field, the one rule the memcached plugin and the session store share.
package memcachettl

import "time"

// MaxRelative is the longest expiration memcached reads as seconds from
// now; a larger value is a unix time.
const MaxRelative = 30 * 24 * 3600

// Expiration returns memcached's expiration for an item that lives ttl
// from now: whole seconds rounded up (at least 1) up to MaxRelative, the
// unix time of its end beyond.
func Expiration(ttl time.Duration, now time.Time) int32 {
	secs := max(int64((ttl+time.Second-1)/time.Second), 1)
	if secs > MaxRelative {
		return int32(now.Unix() + secs)
	}
	return int32(secs)
}
