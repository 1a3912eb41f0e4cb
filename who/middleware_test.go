package who_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/who"
)

// logBuffer returns a debug logger writing to a buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func mustNew(t *testing.T, cfg who.Config) *who.Middleware {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger, _ = logBuffer()
	}
	m, err := who.New(cfg)
	if err != nil {
		t.Fatalf("who.New: %v", err)
	}
	return m
}

func do(m *who.Middleware, h http.HandlerFunc, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	m.Wrap(h).ServeHTTP(rec, req)
	return rec
}

func get(path string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-App", "yes")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func TestNoPluginsPassesResponseUntouched(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{})
	rec := do(m, status(200, "hello"), get("/"))
	if rec.Code != 200 || rec.Body.String() != "hello" || rec.Header().Get("X-App") != "yes" {
		t.Fatalf("got %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	if len(rec.Header()) != 1 {
		t.Errorf("headers changed: %v", rec.Header())
	}
}

func TestNoChallengerIs500AndLogged(t *testing.T) {
	t.Parallel()
	log, buf := logBuffer()
	m := mustNew(t, who.Config{Logger: log})
	rec := do(m, status(401, "secret body"), get("/"))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret body") || rec.Header().Get("X-App") != "" {
		t.Errorf("downstream response leaked: %q %v", rec.Body, rec.Header())
	}
	if !strings.Contains(buf.String(), "no challenger answered") || !strings.Contains(buf.String(), "classification=browser") {
		t.Errorf("log %q does not name the classification", buf)
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		headers      []string
		challengers  []*challenger
		wantBy       string
		wantForget   bool
		wantUserSeen string
	}{
		{name: "anonymous, first challenger wins", challengers: []*challenger{{name: "a"}, {name: "b"}}, wantBy: "a"},
		{name: "declining challenger skipped", challengers: []*challenger{{name: "a", decline: true}, {name: "b"}}, wantBy: "b"},
		{name: "authenticated user gets forget headers", headers: []string{"X-Login", "bob"},
			challengers: []*challenger{{name: "a"}}, wantBy: "a", wantForget: true, wantUserSeen: "u-bob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var chs []who.Entry
			for _, c := range tc.challengers {
				chs = append(chs, who.Entry{Name: c.name, Plugin: c})
			}
			m := mustNew(t, who.Config{
				Identifiers:    entries("tkt", cookieID()),
				Authenticators: entries("auth", acceptLogin("u-")),
				Challengers:    chs,
			})
			var seen string
			rec := do(m, func(w http.ResponseWriter, r *http.Request) {
				seen = who.UserID(r.Context())
				w.Header().Set("Set-Cookie", "app=1")
				w.WriteHeader(401)
				_, _ = w.Write([]byte("app body"))
			}, get("/", tc.headers...))
			if rec.Code != 401 || rec.Header().Get("X-Challenger") != tc.wantBy {
				t.Fatalf("got %d by %q, want 401 by %q", rec.Code, rec.Header().Get("X-Challenger"), tc.wantBy)
			}
			if rec.Body.String() != "challenged by "+tc.wantBy {
				t.Errorf("body %q: the app body must be discarded", rec.Body)
			}
			if seen != tc.wantUserSeen {
				t.Errorf("handler saw user %q, want %q", seen, tc.wantUserSeen)
			}
			gotForget := rec.Header().Get("Set-Cookie") == "tkt=INVALID; Max-Age=0"
			if gotForget != tc.wantForget {
				t.Errorf("forget headers %v, want forget=%v", rec.Header()["Set-Cookie"], tc.wantForget)
			}
			for _, c := range tc.challengers {
				if c.seen.status != 0 && c.seen.app.Get("Set-Cookie") != "app=1" {
					t.Errorf("challenger %s did not get the app headers: %v", c.name, c.seen.app)
				}
			}
		})
	}
}

func TestRememberOnSuccess(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		Identifiers:    entries("tkt", cookieID()),
		Authenticators: entries("auth", acceptLogin("u-")),
	})
	rec := do(m, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "app=1")
		_, _ = w.Write([]byte(who.UserID(r.Context())))
	}, get("/", "X-Login", "bob"))
	if rec.Body.String() != "u-bob" {
		t.Fatalf("body %q", rec.Body)
	}
	if diff := cmp.Diff([]string{"app=1", "tkt=u-bob"}, rec.Header()["Set-Cookie"]); diff != "" {
		t.Errorf("app headers then remember headers (-want +got):\n%s", diff)
	}
}

