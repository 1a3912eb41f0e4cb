package tracing_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/observe/tracing"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
)

var protected = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if who.UserID(r.Context()) == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
})

// Secrets every request of the tests carries somewhere; none may appear
// in a span.
const (
	alicePassword = "alicepw"
	wrongPassword = "Wr0ng-Passw0rd-XYZ"
	cookieValue   = "cookie-secret-4f1c9e"
	bearerToken   = "bearer-token-9a8b7c"
	queryToken    = "query-token-5d6e7f"
	typedLogin    = "login-typed-by-client-77"
)

func newRecorder(t *testing.T) (*tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return exp, tp
}

// spanText flattens everything a span exports that a secret could hide
// in: its name, status, attributes, events and their attributes, links
// and resource.
func spanText(s tracetest.SpanStub) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name=%s status=%s %s\n", s.Name, s.Status.Code, s.Status.Description)
	kv := func(attrs []attribute.KeyValue) {
		for _, a := range attrs {
			fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.String())
		}
		b.WriteByte('\n')
	}
	kv(s.Attributes)
	for _, e := range s.Events {
		b.WriteString("event " + e.Name)
		kv(e.Attributes)
	}
	for _, l := range s.Links {
		kv(l.Attributes)
	}
	if s.Resource != nil {
		kv(s.Resource.Attributes())
	}
	return b.String()
}

