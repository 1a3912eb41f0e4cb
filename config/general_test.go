package config

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/plugintest"
	"github.com/gowho/gowho/who"
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
	}{
		{"default summarises", "", 1},
		{"negative logs every failure", `failure_log_interval = "-1s"`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := who.NewRegistry()
			reg.Register("broken", func(who.PluginSpec) (any, error) { return brokenIdentifier{}, nil })
			log := &plugintest.LogBuffer{}
			src := "[general]\n" + tt.general + "\n[plugin.b]\nuse = \"broken\"\n[identifiers]\nplugins = [\"b\"]\n"
			c, err := Parse("who.toml", []byte(src), Options{Registry: reg, Logger: slog.New(slog.NewTextHandler(log, nil))})
			if err != nil {
				t.Fatal(err)
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
