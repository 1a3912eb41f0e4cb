package who_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gowho/gowho/who"
)

// recorder is an Observer that records every event as one line, and puts
// a marker in the request context at Start.
type recorder struct {
	mu     sync.Mutex
	lines  []string
	events []who.Event
}

type markKey struct{}

func (r *recorder) Start(ctx context.Context, _ *http.Request) context.Context {
	return context.WithValue(ctx, markKey{}, "started")
}

func (r *recorder) Observe(ctx context.Context, e who.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mark, _ := ctx.Value(markKey{}).(string)
	line := fmt.Sprintf("%s %s %s %s uid=%s login=%s reason=%s status=%d ctx=%s",
		e.Kind, e.Stage, e.Plugin, e.Outcome, e.UserID, e.Login, e.Reason, e.Status, mark)
	if e.Err != nil {
		line += " err=" + e.Err.Error()
	}
	r.lines = append(r.lines, line)
	r.events = append(r.events, e)
}

func (r *recorder) got() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// TestObserverSeesTheChain runs one request per path and compares every
// event the observer received.
func TestObserverSeesTheChain(t *testing.T) {
	t.Parallel()
	down := &authFunc{fn: func(id who.Identity) (string, error) {
		return "", fmt.Errorf("ldap down for password %s", id.Str(who.KeyPassword))
	}}
	pw := &idFunc{identify: func(r *http.Request) (who.Identity, error) {
		if u, p, ok := r.BasicAuth(); ok {
			return who.Identity{who.KeyLogin: u, who.KeyPassword: p}, nil
		}
		return nil, nil
	}}
	onlyBob := &authFunc{fn: func(id who.Identity) (string, error) {
		if id.Str(who.KeyLogin) == "bob" && id.Str(who.KeyPassword) == "s3cret" {
			return "bob", nil
		}
		return "", nil
	}}
	tests := []struct {
		name    string
		cfg     who.Config
		req     *http.Request
		handler http.HandlerFunc
		want    []string
	}{
		{
			name: "authenticated",
			cfg: who.Config{Identifiers: entries("basic", pw), Authenticators: entries("htpasswd", onlyBob),
				MetadataProviders: []who.Entry{{Name: "groups", Plugin: &mdFunc{key: "groups", val: "x"}}}},
			req:     basicReq("bob", "s3cret"),
			handler: status(200, "ok"),
			want: []string{
				"plugin identifiers basic found uid= login= reason= status=0 ctx=started",
				"plugin authenticators htpasswd userid uid=bob login= reason= status=0 ctx=started",
				"plugin mdproviders groups ok uid= login= reason= status=0 ctx=started",
				"request    uid=bob login= reason= status=200 ctx=started",
			},
		},
		{
			name:    "wrong password, challenged",
			cfg:     who.Config{Identifiers: entries("basic", pw), Authenticators: entries("htpasswd", onlyBob), Challengers: entries("basic", &challenger{name: "basic"})},
			req:     basicReq("bob", "wrong"),
			handler: status(401, "no"),
			want: []string{
				"plugin identifiers basic found uid= login= reason= status=0 ctx=started",
				"plugin authenticators htpasswd no uid= login= reason= status=0 ctx=started",
				"login   fail uid= login=bob reason=rejected status=0 ctx=started",
				"challenge  basic  uid= login= reason= status=401 ctx=started",
				"request    uid= login= reason= status=401 ctx=started",
			},
		},
		{
			name:    "backend down: error, masked",
			cfg:     who.Config{Identifiers: entries("basic", pw), Authenticators: entries("ldap", down)},
			req:     basicReq("bob", "hunter2"),
			handler: status(200, "ok"),
			want: []string{
				"plugin identifiers basic found uid= login= reason= status=0 ctx=started",
				"plugin authenticators ldap error uid= login= reason= status=0 ctx=started err=ldap down for password ********",
				"login   fail uid= login=bob reason=error status=0 ctx=started",
				"request    uid= login= reason= status=200 ctx=started",
			},
		},
		{
			name:    "anonymous, no challenger",
			cfg:     who.Config{Identifiers: entries("basic", pw), Authenticators: entries("htpasswd", onlyBob)},
			req:     get("/"),
			handler: status(401, "no"),
			want: []string{
				"plugin identifiers basic none uid= login= reason= status=0 ctx=started",
				"challenge    uid= login= reason= status=401 ctx=started",
				"request    uid= login= reason= status=401 ctx=started",
			},
		},
		{
			name: "API login and logout",
			cfg:  who.Config{Identifiers: entries("form", cookieID()), Authenticators: entries("htpasswd", onlyBob)},
			req:  get("/"),
			handler: func(w http.ResponseWriter, r *http.Request) {
				api := who.APIFrom(r)
				api.Login(who.Identity{who.KeyLogin: "bob", who.KeyPassword: "nope"}, "")
				api.Login(who.Identity{who.KeyLogin: "bob", who.KeyPassword: "s3cret"}, "form")
				api.Logout("")
				who.Report(r.Context(), who.Event{Kind: who.EventCache, Plugin: "cache", Outcome: who.OutcomeHit})
			},
			want: []string{
				"plugin identifiers form none uid= login= reason= status=0 ctx=started",
				"plugin authenticators htpasswd no uid= login= reason= status=0 ctx=started",
				"login   fail uid= login=bob reason=rejected status=0 ctx=started",
				"plugin authenticators htpasswd userid uid=bob login= reason= status=0 ctx=started",
				"login  htpasswd ok uid=bob login= reason= status=0 ctx=started",
				"logout    uid=bob login= reason= status=0 ctx=started",
				"cache  cache hit uid= login= reason= status=0 ctx=started",
				"request    uid= login= reason= status=200 ctx=started",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			cfg := tc.cfg
			cfg.Observers = []who.Observer{nil, rec}
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			m := mustNew(t, cfg)
			do(m, tc.handler, tc.req)
			if got, want := rec.got(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("events:\n%s\nwant:\n%s", got, want)
			}
			for _, e := range rec.events {
				if e.Kind != who.EventRequest && e.Kind != who.EventCache && e.Request == nil {
					t.Errorf("%s event without its request", e.Kind)
				}
				if e.Kind == who.EventPlugin || e.Kind == who.EventRequest {
					if e.Start.IsZero() || e.Duration < 0 {
						t.Errorf("%s event untimed: %v %v", e.Kind, e.Start, e.Duration)
					}
				}
			}
		})
	}
}

