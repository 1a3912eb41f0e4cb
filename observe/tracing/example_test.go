package tracing_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gowho/gowho/observe/tracing"
	"github.com/gowho/gowho/who"
)

// A tracer on the application's TracerProvider (here an in-memory
// exporter; an OTLP one in production), observing a chain built in Go
// (config.Options.Observers does the same for a who.toml).
func Example() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	chain, err := who.New(who.Config{
		Identifiers: []who.Entry{{Name: "basic", Plugin: &basicID{}}},
		Observers:   []who.Observer{tracing.New(tracing.Options{TracerProvider: tp})},
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	chain.Wrap(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for _, s := range exp.GetSpans() {
		fmt.Println(s.Name)
	}
	// Output:
	// gowho identifiers basic
	// gowho request
}
