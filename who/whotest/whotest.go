// Package whotest is a test kit for plugin authors, as net/http/httptest
// is for handlers: it builds a plugin from who.toml options with the real
// configuration loader (package config), so a test sees the same strict
// decoding, path resolution, Resolve and Validate a deployment sees, and it
// checks the contracts package who documents for the stage interfaces.
//
//	p, err := whotest.Build(t, factory, `header = "X-User"`)
//	...
//	whotest.CheckIdentifier(t, p.(who.Identifier), requestWithCredentials)
//
// Package who does not import whotest: it costs a plugin nothing outside
// its tests.
package whotest

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
)

// PluginName is the name (and registered use) of the plugin Spec and Build
// declare: [plugin.whotest] with use = "whotest".
const PluginName = "whotest"

// header is the start of the configuration file Spec and Build hand to
// config.Parse; the options follow it, so the lines config names in an
// error count these two lines too.
const header = "[plugin." + PluginName + "]\nuse = \"" + PluginName + "\"\n"

// LogBuffer is an io.Writer for a test's slog handler that the test reads
// while the plugin still logs from other goroutines.
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

// Logger returns a text logger writing into a LogBuffer, and the buffer.
// When t fails, what was logged is shown with the failure.
func Logger(t testing.TB) (*slog.Logger, *LogBuffer) {
	t.Helper()
	buf := &LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() && buf.String() != "" {
			t.Logf("plugin log:\n%s", buf)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// Spec returns a who.PluginSpec for calling a factory directly. Its Decode
// decodes options, the body of the plugin's who.toml section, with the
// configuration loader's own strict decoder: an unknown key, a value of
// the wrong type or a bad duration is the error config gives the factory
// (a time.Duration option set to 300 is an error, not 300ns). Decode may
// be called once, as in config.
//
// Name and Use are PluginName, Dir is a fresh t.TempDir() and Logger is
// from Logger(t); set the fields a test needs otherwise (Use for an
// alias, Dir for files the options name relatively).
func Spec(t testing.TB, options string) who.PluginSpec {
	t.Helper()
	logger, _ := Logger(t)
	decoded := false
	return who.PluginSpec{
		Name:   PluginName,
		Use:    PluginName,
		Dir:    t.TempDir(),
		Logger: logger,
		Decode: func(v any) error {
			if decoded {
				return errors.New("whotest: Decode called twice")
			}
			decoded = true
			return decode(options, v)
		},
	}
}

// placeholder is what the throwaway factory of decode returns: config
// wants a plugin value.
type placeholder struct{}

// decode decodes options into v by loading a one-section file with
// config.Parse whose factory only calls Decode(v). The error is the one
// config's first Decode returned; when the file failed before the factory ran
// (TOML syntax, an unset ${NAME}), it is Parse's error.
func decode(options string, v any) error {
	var decodeErr error
	called := false
	reg := who.NewRegistry()
	reg.Register(PluginName, func(spec who.PluginSpec) (any, error) {
		called = true
		// The loader calls a factory again without the keys it refused
		// (to find more mistakes): the first call's error is the one.
		if err := spec.Decode(v); err != nil {
			if decodeErr == nil {
				decodeErr = err
			}
			return nil, err
		}
		return placeholder{}, nil
	})
	chain, err := config.Parse(PluginName+".toml", []byte(header+options), config.Options{
		Registry: reg,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if called {
		if chain != nil {
			_ = chain.Close()
		}
		return decodeErr
	}
	return err
}

// Build builds one plugin with factory through config.Parse, as a
// deployment's who.toml would: options is the body of its section
// ([plugin.whotest], use = "whotest"), decoded strictly; relative paths
// are relative to the package directory, where go test runs
// ("testdata/users"), and "~/" is the home directory; Resolve (for a who.Resolver) and
// Validate (for a who.Validator) run. options may go on with further
// sections declaring the plugins it refers to by name, built with the
// factories of who.DefaultRegistry (those the test binary imports):
//
//	whotest.Build(t, factory, "rememberer_name = \"tkt\"\n[plugin.tkt]\nuse = \"authtkt\"\nsecret = \"...\"")
//
// It returns the built plugin, or config's error (every mistake, one per
// line; the lines count the two lines of the section header). The plugins
// built are closed when the test ends.
func Build(t testing.TB, factory who.Factory, options string) (any, error) {
	t.Helper()
	logger, _ := Logger(t)
	reg := who.DefaultRegistry.Clone()
	reg.Register(PluginName, factory)
	chain, err := config.Parse("who.toml", []byte(header+options), config.Options{
		Registry: reg,
		Logger:   logger,
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = chain.Close() })
	p, _ := chain.Plugin(PluginName)
	return p, nil
}
