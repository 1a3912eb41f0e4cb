package who_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/who"
)

// BenchmarkMiddleware measures the per-request cost of the chain on its
// common paths (go test -run '^$' -bench Middleware -benchmem ./who).
func BenchmarkMiddleware(b *testing.B) {
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	down := &authFunc{fn: func(who.Identity) (string, error) { return "", errors.New("ldap down") }}
	cases := []struct {
		name    string
		cfg     who.Config
		headers []string
	}{
		{"anonymous", who.Config{Identifiers: entries("i", cookieID()), Authenticators: entries("a", acceptLogin(""))}, nil},
		{"anonymous-remote-user-key", who.Config{RemoteUserKey: "Remote-User", Identifiers: entries("i", cookieID()), Authenticators: entries("a", acceptLogin(""))}, nil},
		{"authenticated-remote-user-key", who.Config{RemoteUserKey: "Remote-User", Identifiers: entries("i", cookieID()), Authenticators: entries("a", acceptLogin(""))}, []string{"X-Login", "bob"}},
		{"trusted-header", who.Config{TrustedUserHeader: "X-Remote-User", RemoteUserKey: "Remote-User"}, []string{"X-Remote-User", "bob"}},
		{"failing-authenticator", who.Config{Identifiers: entries("ok", fixedID(who.Identity{who.KeyLogin: "a"})), Authenticators: entries("ldap", down)}, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) // warnings only, as in production
			m, err := who.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			h := m.Wrap(http.HandlerFunc(ok))
			req := get("/", append([]string{"Accept", "text/html", "User-Agent", "bench", "Accept-Language", "en"}, c.headers...)...)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// nullWriter is a ResponseWriter that allocates nothing, so that
// testing.AllocsPerRun counts the middleware's allocations only.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) WriteHeader(int)             {}
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestHotPathAllocations holds the chain to its allocation budget on the
// paths every request takes: the per-request state; for an authenticated
// request also the identifier's fresh identity (its map) and the userid
// added to it, but no Result of its own (it lives in the state); on the
// trusted-header path the result's identity map and its userid. Work
// creeping into the hot path shows up here and not only in
// BenchmarkMiddleware. Not under -race, which makes more escape.
func TestHotPathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes the allocations")
	}
	nobody := &idFunc{identify: func(*http.Request) (who.Identity, error) { return nil, nil }}
	bob := &idFunc{identify: func(*http.Request) (who.Identity, error) { return who.Identity{who.KeyLogin: "bob"}, nil }}
	tests := []struct {
		name    string
		cfg     who.Config
		headers []string
		want    float64
	}{
		{"anonymous", who.Config{Identifiers: entries("i", nobody), Authenticators: entries("a", acceptLogin(""))}, nil, 1},
		{"anonymous with remote_user_key", who.Config{RemoteUserKey: "Remote-User", Identifiers: entries("i", nobody), Authenticators: entries("a", acceptLogin(""))}, nil, 1},
		{"authenticated", who.Config{Identifiers: entries("i", bob), Authenticators: entries("a", acceptLogin(""))}, nil, 4},
		{"trusted header", who.Config{TrustedUserHeader: "X-Remote-User"}, []string{"X-Remote-User", "bob"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			m, err := who.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
			req := get("/", append([]string{"Accept", "text/html", "User-Agent", "bench"}, tc.headers...)...)
			w := &nullWriter{h: http.Header{}}
			if got := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); got > tc.want {
				t.Errorf("%v allocations per request, want at most %v", got, tc.want)
			}
		})
	}
}
