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
