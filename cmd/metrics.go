package whocmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gowho/gowho/observe/audit"
	"github.com/gowho/gowho/observe/metrics"
	"github.com/gowho/gowho/who"
)

// observability is what a server command's -metrics and -audit flags set
// up: the observers every chain it loads gets (the same ones across
// reloads, so the counters go on), and the metrics listener.
type observability struct {
	observers []who.Observer
	srv       *http.Server
	served    chan error
}

// registerObservability adds -metrics and -audit to fs (serverOptions.register
// calls it, so every server command has them).
func (o *serverOptions) registerObservability(fs *flag.FlagSet) {
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on http://ADDR/metrics, a listener of its own (e.g. 127.0.0.1:9100); empty: none")
	fs.BoolVar(&o.audit, "audit", false, "write the audit log (gowho login, logout, challenge lines) to the log")
}

// startObservability builds what o asks for: with -audit an audit log on
// logger, with -metrics a Prometheus registry (gowho's metrics, the Go
// runtime's and the process's) served at /metrics on its own listener,
// whose address it prints to stdout. Close stops the listener. `who
// serve` and `who gateway` both start this way.
func startObservability(o serverOptions, logger *slog.Logger, stdout io.Writer) (*observability, error) {
	x := &observability{}
	if o.audit {
		x.observers = append(x.observers, audit.New(audit.Options{Logger: logger}))
	}
	if o.metrics == "" {
		return x, nil
	}
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))); err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	ln, err := net.Listen("tcp", o.metrics)
	if err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		Timeout:  10 * time.Second,
	}))
	x.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: defaultReadHeaderTimeout,
		ReadTimeout:       defaultReadTimeout,
		WriteTimeout:      defaultWriteTimeout,
		IdleTimeout:       defaultIdleTimeout,
		MaxHeaderBytes:    defaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	x.served = make(chan error, 1)
	go func() { x.served <- x.srv.Serve(ln) }()
	x.observers = append(x.observers, m)
	fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
	return x, nil
}

// reportReload hands a reload of file (EventReload: ok, or fail with
// err) to obs, so the metrics count reloads.
func reportReload(obs []who.Observer, file string, err error) {
	e := who.Event{Kind: who.EventReload, Outcome: who.OutcomeOK, Reason: file, Err: err}
	if err != nil {
		e.Outcome = who.OutcomeFail
	}
	for _, o := range obs {
		o.Observe(context.Background(), e)
	}
}

// Close stops the metrics listener (a scrape in progress gets 5 s).
func (x *observability) Close() error {
	if x == nil || x.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := x.srv.Shutdown(ctx)
	if serr := <-x.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
