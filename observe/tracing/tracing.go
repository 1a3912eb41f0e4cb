// Package tracing traces a gowho chain with OpenTelemetry
// (go.opentelemetry.io/otel): a span per request through the chain and a
// child span per plugin call, with the stage, the plugin and its outcome;
// challenges, logins, logouts and what plugins report (cache, ban, store
// error) are events of the request's span.
//
// It is a who.Observer, off unless configured: give one to
// who.Config.Observers or config.Options.Observers with the
// TracerProvider of your application (its exporter, its sampler).
//
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
//	chain, err := config.Load("who.toml", config.Options{
//		Observers: []who.Observer{tracing.New(tracing.Options{TracerProvider: tp})},
//	})
//
// No attribute ever holds a credential: no password, token, cookie,
// header, query or login name a client typed; a plugin's error is
// recorded by its type only (error.type), never its message. The userid
// of an authenticated request is recorded (enduser.id) only with
// Options.UserID.
//
// Plugin spans are recorded when the call returns, with its start time:
// a plugin's own outgoing calls (an LDAP bind, an HTTP request) made with
// the request's context are children of the request span, not of the
// plugin's.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gowho/gowho/who"
)

// ScopeName is the instrumentation scope of the tracer.
const ScopeName = "github.com/gowho/gowho/observe/tracing"

// Attribute keys. Their values come from the configuration (plugin names,
// stages) or fixed lists (outcomes, reasons), never from the client,
// except enduser.id (Options.UserID).
const (
	KeyStage          = attribute.Key("gowho.stage")
	KeyPlugin         = attribute.Key("gowho.plugin")
	KeyIdentifier     = attribute.Key("gowho.identifier")
	KeyOutcome        = attribute.Key("gowho.outcome")
	KeyReason         = attribute.Key("gowho.reason")
	KeyClassification = attribute.Key("gowho.classification")
	KeyAuthenticated  = attribute.Key("gowho.authenticated")
	KeyUserID         = attribute.Key("enduser.id")
	KeyErrorType      = attribute.Key("error.type")
	KeyMethod         = attribute.Key("http.request.method")
	KeyStatus         = attribute.Key("http.response.status_code")
)

// Options configure the tracer.
type Options struct {
	// TracerProvider makes the tracer; nil: otel.GetTracerProvider(),
	// the global one (a no-op until the application sets one).
	TracerProvider trace.TracerProvider
	// UserID records the userid of an authenticated request and of each
	// authenticator's answer (enduser.id). Off by default: a userid is
	// personal data, and traces often go to a third party.
	UserID bool
}

// Tracer is a who.Observer that records spans. Build it with New; it is
// safe for concurrent use.
type Tracer struct {
	tracer trace.Tracer
	userID bool
}

// New returns the tracer.
func New(o Options) *Tracer {
	tp := o.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return &Tracer{tracer: tp.Tracer(ScopeName), userID: o.UserID}
}

// Start implements who.Observer: it starts the request's span, which the
// context it returns carries (the plugins and the downstream handler see
// it: their spans are its children).
func (t *Tracer) Start(ctx context.Context, r *http.Request) context.Context {
	ctx, _ = t.tracer.Start(ctx, "gowho request", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KeyMethod.String(knownMethod(r.Method))))
	return ctx
}

// Observe implements who.Observer.
func (t *Tracer) Observe(ctx context.Context, e who.Event) {
	switch e.Kind {
	case who.EventPlugin:
		t.pluginSpan(ctx, e)
	case who.EventRequest:
		span := trace.SpanFromContext(ctx)
		attrs := []attribute.KeyValue{KeyClassification.String(e.Classification), KeyAuthenticated.Bool(e.UserID != "")}
		if e.Status != 0 {
			attrs = append(attrs, KeyStatus.Int(e.Status))
		}
		if t.userID && e.UserID != "" {
			attrs = append(attrs, KeyUserID.String(e.UserID))
		}
		span.SetAttributes(attrs...)
		span.End()
	default:
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			return
		}
		attrs := []attribute.KeyValue{KeyPlugin.String(e.Plugin)}
		if e.Identifier != "" {
			attrs = append(attrs, KeyIdentifier.String(e.Identifier))
		}
		if e.Outcome != "" {
			attrs = append(attrs, KeyOutcome.String(e.Outcome))
		}
		if e.Reason != "" && e.Kind != who.EventBan {
			attrs = append(attrs, KeyReason.String(e.Reason))
		}
		if e.Status != 0 {
			attrs = append(attrs, KeyStatus.Int(e.Status))
		}
		if t.userID && e.UserID != "" {
			attrs = append(attrs, KeyUserID.String(e.UserID))
		}
		if e.Err != nil {
			attrs = append(attrs, KeyErrorType.String(errorType(e.Err)))
		}
		span.AddEvent("gowho "+string(e.Kind), trace.WithAttributes(attrs...))
	}
}

// pluginSpan records one plugin call as a child of the request's span.
func (t *Tracer) pluginSpan(ctx context.Context, e who.Event) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return // not sampled: no child either
	}
	attrs := []attribute.KeyValue{KeyStage.String(e.Stage), KeyPlugin.String(e.Plugin), KeyOutcome.String(e.Outcome)}
	if e.Identifier != "" {
		attrs = append(attrs, KeyIdentifier.String(e.Identifier))
	}
	if t.userID && e.UserID != "" {
		attrs = append(attrs, KeyUserID.String(e.UserID))
	}
	_, span := t.tracer.Start(ctx, "gowho "+e.Stage+" "+e.Plugin, trace.WithTimestamp(e.Start),
		trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	if e.Err != nil {
		span.SetAttributes(KeyErrorType.String(errorType(e.Err)))
		span.SetStatus(codes.Error, "plugin failed") // never the message: it may quote what the client sent
	}
	span.End(trace.WithTimestamp(e.Start.Add(e.Duration)))
}

// errorType names the innermost error's type ("*net.OpError"): what
// failed, without a message that might quote a credential.
func errorType(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

// knownMethod returns m when it is a standard method, else "_OTHER" (as
// the OpenTelemetry HTTP conventions say): a client's invented method is
// never an attribute.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

var _ who.Observer = (*Tracer)(nil)
