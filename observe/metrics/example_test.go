package metrics_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gowho/gowho/observe/metrics"
	"github.com/gowho/gowho/who"
)

// Metrics on a registry of the application's, observing a chain built
// in Go (config.Options.Observers does the same for a who.toml).
func Example() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}
	chain, err := who.New(who.Config{
		Identifiers: []who.Entry{{Name: "header", Plugin: headerID{}}},
		Observers:   []who.Observer{m},
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	h := chain.Wrap(http.NotFoundHandler())
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	// Serve reg with promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).
	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetName() != "gowho_plugin_calls_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				fmt.Printf("%s=%s ", l.GetName(), l.GetValue())
			}
			fmt.Println(s.GetCounter().GetValue())
		}
	}
	// Output: outcome=none plugin=header stage=identifiers 3
}

type headerID struct{}

func (headerID) Identify(r *http.Request) (who.Identity, error) {
	if v := r.Header.Get("X-User"); v != "" {
		return who.Identity{who.KeyLogin: v}, nil
	}
	return nil, nil
}