// send makes one request carrying every kind of secret: Basic credentials
// (when user is set), a cookie, a bearer-looking header and a token in
// the query.
func send(t *testing.T, url, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/?access_token="+queryToken, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Add("Cookie", "session="+cookieValue)
	req.Header.Set("X-Api-Token", "Bearer "+bearerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestNoSecretInAnyAttribute runs logins that succeed, fail, hit the cache
// and challenge through a real chain, then searches every attribute of
// every span for the secrets the requests carried.
func TestNoSecretInAnyAttribute(t *testing.T) {
	t.Parallel()
	for _, withUserID := range []bool{false, true} {
		t.Run(fmt.Sprintf("userid=%v", withUserID), func(t *testing.T) {
			t.Parallel()
			exp, tp := newRecorder(t)
			tr := tracing.New(tracing.Options{TracerProvider: tp, UserID: withUserID})
			chain, err := config.Load("testdata/who.toml", config.Options{
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observers: []who.Observer{tr}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = chain.Close() })
			srv := httptest.NewServer(chain.Handler(protected))
			t.Cleanup(srv.Close)
			for _, c := range []struct {
				user, pass string
				want       int
			}{
				{"alice", alicePassword, 200},
				{"alice", alicePassword, 200}, // from the cache
				{"alice", wrongPassword, 401},
				{typedLogin, wrongPassword, 401},
				{"", "", 401},
			} {
				if got := send(t, srv.URL, c.user, c.pass); got != c.want {
					t.Fatalf("%s: status %d, want %d", c.user, got, c.want)
				}
			}
			spans := exp.GetSpans()
			var requests, plugins int
			for _, s := range spans {
				text := spanText(s)
				for _, secret := range []string{alicePassword, wrongPassword, cookieValue, bearerToken, queryToken, typedLogin} {
					if strings.Contains(text, secret) {
						t.Errorf("span %q holds the secret %q:\n%s", s.Name, secret, text)
					}
				}
				if !withUserID && strings.Contains(text, "alice") {
					t.Errorf("span %q holds the userid without Options.UserID:\n%s", s.Name, text)
				}
				switch {
				case s.Name == "gowho request":
					requests++
				case strings.HasPrefix(s.Name, "gowho "):
					plugins++
					if !s.Parent.IsValid() {
						t.Errorf("plugin span %q has no parent", s.Name)
					}
				}
			}
			// 5 requests; identifier calls 5, authenticator calls 4.
			if requests != 5 || plugins != 9 {
				t.Errorf("%d request spans and %d plugin spans, want 5 and 9", requests, plugins)
			}
			if withUserID {
				var all strings.Builder
				for _, s := range spans {
					all.WriteString(spanText(s))
				}
				if !strings.Contains(all.String(), "enduser.id=alice") {
					t.Errorf("no enduser.id with Options.UserID:\n%s", all.String())
				}
			}
		})
	}
}

// quoting is an authenticator whose error quotes the password, as a
// careless backend's message may.
type quoting struct{}

func (quoting) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	return "", fmt.Errorf("backend refused %s with password %s", id.Str(who.KeyLogin), id.Str(who.KeyPassword))
}

// TestPluginSpans checks the spans of one failing request: names,
// attributes, parentage, timing, the error recorded by type only, and the
// events of the request span.
func TestPluginSpans(t *testing.T) {
	t.Parallel()
	exp, tp := newRecorder(t)
	basic := &basicID{}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "basic", Plugin: basic}},
		Authenticators: []who.Entry{{Name: "backend", Plugin: quoting{}}},
		Observers:      []who.Observer{tracing.New(tracing.Options{TracerProvider: tp})},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Wrap(protected))
	t.Cleanup(srv.Close)
	if got := send(t, srv.URL, typedLogin, wrongPassword); got != http.StatusInternalServerError { // no challenger
		t.Fatalf("status %d", got)
	}
	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
		if text := spanText(s); strings.Contains(text, wrongPassword) || strings.Contains(text, typedLogin) {
			t.Errorf("span %q quotes the credentials:\n%s", s.Name, text)
		}
	}
	req, id, auth := byName["gowho request"], byName["gowho identifiers basic"], byName["gowho authenticators backend"]
	for _, s := range []tracetest.SpanStub{id, auth} {
		if s.Parent.SpanID() != req.SpanContext.SpanID() {
			t.Errorf("%q is not a child of the request span", s.Name)
		}
		if s.StartTime.Before(req.StartTime) || s.EndTime.After(req.EndTime) || s.EndTime.Before(s.StartTime) {
			t.Errorf("%q is timed outside its request", s.Name)
		}
	}
	if got := spanText(auth); !strings.Contains(got, "gowho.outcome=error") || !strings.Contains(got, "error.type=*errors.errorString") ||
		!strings.Contains(got, "gowho.identifier=basic") || auth.Status.Description != "plugin failed" {
		t.Errorf("authenticator span:\n%s", got)
	}
	if got := spanText(id); !strings.Contains(got, "gowho.stage=identifiers gowho.plugin=basic gowho.outcome=found") {
		t.Errorf("identifier span:\n%s", got)
	}
	got := spanText(req)
	for _, want := range []string{"http.request.method=GET", "gowho.classification=browser", "gowho.authenticated=false",
		"http.response.status_code=401", "event gowho login gowho.plugin= gowho.identifier=basic gowho.outcome=fail gowho.reason=error",
		"event gowho challenge gowho.plugin= http.response.status_code=401"} {
		if !strings.Contains(got, want) {
			t.Errorf("request span lacks %q:\n%s", want, got)
		}
	}
}

// basicID finds Basic credentials.
type basicID struct{}

func (*basicID) Identify(r *http.Request) (who.Identity, error) {
	if u, p, ok := r.BasicAuth(); ok {
		return who.Identity{who.KeyLogin: u, who.KeyPassword: p}, nil
	}
	return nil, nil
}

// TestUnsampled: with a provider that samples nothing no span
// is exported, and the chain still works.
func TestUnsampled(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.NeverSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	m, err := who.New(who.Config{Identifiers: []who.Entry{{Name: "basic", Plugin: &basicID{}}},
		Observers: []who.Observer{tracing.New(tracing.Options{TracerProvider: tp})},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Wrap(protected))
	t.Cleanup(srv.Close)
	send(t, srv.URL, "alice", alicePassword)
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("%d spans exported with NeverSample", n)
	}
}
