// Package redisurl parses a Redis URL (redis_url in who.toml) with
// go-redis, and keeps its password out of the error when it does not parse.
package redisurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Parse is redis.ParseURL whose error names the URL with its password
// masked, after prefix ("redisstore", "throttle"): url.Parse's own message
// quotes the whole URL, and every log of the error would hold the password.
func Parse(prefix, raw string) (*redis.Options, error) {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, parseError(prefix, raw, err)
	}
	return opt, nil
}

// parseError is ParseURL's error with the URL's password masked: url.Parse's
// message quotes the whole URL, password included, and so would every log
// of the error; the URL itself stays in the message, masked, so the user
// sees which value is wrong.
func parseError(prefix, raw string, err error) error {
	inner := err
	if ue, ok := errors.AsType[*url.Error](err); ok {
		inner = ue.Err
	}
	masked, pw := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		// The user info ends at the last '@', not at the first '/', '?'
		// or '#': a generated password holds them unescaped, and masking
		// up to an '@' in a path masks more, never less.
		rest := raw[i+3:]
		if j := strings.LastIndexByte(rest, '@'); j >= 0 {
			if user, p, ok := strings.Cut(rest[:j], ":"); ok && p != "" {
				pw = p
				masked = raw[:i+3] + user + ":xxxxx" + rest[j:]
			}
		}
	}
	msg := inner.Error()
	if pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		// url.Parse, cut short by a '/', '?' or '#' of the password,
		// quotes a piece of it ("invalid port \":piece\" after host").
		for _, piece := range strings.FieldsFunc(pw, func(r rune) bool { return strings.ContainsRune("/?#@", r) }) {
			msg = strings.ReplaceAll(msg, piece, "xxxxx")
		}
		if strings.ContainsAny(pw, "/?#@") {
			msg += " (escape '/', '?', '#' and '@' in the password: %2F, %3F, %23, %40)"
		}
	}
	return &maskedError{msg: fmt.Sprintf("%s: parse %q: %s", prefix, masked, msg), err: inner}
}

// maskedError is an error whose message had a password masked; it
// unwraps to the original, for errors.Is.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
