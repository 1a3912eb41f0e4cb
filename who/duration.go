package who

import (
	"fmt"
	"strconv"
	"time"
)

// Duration is a time.Duration in plugin options that reads "5m" or "90s"
// from a string, or a whole number of seconds (as repoze.who's options
// were), so both `ttl = "5m"` and `ttl = 300` mean what they say.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalText reads "5m", "1h30m" or a number of seconds ("300").
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q: write it like \"90s\", \"5m\" or \"1h\", or as a number of seconds", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as "5m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalTOML reads a TOML string ("5m") or integer (seconds).
func (d *Duration) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		return d.UnmarshalText([]byte(x))
	case int64:
		*d = Duration(time.Duration(x) * time.Second)
		return nil
	case float64:
		*d = Duration(x * float64(time.Second))
		return nil
	default:
		return fmt.Errorf("bad duration %v (%T): write a string like \"5m\" or a number of seconds", v, v)
	}
}
