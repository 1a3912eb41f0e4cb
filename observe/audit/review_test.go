package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/observe/audit"
	"github.com/gowho/gowho/who"
)

// TestHostileLoginCannotForgeALine: a login name (and a path) holding
// newlines, quotes and "key=value" text written by a client stays inside
// its one attribute of its one line, with the text and the JSON handler;
// the fields before it keep their values.
func TestHostileLoginCannotForgeALine(t *testing.T) {
	t.Parallel()
	hostile := []string{
		"mallory\ntime=2024-01-01T00:00:00Z level=INFO msg=\"gowho login\" event=login client=10.0.0.1 outcome=ok userid=admin",
		"mallory\" outcome=ok userid=\"admin",
		"mallory\r\n{\"msg\":\"gowho login\",\"outcome\":\"ok\",\"userid\":\"admin\"}",
		"mallory\x00\u2028\u2029\x1b[2J",
		"\xff\xfe",
	}
	for _, handler := range []string{"text", "json"} {
		for _, login := range hostile {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&buf, nil)
			if handler == "json" {
				h = slog.NewJSONHandler(&buf, nil)
			}
			l := audit.New(audit.Options{Logger: slog.New(h)})
			r := httptest.NewRequest("GET", "/x", nil)
			r.URL.RawPath = "/a%0Ab"
			r.RemoteAddr = "192.0.2.9:1234"
			l.Observe(context.Background(), who.Event{Kind: who.EventLogin, Outcome: who.OutcomeFail,
				Reason: who.ReasonRejected, Plugin: "htpasswd", Login: login, Request: r})
			l.Observe(context.Background(), who.Event{Kind: who.EventChallenge, Plugin: "basicauth", Status: 401, Request: r})
			lines := 0
			sc := bufio.NewScanner(&buf)
			for sc.Scan() {
				lines++
				line := sc.Text()
				if handler == "json" {
					var m map[string]any
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						t.Fatalf("%s: line %d is no JSON object: %v\n%s", handler, lines, err, line)
					}
					if lines == 1 && (m["outcome"] != "fail" || m["userid"] != "" || m["client"] != "192.0.2.9") {
						t.Errorf("%s: fields changed by the login %q: %v", handler, login, m)
					}
					continue
				}
				// The login is the last attribute (documented): what comes
				// before it is the line's own, and the login a quoted value.
				head, value, ok := strings.Cut(line, " login=")
				if lines == 1 && (!ok || !strings.HasPrefix(value, `"`) || !strings.HasSuffix(value, `"`) ||
					!strings.Contains(head, " outcome=fail ") || !strings.Contains(head, " client=192.0.2.9 ") ||
					strings.Count(head, " outcome=") != 1 || strings.Count(head, "msg=") != 1) {
					t.Errorf("%s: login %q forged fields: %s", handler, login, line)
				}
			}
			if lines != 2 {
				t.Errorf("%s: login %q made %d lines, want 2:\n%s", handler, login, lines, buf.String())
			}
		}
	}
}
