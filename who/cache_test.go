package who_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/who"
)

// TestCookieResponsesArePrivate: every response that carries a Set-Cookie
// from gowho (remember, forget on a challenge, Login's and Logout's
// headers) gets Cache-Control: private (unless no-store/private) and
// Vary: Cookie; other responses keep the application's cache headers.
func TestCookieResponsesArePrivate(t *testing.T) {
	t.Parallel()
	copyHeaders := func(w http.ResponseWriter, h http.Header) {
		for k, vs := range h {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	app := func(cc string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", cc)
			w.Header().Set("Vary", "Accept-Encoding")
			_, _ = w.Write([]byte("page"))
		}
	}
	tests := []struct {
		name     string
		login    string // X-Login header: the tkt identifier finds it
		plain    bool   // the user comes from an identifier that remembers nothing
		handler  http.HandlerFunc
		wantCC   string
		wantVary []string
	}{
		{name: "remember on a public page", login: "bob", handler: app("public, max-age=60"),
			wantCC: "private, max-age=60", wantVary: []string{"Accept-Encoding", "Cookie"}},
		{name: "remember on a no-store page", login: "bob", handler: app("no-store"),
			wantCC: "no-store", wantVary: []string{"Accept-Encoding", "Cookie"}},
		{name: "no gowho cookie: untouched", plain: true, handler: app("public, max-age=60"),
			wantCC: "public, max-age=60", wantVary: []string{"Accept-Encoding"}},
		{name: "anonymous, the app's own cookie: untouched", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Set-Cookie", "app=1")
			app("public")(w, r)
		}, wantCC: "public", wantVary: []string{"Accept-Encoding"}},
		{name: "challenge with forget headers", login: "bob", handler: status(401, "no"),
			wantCC: "private", wantVary: []string{"Cookie"}},
		{name: "Login headers", handler: func(w http.ResponseWriter, r *http.Request) {
			_, h := who.APIFrom(r).Login(who.Identity{who.KeyLogin: "carol"}, "tkt")
			copyHeaders(w, h)
			app("public, max-age=60")(w, r)
		}, wantCC: "private, max-age=60", wantVary: []string{"Accept-Encoding", "Cookie"}},
		{name: "Logout headers", login: "bob", handler: func(w http.ResponseWriter, r *http.Request) {
			copyHeaders(w, who.APIFrom(r).Logout(""))
			app("public")(w, r)
		}, wantCC: "private", wantVary: []string{"Accept-Encoding", "Cookie"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ids := entries("tkt", cookieID())
			if tc.plain {
				ids = entries("plain", plainIdentifier{id: who.Identity{who.KeyLogin: "x"}})
			}
			m := mustNew(t, who.Config{
				Identifiers:    ids,
				Authenticators: entries("a", acceptLogin("")),
				Challengers:    entries("c", &challenger{name: "c"}),
			})
			req := get("/")
			if tc.login != "" {
				req.Header.Set("X-Login", tc.login)
			}
			rec := do(m, tc.handler, req)
			if got := rec.Header().Get("Cache-Control"); got != tc.wantCC {
				t.Errorf("Cache-Control %q, want %q (Set-Cookie %q)", got, tc.wantCC, rec.Header()["Set-Cookie"])
			}
			if diff := cmp.Diff(tc.wantVary, rec.Header()["Vary"]); diff != "" {
				t.Errorf("Vary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAPILoginChecksCredentialsOnce: with several identifiers selected,
// each authenticator sees the credentials once (before, once per
// identifier: three bcrypt checks or LDAP binds for one wrong password),
// and every selected identifier still remembers or forgets.
func TestAPILoginChecksCredentialsOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		password   string
		wantUser   string
		wantCookie []string
	}{
		{"wrong password", "nope", "", []string{"tkt=INVALID; Max-Age=0", "t2=INVALID"}},
		{"right password", "wonderland", "alice", []string{"tkt=alice", "t2=alice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pw := &authFunc{fn: func(id who.Identity) (string, error) {
				if id.Str(who.KeyLogin) == "alice" && id.Str(who.KeyPassword) == "wonderland" {
					return "alice", nil
				}
				return "", nil
			}}
			other := &authFunc{fn: func(who.Identity) (string, error) { return "", nil }}
			t2 := cookieID()
			t2.remember = func(_ *http.Request, id who.Identity) http.Header {
				return http.Header{"Set-Cookie": {"t2=" + id.Str(who.KeyUserID)}}
			}
			t2.forget = func(*http.Request, who.Identity) http.Header { return http.Header{"Set-Cookie": {"t2=INVALID"}} }
			cfg := who.Config{
				Identifiers:    entries("tkt", cookieID(), "basic", plainIdentifier{}, "t2", t2),
				Authenticators: entries("other", other, "pw", pw),
			}
			withAPI(t, cfg, get("/"), func(w http.ResponseWriter, r *http.Request, api *who.API) {
				res, h := api.Login(who.Identity{who.KeyLogin: "alice", who.KeyPassword: tc.password}, "")
				if got := who.UserID(r.Context()); got != tc.wantUser {
					t.Errorf("user %q, want %q", got, tc.wantUser)
				}
				if res != nil && res.Identifier != "tkt" {
					t.Errorf("result found by %q, want the first identifier", res.Identifier)
				}
				if diff := cmp.Diff(tc.wantCookie, h["Set-Cookie"]); diff != "" {
					t.Errorf("Login headers (-want +got):\n%s", diff)
				}
			})
			if pw.calls.Load() != 1 || other.calls.Load() != 1 {
				t.Errorf("authenticators called %d and %d times for one Login, want once each", other.calls.Load(), pw.calls.Load())
			}
		})
	}
}

// silentChallenger adds the forget headers and a cookie of its own and
// returns without writing: net/http then sends them with a 200.
type silentChallenger struct{}

func (silentChallenger) Challenge(_ *http.Request, _ int, _, forget http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, vs := range forget {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Add("Set-Cookie", "came_from=/x")
	})
}

// TestChallengeWithoutWriteIsPrivate: a challenger that sets a cookie and
// writes nothing still gets Cache-Control private and Vary: Cookie (before,
// the check ran only on its WriteHeader, Write or Flush).
func TestChallengeWithoutWriteIsPrivate(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		Identifiers:    entries("tkt", cookieID()),
		Authenticators: entries("a", acceptLogin("")),
		Challengers:    entries("c", silentChallenger{}),
	})
	rec := do(m, status(401, "no"), get("/", "X-Login", "bob"))
	if got := rec.Header().Get("Cache-Control"); got != "private" || len(rec.Header()["Set-Cookie"]) == 0 {
		t.Errorf("Cache-Control %q, want private (Set-Cookie %q)", got, rec.Header()["Set-Cookie"])
	}
	if diff := cmp.Diff([]string{"Cookie"}, rec.Header()["Vary"]); diff != "" {
		t.Errorf("Vary (-want +got):\n%s", diff)
	}
}

