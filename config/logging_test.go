package config_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// brokenIdentifier fails every request, as an identifier whose backend is
// down.
type brokenIdentifier struct{}

func (brokenIdentifier) Identify(*http.Request) (who.Identity, error) {
	return nil, errors.New("backend down")
}

// [general] failure_log_interval reaches the middleware: negative logs every
// failure, the default summarises repeats.
func TestFailureLogInterval(t *testing.T) {
	tests := []struct {
		name, general string
		wantLines     int
		wantInterval  time.Duration // Chain.General().FailureLogInterval
	}{
		{"default summarises", "", 1, who.DefaultFailureLogInterval},
		{"zero is the default", "failure_log_interval = 0", 1, who.DefaultFailureLogInterval},
		{"longer summarises", `failure_log_interval = "1m"`, 1, time.Minute},
		{"negative logs every failure", `failure_log_interval = "-1s"`, 3, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := who.NewRegistry()
			logger, log := whotest.Logger(t)
			reg.Register("broken", func(who.PluginSpec) (any, error) { return brokenIdentifier{}, nil })
			src := "[general]\n" + tt.general + "\n[plugin.b]\nuse = \"broken\"\n[identifiers]\nplugins = [\"b\"]\n"
			c, err := config.Parse("who.toml", []byte(src), config.Options{Registry: reg, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.General().FailureLogInterval; got != tt.wantInterval {
				t.Errorf("General().FailureLogInterval = %v, want %v", got, tt.wantInterval)
			}
			h := c.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			for range 3 {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			}
			if n := strings.Count(log.String(), "identifier failed"); n != tt.wantLines {
				t.Fatalf("%d failure lines, want %d:\n%s", n, tt.wantLines, log.String())
			}
		})
	}
}

// talker logs once when built, through the logger its spec gives it.
func talker(spec who.PluginSpec) (any, error) {
	spec.Logger.Info("built")
	return brokenIdentifier{}, nil
}

// Each plugin logs with its own name and use (as Caddy gives each module
// its own logger), so two plugins of one use tell their lines apart.
func TestPluginLogger(t *testing.T) {
	reg := who.NewRegistry()
	reg.Register("talker", talker, "chatty")
	logger, log := whotest.Logger(t)
	src := "[plugin.a]\nuse = \"talker\"\n[plugin.b]\nuse = \"chatty\"\n[identifiers]\nplugins = [\"a\", \"b\", \"talker\"]\n"
	c, err := config.Parse("who.toml", []byte(src), config.Options{Registry: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		_, attrs, _ := strings.Cut(line, "msg=built ")
		got = append(got, attrs)
	}
	want := []string{"plugin=a use=talker", "plugin=b use=chatty", "plugin=talker use=talker"}
	if !slices.Equal(got, want) {
		t.Errorf("build log attributes %q, want %q; log:\n%s", got, want, log)
	}
}