func TestIdentityResetIsRemembered(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		Identifiers:    entries("tkt", cookieID()),
		Authenticators: entries("auth", acceptLogin("")),
	})
	rec := do(m, func(w http.ResponseWriter, r *http.Request) {
		who.ResultFrom(r.Context()).Identity[who.KeyUserID] = "alice"
	}, get("/", "X-Login", "bob"))
	if got := rec.Header().Get("Set-Cookie"); got != "tkt=alice" {
		t.Errorf("Set-Cookie %q, want the identity as it is at the end of the request", got)
	}
}

func TestLogoutInHandlerWins(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		Identifiers:    entries("tkt", cookieID()),
		Authenticators: entries("auth", acceptLogin("")),
	})
	rec := do(m, func(w http.ResponseWriter, r *http.Request) {
		h := who.APIFrom(r).Logout("")
		for _, v := range h["Set-Cookie"] {
			w.Header().Add("Set-Cookie", v)
		}
		if who.UserID(r.Context()) != "" {
			t.Error("still authenticated after Logout")
		}
		http.Redirect(w, r, "/", http.StatusFound)
	}, get("/logout", "X-Login", "bob"))
	if diff := cmp.Diff([]string{"tkt=INVALID; Max-Age=0"}, rec.Header()["Set-Cookie"]); diff != "" {
		t.Errorf("only the forget headers, no remember (issue #21) (-want +got):\n%s", diff)
	}
}

func TestIdentifierWithoutAuthenticator(t *testing.T) {
	t.Parallel()
	c := &challenger{name: "c"}
	m := mustNew(t, who.Config{
		Identifiers: entries("tkt", cookieID()),
		Challengers: entries("c", c),
	})
	var user string
	rec := do(m, func(w http.ResponseWriter, r *http.Request) {
		user = who.UserID(r.Context())
		w.WriteHeader(401)
	}, get("/", "X-Login", "bob"))
	if user != "" || rec.Code != 401 {
		t.Errorf("user %q status %d", user, rec.Code)
	}
	if len(c.seen.forgeted) != 0 {
		t.Errorf("forget headers %v for an identity nobody authenticated", c.seen.forgeted)
	}
}

// TestRankingEndToEnd pins repoze.who's ranking (authenticator position
// dominates identifier position) and the per-result userid (REPOZE-WHO.md
// §2.4: the original can hand the winner another authenticator's userid).
func TestRankingEndToEnd(t *testing.T) {
	t.Parallel()
	onlyB := &authFunc{fn: func(id who.Identity) (string, error) {
		if id.Str(who.KeyLogin) == "b" {
			return "userB", nil
		}
		return "", nil
	}}
	all := acceptLogin("x-")
	md := &mdFunc{key: "mail", val: "b@example.org"}
	m := mustNew(t, who.Config{
		Identifiers:       entries("i1", fixedID(who.Identity{who.KeyLogin: "a"}), "i2", fixedID(who.Identity{who.KeyLogin: "b"})),
		Authenticators:    entries("a1", onlyB, "a2", all),
		MetadataProviders: entries("md", md),
	})
	var res *who.Result
	do(m, func(w http.ResponseWriter, r *http.Request) { res = who.ResultFrom(r.Context()) }, get("/"))
	if res == nil {
		t.Fatal("no result")
	}
	want := who.Result{UserID: "userB", Identifier: "i2", Authenticator: "a1",
		Identity: who.Identity{who.KeyLogin: "b", who.KeyUserID: "userB", "mail": "b@example.org"}}
	if diff := cmp.Diff(want, *res, cmp.AllowUnexported(who.Result{}), cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".identifier"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	// No short-circuit: every authenticator sees every identity (2x2).
	if onlyB.calls.Load() != 2 || all.calls.Load() != 2 {
		t.Errorf("calls a1=%d a2=%d, want 2 each", onlyB.calls.Load(), all.calls.Load())
	}
}

func TestRankFirstAuthenticatorFailing(t *testing.T) {
	t.Parallel()
	never := &authFunc{fn: func(who.Identity) (string, error) { return "", nil }}
	m := mustNew(t, who.Config{
		Identifiers:    entries("i1", fixedID(who.Identity{who.KeyLogin: "a"})),
		Authenticators: entries("never", never, "zero", &authFunc{fn: func(who.Identity) (string, error) { return "0", nil }}),
	})
	var res *who.Result
	do(m, func(w http.ResponseWriter, r *http.Request) { res = who.ResultFrom(r.Context()) }, get("/"))
	if res == nil || res.UserID != "0" || res.Authenticator != "zero" {
		t.Fatalf("got %+v, want userid \"0\" from the second authenticator", res)
	}
}

func TestEmptyIdentityCounts(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		Identifiers:    entries("empty", fixedID(who.Identity{})),
		Authenticators: entries("any", &authFunc{fn: func(who.Identity) (string, error) { return "guest", nil }}),
	})
	var uid string
	do(m, func(w http.ResponseWriter, r *http.Request) { uid = who.UserID(r.Context()) }, get("/"))
	if uid != "guest" {
		t.Errorf("an empty, non-nil identity must be authenticated; got %q", uid)
	}
}

