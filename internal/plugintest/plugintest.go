// Package plugintest holds the small helpers the plugin and session tests
// share: a log sink safe for concurrent writers and a decoder that stands in
// for the config loader's PluginSpec.Decode.
//
// New tests use package who/whotest instead: its Spec decodes with the
// config loader's own strict decoder (DecodeTOML reads `d = 300` into a
// time.Duration as 300ns, which config refuses) and its LogBuffer is the
// same sink.
package plugintest

import (
	"bytes"
	"errors"
	"sync"

	"github.com/BurntSushi/toml"
)

// LogBuffer is an io.Writer for a test's slog handler that the test reads
// while requests still log from other goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// DecodeTOML returns a PluginSpec.Decode that decodes the TOML text src
// into v and, like the config loader, refuses a key v has no field for.
// It is laxer than the loader on types; whotest.Spec is the real one.
func DecodeTOML(src string) func(v any) error {
	return func(v any) error {
		md, err := toml.Decode(src, v)
		if err != nil {
			return err
		}
		if u := md.Undecoded(); len(u) > 0 {
			return errors.New("unknown key " + u[0].String())
		}
		return nil
	}
}
