package who

import (
	"cmp"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// Mask is what a masked secret prints as: the value of KeyPassword and of
// every key a SecretKeyer declares, in Identity.Masked, debug logs and
// error messages. It is config.Mask's text.
const Mask = "********"

// minRawSecret is the length from which a secret value is masked wherever
// it appears in an error message; a shorter one is masked only where it
// appears quoted (as %q prints it), so that a one-letter password does not
// blank out every such letter of the message.
const minRawSecret = 4

// Masked returns a copy of the identity for display in which the value
// under KeyPassword and under each of keys (the chain's SecretKeys) is
// Mask; keys it does not hold are not added. The copy is shallow: the
// other values are shared. Nil for nil.
func (id Identity) Masked(keys []string) Identity {
	if id == nil {
		return nil
	}
	c := id.Clone()
	if _, ok := c[KeyPassword]; ok {
		c[KeyPassword] = Mask
	}
	for _, k := range keys {
		if _, ok := c[k]; ok {
			c[k] = Mask
		}
	}
	return c
}

// SecretKeys returns the identity keys whose values the chain masks:
// KeyPassword and the keys every plugin of every stage declares as a
// SecretKeyer, each once, in the order first seen (SecretKeysOf over the
// chain's plugins). Use it to print an identity a Trace receives:
// id.Masked(m.SecretKeys()). The slice is the caller's.
func (m *Middleware) SecretKeys() []string {
	return slices.Clone(m.secretKeys)
}

// chainSecretKeys is SecretKeysOf over the plugins of every stage.
func (m *Middleware) chainSecretKeys() []string {
	var plugins []any
	for i := range m.identifiers {
		plugins = append(plugins, m.identifiers[i].Plugin)
	}
	for i := range m.authenticators {
		plugins = append(plugins, m.authenticators[i].Plugin)
	}
	for i := range m.challengers {
		plugins = append(plugins, m.challengers[i].Plugin)
	}
	for i := range m.mdproviders {
		plugins = append(plugins, m.mdproviders[i].Plugin)
	}
	return SecretKeysOf(plugins...)
}

// maskedLog is an identity as a debug log shows it: its keys in order,
// the secret ones masked.
type maskedLog struct {
	id   Identity
	keys []string
}

// LogValue shows the identity as a group, secret values masked.
func (l maskedLog) LogValue() slog.Value {
	id := l.id.Masked(l.keys)
	attrs := make([]slog.Attr, 0, len(id))
	for k, v := range id {
		attrs = append(attrs, slog.Any(k, v))
	}
	slices.SortFunc(attrs, func(a, b slog.Attr) int { return cmp.Compare(a.Key, b.Key) })
	return slog.GroupValue(attrs...)
}

// maskedError is a plugin's error whose message showed a secret value of
// the identity it was handling; it still unwraps to the plugin's error.
type maskedError struct {
	err  error
	text string
}

func (e *maskedError) Error() string { return e.text }
func (e *maskedError) Unwrap() error { return e.err }

// maskError returns err with the values id holds under KeyPassword and
// keys masked in its message: each quoted wherever it appears (as %q,
// %+q and %#q print it), and as it is when it is at least minRawSecret
// bytes long. The longest value is masked first, so that a secret holding
// another (an API key holding the password) is masked whole, not around
// the shorter one. err itself when its message shows none of them (nil for
// nil).
func maskError(err error, id Identity, keys []string) error {
	if err == nil || len(id) == 0 {
		return err
	}
	var values []string
	for _, k := range keys {
		switch v := id[k].(type) {
		case string:
			values = append(values, v)
		case []string:
			values = append(values, v...)
		case []byte:
			values = append(values, string(v))
		}
	}
	if len(values) == 0 {
		return err
	}
	slices.SortStableFunc(values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	text := err.Error()
	masked := text
	quotedMask := strconv.Quote(Mask)
	for _, v := range values {
		if v == "" {
			continue
		}
		masked = strings.ReplaceAll(masked, strconv.Quote(v), quotedMask)
		if a := strconv.QuoteToASCII(v); a != strconv.Quote(v) {
			masked = strings.ReplaceAll(masked, a, quotedMask) // %+q
		}
		if strconv.CanBackquote(v) {
			masked = strings.ReplaceAll(masked, "`"+v+"`", "`"+Mask+"`") // %#q
		}
		if len(v) >= minRawSecret {
			masked = strings.ReplaceAll(masked, v, Mask)
		}
	}
	if masked == text {
		return err
	}
	return &maskedError{err: err, text: masked}
}
