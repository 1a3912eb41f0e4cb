package config_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// TestFactoryLogOnce: the loader calls a failing factory again without the
// keys it rejected (every mistake in one run), but a line the factory logs
// at each call is written once: `who check` printed authtkt's short-secret
// warning three times for a section with two wrong keys. What a built
// plugin logs later, while it runs, is not held back.
func TestFactoryLogOnce(t *testing.T) {
	reg := who.NewRegistry()
	reg.Register("warner", func(spec who.PluginSpec) (any, error) {
		var o struct {
			Header string `toml:"header"`
			Path   string `toml:"path"`
		}
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		spec.Logger.Warn("the secret is short", "option", "secret")
		switch {
		case strings.Contains(o.Header, " "):
			return nil, &who.OptionError{Key: "header", Err: errors.New("must not contain a space")}
		case strings.Contains(o.Path, ";"):
			return nil, &who.OptionError{Key: "path", Err: errors.New("must not contain ';'")}
		}
		return nil, errors.New("never built")
	})
	reg.Register("talker", func(spec who.PluginSpec) (any, error) {
		spec.Logger.Info("built")
		return talkingIdentifier{spec.Logger}, nil
	})
	logger, log := whotest.Logger(t)
	src := "[plugin.w]\nuse = \"warner\"\nheader = \"a b\"\npath = \"/a;b\"\n" +
		"[plugin.t]\nuse = \"talker\"\n[identifiers]\nplugins = [\"t\"]\n"
	_, err := config.Parse("who.toml", []byte(src), config.Options{Registry: reg, Logger: logger})
	if err == nil {
		t.Fatal("no error for the wrong header and path")
	}
	for _, want := range []string{"header: must not contain a space", `path: must not contain ';' (found with "header" left out)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := strings.Count(log.String(), "the secret is short"); n != 1 {
		t.Errorf("the factory's warning was written %d times, want once:\n%s", n, log)
	}

	c, err := config.Parse("who.toml", []byte("[plugin.t]\nuse = \"talker\"\n[identifiers]\nplugins = [\"t\"]\n"),
		config.Options{Registry: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, _ := c.Plugin("t")
	id := v.(talkingIdentifier)
	id.log.Info("running")
	id.log.Info("running")
	if n := strings.Count(log.String(), "msg=running"); n != 2 {
		t.Errorf("a built plugin's line written twice came out %d times, want 2:\n%s", n, log)
	}
}

// talkingIdentifier keeps the logger its factory was given.
type talkingIdentifier struct {
	log interface{ Info(string, ...any) }
}

func (talkingIdentifier) Identify(*http.Request) (who.Identity, error) { return nil, nil }
