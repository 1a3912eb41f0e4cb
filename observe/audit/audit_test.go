package audit_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/observe/audit"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// schema is the documented key order of each line (docs/operations.md,
// "Audit log"), after the handler's time, level and msg.
var schema = map[string][]string{
	audit.LoginMessage:     {"event", "client", "classification", "outcome", "identifier", "plugin", "reason", "userid", "login"},
	audit.LogoutMessage:    {"event", "client", "classification", "identifier", "userid"},
	audit.ChallengeMessage: {"event", "client", "classification", "plugin", "status", "method", "path"},
}

// line is one decoded audit line: its keys in order and its values.
type line struct {
	keys   []string
	values map[string]any
}

// parseLines decodes JSON lines keeping each object's key order.
func parseLines(t *testing.T, text string) []line {
	t.Helper()
	var out []line
	for _, raw := range strings.Split(strings.TrimSpace(text), "\n") {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("not a JSON object: %s", raw)
		}
		l := line{values: map[string]any{}}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			k := tok.(string)
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			l.keys = append(l.keys, k)
			l.values[k] = v
		}
		out = append(out, l)
	}
	return out
}

const (
	alicePassword = "alicepw"
	wrongPassword = "Wr0ng-Passw0rd-XYZ"
	cookieValue   = "cookie-secret-4f1c9e"
)

// TestAuditSchema runs logins, a logout and challenges through a real
// chain behind a trusted proxy, parses every line the audit log wrote
// and checks it against the documented schema: message, level, keys in
// order, values; and that no line holds a password or a cookie.
func TestAuditSchema(t *testing.T) {
	t.Parallel()
	var buf whotest.LogBuffer
	a := audit.New(audit.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	chain, err := config.Load("testdata/who.toml", config.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observers: []who.Observer{a}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = chain.Close() })
	mux := http.NewServeMux()
	mux.HandleFunc("/protected", func(w http.ResponseWriter, r *http.Request) {
		if who.UserID(r.Context()) == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		creds := who.Identity{who.KeyLogin: r.FormValue("login"), who.KeyPassword: r.FormValue("password")}
		if who.APIFrom(r).WriteLogin(w, creds, "basicauth") == nil {
			w.WriteHeader(http.StatusForbidden) // not a challenge (the default decider: 401 only)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { who.APIFrom(r).WriteLogout(w, "") })
	srv := httptest.NewServer(chain.Handler(mux))
	t.Cleanup(srv.Close)

	do := func(method, path, user, pass, form string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path+"?token=abc", strings.NewReader(form))
		if form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		req.Header.Add("Cookie", "session="+cookieValue)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	do("GET", "/protected", "", "", "")                                   // challenge
	do("GET", "/protected", "alice", wrongPassword, "")                   // failed Basic login, challenge
	do("POST", "/login", "", "", "login=alice&password="+alicePassword)   // login ok
	do("POST", "/login", "", "", "login=mallory&password="+wrongPassword) // login failed
	do("POST", "/logout", "alice", alicePassword, "")                     // logout of alice

	text := buf.String()
	for _, secret := range []string{alicePassword, wrongPassword, cookieValue, "abc"} {
		if strings.Contains(text, secret) {
			t.Errorf("the audit log holds %q:\n%s", secret, text)
		}
	}
	type want struct {
		msg, level string
		values     map[string]any
	}
	wants := []want{
		{audit.ChallengeMessage, "INFO", map[string]any{"event": "challenge", "plugin": "basicauth", "status": json.Number("401"), "method": "GET", "path": "/protected"}},
		{audit.LoginMessage, "WARN", map[string]any{"event": "login", "outcome": "fail", "identifier": "basicauth", "plugin": "", "reason": "rejected", "userid": "", "login": "alice"}},
		{audit.ChallengeMessage, "INFO", map[string]any{"event": "challenge", "plugin": "basicauth", "status": json.Number("401")}},
		{audit.LoginMessage, "INFO", map[string]any{"event": "login", "outcome": "ok", "identifier": "basicauth", "plugin": "htpasswd", "reason": "", "userid": "alice", "login": ""}},
		{audit.LoginMessage, "WARN", map[string]any{"event": "login", "outcome": "fail", "reason": "rejected", "login": "mallory"}},
		{audit.LogoutMessage, "INFO", map[string]any{"event": "logout", "identifier": "", "userid": "alice"}},
	}
	lines := parseLines(t, text)
	if len(lines) != len(wants) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(wants), text)
	}
	for i, l := range lines {
		w := wants[i]
		if l.values["msg"] != w.msg || l.values["level"] != w.level {
			t.Errorf("line %d: msg %v level %v, want %s %s", i, l.values["msg"], l.values["level"], w.msg, w.level)
			continue
		}
		if got, want := l.keys, append([]string{"time", "level", "msg"}, schema[w.msg]...); !slices.Equal(got, want) {
			t.Errorf("line %d (%s): keys %v, want %v", i, w.msg, got, want)
		}
		if l.values["client"] != "203.0.113.9" || l.values["classification"] != "browser" {
			t.Errorf("line %d: client %v classification %v, want 203.0.113.9 browser", i, l.values["client"], l.values["classification"])
		}
		for k, v := range w.values {
			if l.values[k] != v {
				t.Errorf("line %d (%s): %s = %#v, want %#v", i, w.msg, k, l.values[k], v)
			}
		}
	}
}

// TestLevels: Options.NoChallenges drops the challenge lines only;
// a logger above INFO gets the failed logins only.
func TestLevels(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	events := []who.Event{
		{Kind: who.EventChallenge, Plugin: "basic", Status: 401, Request: r},
		{Kind: who.EventLogin, Outcome: who.OutcomeOK, UserID: "alice", Request: r},
		{Kind: who.EventLogin, Outcome: who.OutcomeFail, Reason: who.ReasonRejected, Login: "bob", Request: r},
		{Kind: who.EventPlugin, Stage: who.StageIdentifiers}, // not an audit event
	}
	tests := []struct {
		name string
		opts func(io.Writer) audit.Options
		want []string
	}{
		{"all", func(w io.Writer) audit.Options {
			return audit.Options{Logger: slog.New(slog.NewTextHandler(w, nil))}
		}, []string{audit.ChallengeMessage, audit.LoginMessage, audit.LoginMessage}},
		{"no challenges", func(w io.Writer) audit.Options {
			return audit.Options{Logger: slog.New(slog.NewTextHandler(w, nil)), NoChallenges: true}
		}, []string{audit.LoginMessage, audit.LoginMessage}},
		{"warn and above", func(w io.Writer) audit.Options {
			return audit.Options{Logger: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		}, []string{audit.LoginMessage}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := audit.New(tc.opts(&buf))
			for _, e := range events {
				l.Observe(r.Context(), e)
			}
			var got []string
			for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if s == "" {
					continue
				}
				i := strings.Index(s, `msg="`)
				got = append(got, s[i+5:i+5+strings.Index(s[i+5:], `"`)])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("lines %q, want %q:\n%s", got, tc.want, buf.String())
			}
		})
	}
	// The text form: client before the login the client chose.
	var buf bytes.Buffer
	audit.New(audit.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))}).Observe(r.Context(), events[2])
	if s := buf.String(); !strings.Contains(s, `msg="gowho login" event=login client=192.0.2.1 classification="" outcome=fail identifier="" plugin="" reason=rejected userid="" login=bob`) {
		t.Errorf("text line: %s", s)
	}
}
