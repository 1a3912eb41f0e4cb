package who_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// TestChallengeLogLine (issue 12 item 15): the INFO line of a challenge
// names the request's method and path, without the query (which may hold
// a token or a password), besides the plugin, classification and status.
func TestChallengeLogLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		wantPath             string
	}{
		{"GET with a query", "GET", "/private/report?token=s3cr3t&x=1", "path=/private/report"},
		{"POST", "POST", "/api/items", "path=/api/items"},
		// The escaped path, as the client sent it: an encoded CR LF stays
		// encoded whatever the log handler quotes (it was the decoded
		// "/a\r\nlevel=ERROR ...", left to the handler to escape).
		{"path with a space", "GET", "/a%20b?password=hunter2", "path=/a%20b"},
		{"path with CR LF", "GET", "/a%0D%0Alevel=ERROR%20msg=forged?x=1", `path="/a%0D%0Alevel=ERROR%20msg=forged"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log, buf := whotest.Logger(t)
			m := mustNew(t, who.Config{
				Logger:      log,
				Challengers: entries("basic", &challenger{name: "basic"}),
			})
			h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, nil))
			var line string
			for l := range strings.Lines(buf.String()) {
				if strings.Contains(l, `msg="who: challenge"`) {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no challenge line in the log:\n%s", buf)
			}
			for _, want := range []string{"level=INFO", "plugin=basic", "status=401", "method=" + tc.method, tc.wantPath + " "} {
				if !strings.Contains(line, want) {
					t.Errorf("challenge line %q lacks %q", line, want)
				}
			}
			for _, secret := range []string{"?", "s3cr3t", "hunter2", "token"} {
				if strings.Contains(line, secret) {
					t.Errorf("challenge line %q shows the query (%q)", line, secret)
				}
			}
		})
	}
}
