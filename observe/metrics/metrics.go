// Package metrics counts what a gowho chain does, in Prometheus metrics
// (github.com/prometheus/client_golang): per plugin, answers by outcome
// and latency; challenges by challenger; logins and logouts; credential
// cache hits, misses and errors; throttle bans; store errors; reloads.
//
// It is a who.Observer: give it to who.Config.Observers or
// config.Options.Observers, or run `who serve -metrics 127.0.0.1:9100`.
//
//	reg := prometheus.NewRegistry()
//	m, err := metrics.New(reg)
//	if err != nil { ... }
//	chain, err := config.Load("who.toml", config.Options{Observers: []who.Observer{m}})
//	go http.ListenAndServe("127.0.0.1:9100", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Labels hold plugin names, stages, outcomes, classifications and
// challenger names, all from the configuration or fixed lists: never a
// userid, a path or anything a client chooses, so the number of series is
// bounded by the who.toml. docs/operations.md ("Metrics and tracing")
// lists every metric.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gowho/gowho/who"
)

// Namespace prefixes every metric name.
const Namespace = "gowho"

// Buckets are the latency histograms' buckets, in seconds: from 100 µs
// (a cookie check) to 10 s (a provider timing out).
var Buckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics is a who.Observer that updates Prometheus metrics. Build it
// with New; it is safe for concurrent use.
type Metrics struct {
	pluginCalls    *prometheus.CounterVec
	pluginDuration *prometheus.HistogramVec
	requests       *prometheus.CounterVec
	reqDuration    *prometheus.HistogramVec
	challenges     *prometheus.CounterVec
	logins         *prometheus.CounterVec
	logouts        prometheus.Counter
	cache          *prometheus.CounterVec
	bans           *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec
	reloads        *prometheus.CounterVec
}

// New returns the metrics, registered with reg (prometheus.DefaultRegisterer
// when nil). Registering twice with one registry is an error
// (prometheus.AlreadyRegisteredError): build one Metrics per registry
// and share it between chains, as `who serve` does across reloads.
func New(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	m := &Metrics{
		pluginCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "plugin_calls_total",
			Help: "Plugin calls by stage, plugin and outcome (identifiers: found, none, error; authenticators: userid, no, error; mdproviders: ok, error)."},
			[]string{"stage", "plugin", "outcome"}),
		pluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "plugin_duration_seconds",
			Help: "Time of each plugin call by stage and plugin.", Buckets: Buckets},
			[]string{"stage", "plugin"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "requests_total",
			Help: "Requests through the chain by classification and whether they were authenticated."},
			[]string{"classification", "authenticated"}),
		reqDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "request_duration_seconds",
			Help: "Time of each request through the chain, downstream handler included, by classification.", Buckets: Buckets},
			[]string{"classification"}),
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "challenges_total",
			Help: `Challenges by the challenger that answered ("" when none did).`},
			[]string{"challenger"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "logins_total",
			Help: `Logins by outcome (ok, fail) and reason of a failure (rejected, error, no_authenticator; "" when ok).`},
			[]string{"outcome", "reason"}),
		logouts: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "logouts_total",
			Help: "Logouts (API.Logout)."}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "cache_requests_total",
			Help: "Credential and token cache lookups by plugin and outcome (hit, miss, error)."},
			[]string{"plugin", "outcome"}),
		bans: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "throttle_bans_total",
			Help: "Bans written by a throttle plugin, by plugin and kind (user, ip)."},
			[]string{"plugin", "kind"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "store_errors_total",
			Help: `Store failures by plugin ("session" for the session manager) and operation.`},
			[]string{"plugin", "op"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "reloads_total",
			Help: "Configuration reloads by outcome (ok, fail)."},
			[]string{"outcome"}),
	}
	var errs []error
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			errs = append(errs, fmt.Errorf("metrics: %w", err))
			continue
		}
		done = append(done, c)
	}
	if err := errors.Join(errs...); err != nil {
		// Only what this call registered: an equal collector registered
		// before (another Metrics) would be unregistered as well.
		for _, c := range done {
			reg.Unregister(c)
		}
		return nil, err
	}
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.pluginCalls, m.pluginDuration, m.requests, m.reqDuration, m.challenges,
		m.logins, m.logouts, m.cache, m.bans, m.storeErrors, m.reloads}
}

// Start implements who.Observer: metrics add nothing to the context.
func (m *Metrics) Start(ctx context.Context, _ *http.Request) context.Context { return ctx }

// Observe implements who.Observer.
func (m *Metrics) Observe(_ context.Context, e who.Event) {
	switch e.Kind {
	case who.EventPlugin:
		m.pluginCalls.WithLabelValues(e.Stage, e.Plugin, e.Outcome).Inc()
		m.pluginDuration.WithLabelValues(e.Stage, e.Plugin).Observe(e.Duration.Seconds())
	case who.EventRequest:
		auth := "false"
		if e.UserID != "" {
			auth = "true"
		}
		m.requests.WithLabelValues(e.Classification, auth).Inc()
		m.reqDuration.WithLabelValues(e.Classification).Observe(e.Duration.Seconds())
	case who.EventChallenge:
		m.challenges.WithLabelValues(e.Plugin).Inc()
	case who.EventLogin:
		reason := ""
		if e.Outcome != who.OutcomeOK {
			reason = e.Reason
		}
		m.logins.WithLabelValues(e.Outcome, reason).Inc()
	case who.EventLogout:
		m.logouts.Inc()
	case who.EventCache:
		m.cache.WithLabelValues(e.Plugin, e.Outcome).Inc()
	case who.EventBan:
		m.bans.WithLabelValues(e.Plugin, e.Reason).Inc()
	case who.EventStoreError:
		m.storeErrors.WithLabelValues(e.Plugin, e.Reason).Inc()
	case who.EventReload:
		m.reloads.WithLabelValues(e.Outcome).Inc()
	}
}

var _ who.Observer = (*Metrics)(nil)