// answeringChallenger answers with answer, which sets a cookie of the
// challenger's own at some point.
type answeringChallenger struct{ answer http.HandlerFunc }

func (c answeringChallenger) Challenge(*http.Request, int, http.Header, http.Header) http.Handler {
	return c.answer
}

// TestChallengerAnswersArePrivate: however a challenger starts its answer
// (Write without WriteHeader, a Flush, a 103 before it sets its cookie),
// the response that leaves with its Set-Cookie is Cache-Control: private
// and Vary: Cookie, as a client sees it over a real connection.
func TestChallengerAnswersArePrivate(t *testing.T) {
	t.Parallel()
	setCookie := func(w http.ResponseWriter) { w.Header().Add("Set-Cookie", "came_from=/x") }
	tests := []struct {
		name   string
		answer http.HandlerFunc
		status int
	}{
		{"WriteHeader", func(w http.ResponseWriter, _ *http.Request) {
			setCookie(w)
			w.WriteHeader(http.StatusUnauthorized)
		}, http.StatusUnauthorized},
		{"Write without WriteHeader", func(w http.ResponseWriter, _ *http.Request) {
			setCookie(w)
			_, _ = w.Write([]byte("log in"))
		}, http.StatusOK},
		{"Flush first", func(w http.ResponseWriter, _ *http.Request) {
			setCookie(w)
			_ = http.NewResponseController(w).Flush()
			_, _ = w.Write([]byte("log in"))
		}, http.StatusOK},
		{"103 before the cookie", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Link", "</login.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			setCookie(w)
			w.WriteHeader(http.StatusUnauthorized)
		}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, who.Config{Challengers: entries("c", answeringChallenger{tc.answer})})
			srv := httptest.NewServer(m.Wrap(status(http.StatusUnauthorized, "no")))
			t.Cleanup(srv.Close)
			client := srv.Client()
			client.Timeout = 30 * time.Second
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Set-Cookie") != "came_from=/x" {
				t.Fatalf("got %d with Set-Cookie %q, want %d with the challenger's cookie", resp.StatusCode, resp.Header.Get("Set-Cookie"), tc.status)
			}
			if got := resp.Header.Get("Cache-Control"); got != "private" {
				t.Errorf("Cache-Control %q, want private", got)
			}
			if diff := cmp.Diff([]string{"Cookie"}, resp.Header["Vary"]); diff != "" {
				t.Errorf("Vary (-want +got):\n%s", diff)
			}
		})
	}
}