func TestPluginErrorsAreLoggedAndChainGoesOn(t *testing.T) {
	t.Parallel()
	log, buf := logBuffer()
	broken := &idFunc{identify: func(*http.Request) (who.Identity, error) { return nil, errors.New("disk on fire") }}
	down := &authFunc{fn: func(who.Identity) (string, error) { return "", errors.New("ldap down") }}
	m := mustNew(t, who.Config{
		Logger:            log,
		Identifiers:       entries("broken", broken, "ok", fixedID(who.Identity{who.KeyLogin: "a", who.KeyPassword: "pw"})),
		Authenticators:    entries("ldap", down, "file", acceptLogin("")),
		MetadataProviders: entries("md", &mdFunc{err: errors.New("md down")}),
	})
	var uid string
	do(m, func(w http.ResponseWriter, r *http.Request) { uid = who.UserID(r.Context()) }, get("/"))
	if uid != "a" {
		t.Fatalf("userid %q, want a", uid)
	}
	for _, want := range []string{"plugin=broken", "disk on fire", "plugin=ldap", "ldap down", "plugin=md"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf)
		}
	}
	if strings.Contains(buf.String(), "pw") {
		t.Errorf("log leaks the password:\n%s", buf)
	}
}

func TestClassificationFiltering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		class    string
		classes  []string
		wantUser string
	}{
		{"no classifications: every request", "browser", nil, "a"},
		{"exact match", "browser", []string{"browser"}, "a"},
		{"set match", "dav", []string{"browser", "dav"}, "a"},
		{"substring no longer matches", "brow", []string{"browser"}, ""},
		{"empty classification matches only unrestricted", "", []string{"browser"}, ""},
		{"unused never runs", "unused", []string{who.Unused}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, who.Config{
				Classifier:     func(*http.Request) string { return tc.class },
				Identifiers:    []who.Entry{{Name: "i", Plugin: fixedID(who.Identity{who.KeyLogin: "a"}), Classifications: tc.classes}},
				Authenticators: entries("a", acceptLogin("")),
			})
			var uid, class string
			do(m, func(w http.ResponseWriter, r *http.Request) {
				uid, class = who.UserID(r.Context()), who.Classification(r.Context())
			}, get("/"))
			if uid != tc.wantUser || class != tc.class {
				t.Errorf("user %q class %q, want %q %q", uid, class, tc.wantUser, tc.class)
			}
		})
	}
}

