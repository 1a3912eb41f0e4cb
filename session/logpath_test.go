package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/session"
)

// TestFailureLogEscapedPath: the log line of a failed request names the
// escaped path as the client sent it, without the query: an encoded CR LF
// stays "%0D%0A" whatever the log handler quotes (it was the decoded
// "/a\r\nlevel=ERROR ...", left to the handler to escape).
func TestFailureLogEscapedPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	f.st.down.Store(true)
	req := httptest.NewRequest(http.MethodGet, "/a%0D%0Alevel=ERROR%20msg=forged?token=s3cr3t", nil)
	f.m.Wrap(set("k", "v")).ServeHTTP(httptest.NewRecorder(), req)
	var line string
	for l := range strings.Lines(f.log.String()) {
		if strings.Contains(l, `msg="session: request failed"`) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no failure line in the log:\n%s", f.log)
	}
	if want := `path="/a%0D%0Alevel=ERROR%20msg=forged" `; !strings.Contains(line, want) {
		t.Errorf("failure line %q lacks %q", line, want)
	}
	if strings.Contains(line, "s3cr3t") {
		t.Errorf("failure line %q shows the query", line)
	}
}
