package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
)

// groupsMD is the test's metadata provider: alice is in admins, bob in
// staff; both have a mail.
type groupsMD struct{}

func (groupsMD) AddMetadata(_ *http.Request, id who.Identity) error {
	switch id.Str(who.KeyUserID) {
	case "alice":
		id["groups"] = []string{"admins", "staff"}
		id["mail"] = "alice@example.com"
	case "bob":
		id["groups"] = []string{"staff"}
		id["mail"] = "bob@example.com"
	}
	return nil
}

func testRegistry() *who.Registry {
	reg := who.DefaultRegistry.Clone()
	reg.Register("groups", func(who.PluginSpec) (any, error) { return groupsMD{}, nil })
	return reg
}

// logBuf is a concurrency-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixture is a gateway on the test chain (testdata/gateway.toml).
type fixture struct {
	g   *Gateway
	srv *httptest.Server
	log *logBuf
}

// newFixture loads testdata/gateway.toml; edit changes the [gateway]
// config and opts before New (nil: as loaded).
func newFixture(t testing.TB, edit func(*Config, *Options)) *fixture {
	return newFixtureFile(t, nil, edit)
}

// newFixtureFile is newFixture with text, when not nil, changing the
// file's text first.
func newFixtureFile(t testing.TB, text func(string) string, edit func(*Config, *Options)) *fixture {
	t.Helper()
	lb := &logBuf{}
	logger := slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo}))
	file := filepath.Join("testdata", "gateway.toml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if text != nil {
		src = text(src)
	}
	chain, err := config.Parse(file, []byte(src), config.Options{Registry: testRegistry(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	v, _ := chain.Section("gateway")
	cfg := *v.(*Config)
	cfg.Rules = append([]Rule(nil), cfg.Rules...)
	opts := Options{Wrap: chain.Handler, TrustedProxies: chain.General().TrustedProxies, Logger: logger}
	if edit != nil {
		edit(&cfg, &opts)
	}
	g, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &fixture{g: g, srv: srv, log: lb}
}

// do sends a request to the gateway without following redirects.
func (f *fixture) do(t *testing.T, method, path string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header[k] = append(req.Header[k], v) // as written: "X_Remote_User" stays
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const (
	basicAlice = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==" // alice:wonderland
	basicBob   = "Authorization: Basic Ym9iOmJ1aWxkZXI="         // bob:builder
	acceptHTML = "Accept: text/html,application/xhtml+xml"
)

// untrusted makes the gateway trust no proxy.
func untrusted(_ *Config, o *Options) { o.TrustedProxies = who.TrustedProxies{} }

// noTrustedProxies removes [general] trusted_proxies from the file, for
// the chain and the gateway alike.
func noTrustedProxies(s string) string {
	return strings.Replace(s, `trusted_proxies = ["127.0.0.1/32", "::1/128"]`, "", 1)
}