func TestIdentifierReplacesHandler(t *testing.T) {
	t.Parallel()
	form := cookieID()
	inner := form.identify
	form.identify = func(r *http.Request) (who.Identity, error) {
		if r.URL.Path == "/login_handler" {
			who.ReplaceHandler(r, http.RedirectHandler("/welcome", http.StatusFound))
			return who.Identity{who.KeyLogin: "carol"}, nil
		}
		return inner(r)
	}
	m := mustNew(t, who.Config{Identifiers: entries("form", form), Authenticators: entries("a", acceptLogin(""))})
	appRan := false
	rec := do(m, func(http.ResponseWriter, *http.Request) { appRan = true }, httptest.NewRequest("POST", "/login_handler", nil))
	if appRan {
		t.Error("the downstream handler ran")
	}
	if rec.Code != 302 || rec.Header().Get("Location") != "/welcome" || rec.Header().Get("Set-Cookie") != "tkt=carol" {
		t.Errorf("got %d %v, want the replacement's 302 with the remember header", rec.Code, rec.Header())
	}
	if who.ReplaceHandler(get("/"), http.NotFoundHandler()) {
		t.Error("ReplaceHandler without the middleware reported true")
	}
}

func TestWrongStageIsAnError(t *testing.T) {
	t.Parallel()
	_, err := who.New(who.Config{Authenticators: entries("c", &challenger{name: "c"})})
	if !errors.Is(err, who.ErrWrongStage) || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("err = %v, want ErrWrongStage naming the plugin", err)
	}
}

func TestPassThrough(t *testing.T) {
	t.Parallel()
	auth := acceptLogin("")
	m := mustNew(t, who.Config{
		TrustedUserHeader: "X-Remote-User",
		Identifiers:       entries("i", cookieID()),
		Authenticators:    entries("a", auth),
	})
	var uid string
	rec := do(m, func(w http.ResponseWriter, r *http.Request) { uid = who.UserID(r.Context()) },
		get("/", "X-Remote-User", "proxyuser", "X-Login", "bob"))
	if uid != "proxyuser" || auth.calls.Load() != 0 || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("uid %q calls %d headers %v: a trusted header bypasses the chain", uid, auth.calls.Load(), rec.Header())
	}
	// An empty header is absent (cherokee sets REMOTE_USER="").
	do(m, func(w http.ResponseWriter, r *http.Request) { uid = who.UserID(r.Context()) },
		get("/", "X-Remote-User", "", "X-Login", "bob"))
	if uid != "bob" {
		t.Errorf("uid %q, want the chain to run for an empty header", uid)
	}
	// Nested middleware: the outer result passes through the inner chain.
	inner := mustNew(t, who.Config{Identifiers: entries("i", fixedID(who.Identity{who.KeyLogin: "other"})), Authenticators: entries("a", auth)})
	rec = httptest.NewRecorder()
	m.Wrap(inner.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { uid = who.UserID(r.Context()) }))).
		ServeHTTP(rec, get("/", "X-Login", "bob"))
	if uid != "bob" {
		t.Errorf("uid %q, want the outer chain's user", uid)
	}
}

func TestRemoteUserKey(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		RemoteUserKey:  "Remote-User",
		Identifiers:    entries("i", cookieID()),
		Authenticators: entries("a", acceptLogin("")),
	})
	var got string
	h := func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Remote-User") }
	do(m, h, get("/", "Remote-User", "forged"))
	if got != "" {
		t.Errorf("a client-sent Remote-User reached the handler: %q", got)
	}
	do(m, h, get("/", "Remote-User", "forged", "X-Login", "bob"))
	if got != "bob" {
		t.Errorf("Remote-User %q, want bob", got)
	}
}

// TestRepeatedFailuresLoggedOnce: a backend down under load logs its first
// failure at once and counts the rest (see TestFailureLogSummarises for the
// summaries); before, every request logged a line.
func TestRepeatedFailuresLoggedOnce(t *testing.T) {
	t.Parallel()
	log, buf := logBuffer()
	down := &authFunc{fn: func(who.Identity) (string, error) { return "", errors.New("ldap down") }}
	m := mustNew(t, who.Config{
		Logger:         log,
		Identifiers:    entries("ok", fixedID(who.Identity{who.KeyLogin: "a"})),
		Authenticators: entries("ldap", down),
	})
	for range 500 {
		do(m, status(200, ""), get("/"))
	}
	if n := strings.Count(buf.String(), `msg="who: authenticator failed" `); n != 1 || down.calls.Load() != 500 {
		t.Errorf("%d lines for %d failures, want 1", n, down.calls.Load())
	}
}