func basicReq(user, pass string) *http.Request {
	r := get("/")
	r.SetBasicAuth(user, pass)
	return r
}

// TestReportOutsideChain: Report is a no-op without a chain or without
// observers, and reaches the observers from an outer middleware through
// Observed.
func TestReportOutsideChain(t *testing.T) {
	t.Parallel()
	who.Report(context.Background(), who.Event{Kind: who.EventCache}) // no panic, nothing
	if who.Observing(context.Background()) {
		t.Error("Observing without a chain")
	}
	rec := &recorder{}
	m := mustNew(t, who.Config{Observers: []who.Observer{rec}})
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who.Report(r.Context(), who.Event{Kind: who.EventStoreError, Plugin: "session", Reason: "load", Err: errors.New("redis down")})
			next.ServeHTTP(w, r)
		})
	}
	h := m.Observed(outer(m.Wrap(status(200, "ok"))))
	h.ServeHTTP(httptest.NewRecorder(), get("/"))
	want := "store_error  session  uid= login= reason=load status=0 ctx= err=redis down\nrequest    uid= login= reason= status=200 ctx=started"
	if got := rec.got(); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	m.Observe(context.Background(), who.Event{Kind: who.EventReload, Outcome: who.OutcomeOK})
	if !strings.HasSuffix(rec.got(), "reload   ok uid= login= reason= status=0 ctx=") {
		t.Errorf("Middleware.Observe: %s", rec.got())
	}
}

// TestObserverAllocations: with an observer the chain allocates the
// observer's own context values only; the events themselves allocate
// nothing (they are values).
func TestObserverAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes the allocations")
	}
	nop := nopObserver{}
	bob := &idFunc{identify: func(*http.Request) (who.Identity, error) { return who.Identity{who.KeyLogin: "bob"}, nil }}
	m := mustNew(t, who.Config{Identifiers: entries("i", bob), Authenticators: entries("a", acceptLogin("")),
		Observers: []who.Observer{nop}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	w := &nullWriter{h: http.Header{}}
	req := get("/")
	if got := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); got > 4 {
		t.Errorf("%v allocations per request with a no-op observer, want at most 4 (as without)", got)
	}
}

type nopObserver struct{}

func (nopObserver) Start(ctx context.Context, _ *http.Request) context.Context { return ctx }
func (nopObserver) Observe(context.Context, who.Event)                         {}

// TestReportNamesThePluginCalled: a plugin's Report without a Plugin gets
// the name the chain lists it under.
func TestReportNamesThePluginCalled(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	banning := &reportingAuth{}
	m := mustNew(t, who.Config{Identifiers: entries("basic", fixedID(who.Identity{who.KeyLogin: "eve"})),
		Authenticators: entries("guard", banning), Observers: []who.Observer{rec},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	do(m, status(200, "ok"), get("/"))
	if got := rec.got(); !strings.Contains(got, "\nban  guard  uid= login=eve reason=user status=0 ctx=started\n") {
		t.Errorf("events:\n%s", got)
	}
	if rec.events[1].Request == nil {
		t.Error("a report without a request gets the chain's")
	}
}

type reportingAuth struct{}

func (reportingAuth) Authenticate(r *http.Request, id who.Identity) (string, error) {
	if !who.Observing(r.Context()) {
		panic("Observing is false inside a chain with observers")
	}
	who.Report(r.Context(), who.Event{Kind: who.EventBan, Reason: "user", Login: id.Str(who.KeyLogin)})
	return "", nil
}

// BenchmarkObservers measures what observation costs an authenticated
// request: no observer (the baseline), one no-op observer, three
// (go test -run '^$' -bench Observers -benchmem ./who).
func BenchmarkObservers(b *testing.B) {
	bob := &idFunc{identify: func(*http.Request) (who.Identity, error) { return who.Identity{who.KeyLogin: "bob"}, nil }}
	for _, n := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("observers=%d", n), func(b *testing.B) {
			var obs []who.Observer
			for range n {
				obs = append(obs, nopObserver{})
			}
			m, err := who.New(who.Config{Identifiers: entries("i", bob), Authenticators: entries("a", acceptLogin("")),
				Observers: obs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
			w := &nullWriter{h: http.Header{}}
			req := get("/")
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
