package sessionid_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/plugins/sessionid"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	_ "github.com/gowho/gowho/session/sessionplugin"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// testAuth accepts login == password and adds userdata.
type testAuth struct{}

func (testAuth) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	l := id.Str(who.KeyLogin)
	if l == "" || id.Str(who.KeyPassword) != l {
		return "", nil
	}
	id[who.KeyUserData] = "data-of-" + l
	return l, nil
}

func init() {
	who.Register("sessionid-test-auth", func(spec who.PluginSpec) (any, error) {
		return testAuth{}, spec.Decode(&struct{}{})
	})
}

const secret = "0123456789abcdef0123456789abcdef"

// toml returns a configuration with the session options store and the
// sessionid options sid.
func toml(store, sid string) string {
	return `
[plugin.sessions]
use = "session"
` + store + `

[plugin.sessionid]
use = "sessionid"
` + sid + `

[plugin.auth]
use = "sessionid-test-auth"

[identifiers]
plugins = ["sessionid"]
[authenticators]
plugins = ["sessionid", "auth"]
`
}

// app is a test application behind the chain loaded from src.
type app struct {
	*httptest.Server
	log   *whotest.LogBuffer
	chain *config.Chain
}

func newApp(t *testing.T, src string) *app {
	t.Helper()
	log := &whotest.LogBuffer{}
	c, err := config.Parse("who.toml", []byte(src), config.Options{Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/public", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "public") })
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		res := who.ResultFrom(r.Context())
		if res == nil {
			io.WriteString(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "%s %s", res.UserID, res.Identity.Str(who.KeyUserData))
	})
	mux.HandleFunc("/note", func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("set"); v != "" {
			_ = session.From(r).Set("note", v)
		}
		io.WriteString(w, session.From(r).GetString("note"))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		u := r.URL.Query().Get("u")
		res, h := who.APIFrom(r).Login(who.Identity{who.KeyLogin: u, who.KeyPassword: r.URL.Query().Get("p")}, "sessionid")
		for k, vs := range h {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if res == nil {
			http.Error(w, "bad login", http.StatusForbidden)
			return
		}
		io.WriteString(w, "welcome "+res.UserID)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range who.APIFrom(r).Logout("") {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		io.WriteString(w, "bye")
	})
	srv := httptest.NewServer(c.Handler(mux))
	a := &app{Server: srv, log: log, chain: c}
	t.Cleanup(a.close)
	return a
}

func (a *app) close() {
	a.Server.Close()
	_ = a.chain.Close()
}

// get requests path with the session cookie value (none when "") and
// returns status, body and the new session cookie value ("-" when it was
// expired, "" when none was set).
func (a *app) get(t *testing.T, path, cookie string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.URL+path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	set := ""
	for _, c := range resp.Cookies() {
		if c.Name == session.DefaultCookieName {
			set = c.Value
			if c.MaxAge < 0 {
				set = "-"
			}
		}
	}
	return resp.StatusCode, string(b), set
}

// stores returns the session store configurations to run on.
func stores(t *testing.T, withCookie bool) map[string]func(t *testing.T) string {
	m := map[string]func(t *testing.T) string{
		"file": func(t *testing.T) string { return fmt.Sprintf("store = \"file\"\ndata_dir = %q", t.TempDir()) },
		"memcached": func(t *testing.T) string {
			return fmt.Sprintf("store = \"memcached\"\nmemcached_urls = [%q]", testserver.Memcached(t).Addr)
		},
		"redis": func(t *testing.T) string {
			return fmt.Sprintf("store = \"redis\"\nredis_url = \"redis://%s/0\"", testserver.Redis(t).Addr)
		},
	}
	if withCookie {
		m["cookie"] = func(t *testing.T) string { return fmt.Sprintf("secret = %q", secret) }
		m["memory"] = func(t *testing.T) string { return `store = "memory"` }
	}
	return m
}

func TestFixation(t *testing.T) {
	for name, store := range stores(t, true) {
		t.Run(name, func(t *testing.T) {
			a := newApp(t, toml(store(t), ""))
			_, _, before := a.get(t, "/note?set=cart-1", "")
			if before == "" {
				t.Fatal("no session cookie before login")
			}
			code, body, after := a.get(t, "/login?u=alice&p=alice", before)
			if code != 200 || after == "" || after == before {
				t.Fatalf("login: %d %q; cookie before %q after %q: the id must change", code, body, before, after)
			}
			if _, body, _ := a.get(t, "/whoami", after); body != "alice data-of-alice" {
				t.Fatalf("after login: %q", body)
			}
			if _, body, _ := a.get(t, "/note", after); body != "cart-1" {
				t.Fatalf("data before login lost: %q", body)
			}
			if name != "cookie" { // a client-side session cannot be revoked elsewhere
				if _, body, _ := a.get(t, "/note", before); body != "" {
					t.Fatalf("the pre-login id still loads: %q", body)
				}
			}
			if _, body, _ := a.get(t, "/whoami", before); body != "anonymous" {
				t.Fatalf("the pre-login id is logged in: %q", body)
			}
		})
	}
}

func TestPlantedIDNotAdopted(t *testing.T) {
	a := newApp(t, toml(`store = "memory"`, ""))
	planted := session.NewID()
	_, _, after := a.get(t, "/login?u=alice&p=alice", planted)
	if after == planted || after == "" {
		t.Fatalf("planted id %q adopted (cookie %q)", planted, after)
	}
	if _, body, _ := a.get(t, "/whoami", planted); body != "anonymous" {
		t.Fatalf("planted id logged in: %q", body)
	}
}

func TestLogout(t *testing.T) {
	tests := []struct {
		name, sid, note string
	}{
		{"delete_on_logout", "delete_on_logout = true", ""},
		{"keep session", "", "kept"},
	}
	for name, store := range stores(t, true) {
		for _, tc := range tests {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				a := newApp(t, toml(store(t), tc.sid))
				_, _, c := a.get(t, "/login?u=alice&p=alice", "")
				if _, _, c2 := a.get(t, "/note?set=kept", c); c2 != "" {
					c = c2
				}
				code, body, out := a.get(t, "/logout", c)
				if code != 200 {
					t.Fatalf("logout: %d %q; log:\n%s", code, body, a.log)
				}
				if tc.sid != "" && out != "-" {
					t.Fatalf("delete_on_logout did not expire the cookie (%q)", out)
				}
				if _, body, _ := a.get(t, "/whoami", c); body != "anonymous" {
					t.Fatalf("replayed cookie after logout: %q", body)
				}
				if out != "" && out != "-" {
					c = out
				}
				if _, body, _ := a.get(t, "/note", c); body != tc.note {
					t.Fatalf("session data after logout: %q; want %q", body, tc.note)
				}
			})
		}
	}
}

func TestLoginSurvivesRestart(t *testing.T) {
	for name, store := range stores(t, false) {
		t.Run(name, func(t *testing.T) {
			src := toml(store(t), "")
			a := newApp(t, src)
			_, _, c := a.get(t, "/login?u=alice&p=alice", "")
			a.close()
			b := newApp(t, src) // a new process on the same store
			if _, body, _ := b.get(t, "/whoami", c); body != "alice data-of-alice" {
				t.Fatalf("after restart: %q", body)
			}
		})
	}
}

func TestStoreDown(t *testing.T) {
	servers := map[string]func(t *testing.T) (*testserver.Server, string){
		"memcached": func(t *testing.T) (*testserver.Server, string) {
			s := testserver.Memcached(t)
			return s, fmt.Sprintf("store = \"memcached\"\nmemcached_urls = [%q]", s.Addr)
		},
		"redis": func(t *testing.T) (*testserver.Server, string) {
			s := testserver.Redis(t)
			return s, fmt.Sprintf("store = \"redis\"\nredis_url = \"redis://%s/0\"", s.Addr)
		},
	}
	for name, start := range servers {
		t.Run(name, func(t *testing.T) {
			srv, store := start(t)
			a := newApp(t, toml(store, ""))
			_, _, c := a.get(t, "/login?u=alice&p=alice", "")
			srv.Stop()
			if code, body, _ := a.get(t, "/public", ""); code != 200 || body != "public" {
				t.Fatalf("no session, store down: %d %q", code, body)
			}
			code, body, _ := a.get(t, "/whoami", c)
			if code != http.StatusServiceUnavailable || strings.Contains(body, "alice") {
				t.Fatalf("session needed, store down: %d %q; want 503", code, body)
			}
			if !strings.Contains(a.log.String(), "session: request failed") {
				t.Fatalf("no log line: %s", a.log)
			}
			if code, _, _ := a.get(t, "/login?u=bob&p=bob", ""); code != http.StatusServiceUnavailable {
				t.Fatalf("login while the store is down: %d; want 503", code)
			}
			srv.Start()
			_, _, c = a.get(t, "/login?u=alice&p=alice", "")
			if code, body, _ := a.get(t, "/whoami", c); code != 200 || body != "alice data-of-alice" {
				t.Fatalf("after restart: %d %q", code, body)
			}
		})
	}
}

func TestBrowserFlow(t *testing.T) {
	a := newApp(t, toml(fmt.Sprintf("secret = %q", secret), "delete_on_logout = true"))
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	get := func(p string) string {
		resp, err := cl.Get(a.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, step := range []struct{ path, want string }{
		{"/whoami", "anonymous"},
		{"/login?u=bob&p=wrong", "bad login\n"},
		{"/login?u=bob&p=bob", "welcome bob"},
		{"/whoami", "bob data-of-bob"},
		{"/logout", "bye"},
		{"/whoami", "anonymous"},
	} {
		if got := get(step.path); got != step.want {
			t.Fatalf("GET %s = %q; want %q", step.path, got, step.want)
		}
	}
	u, _ := url.Parse(a.URL)
	if cs := jar.Cookies(u); len(cs) != 0 {
		t.Fatalf("cookies left after logout: %v", cs)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"missing manager", toml(`store = "memory"`, `session_name = "nosuch"`), `who.toml:8: [plugin.sessionid] (use = "sessionid"): key "session_name"`},
		{"not a manager", toml(`store = "memory"`, `session_name = "auth"`), "is not a session.Provider: sessionid: no session manager (declare one with use = \"session\")"},
		{"unknown store", toml(`store = "memcache"`, ""), `did you mean "memcached"`},
		{"cookie without secret", toml(``, ""), "secret"},
		{"short secret", toml(`secret = "abc"`, ""), "too short"},
		{"key of another store", toml("store = \"memory\"\nredis_url = \"redis://x\"", ""), "redis_url"},
		{"bad same_site", toml("store = \"memory\"\nsame_site = \"loose\"", ""), "same_site"},
		{"bad alsopersist", toml(`store = "memory"`, `alsopersist = ["password"]`), "alsopersist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("who.toml", []byte(tc.src), config.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestForeignIdentityRefused(t *testing.T) {
	t.Parallel()
	p, err := sessionid.New(sessionid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, id := range []who.Identity{{who.KeyUserID: "admin"}, {who.KeyLogin: "admin"}} {
		if uid, _ := p.Authenticate(r, id); uid != "" {
			t.Errorf("Authenticate(%v) = %q", id.Public(), uid)
		}
	}
	// Its own key, but no session holds it: refused.
	if uid, _ := p.Authenticate(r, who.Identity{sessionid.KeySessionUserID: "admin"}); uid != "" {
		t.Errorf("a forged identity was accepted: %q", uid)
	}
}

func TestRememberWritesOnlyChanges(t *testing.T) {
	t.Parallel()
	m, err := session.New(session.Options{Store: memstoreNew()})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := sessionid.New(sessionid.Options{Manager: m})
	var id string
	var isNew bool
	step := func(identity who.Identity, cookie string) string {
		h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.Remember(r, identity)
			id, isNew = session.From(r).ID(), session.From(r).IsNew()
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			return c.Value
		}
		return ""
	}
	alice := who.Identity{who.KeyUserID: "alice", who.KeyUserData: "u1", "unsupported": struct{}{}, who.KeyTokens: struct{}{}}
	c := step(alice, "")
	if c == "" {
		t.Fatal("first remember saved nothing")
	}
	if again := step(alice.Clone(), c); again != "" || isNew {
		t.Fatalf("unchanged identity rewrote the session (cookie %q, new %v)", again, isNew)
	}
	first := id
	changed := alice.Clone()
	changed[who.KeyUserData] = "u2"
	if c2 := step(changed, c); c2 != "" || id != first {
		t.Fatalf("new userdata for the same user: cookie %q, id changed %v; want an in-place save", c2, id != first)
	}
	bob := who.Identity{who.KeyUserID: "bob"}
	if c3 := step(bob, c); c3 == "" || c3 == c {
		t.Fatalf("another user: cookie %q; want a renewed id", c3)
	}
}

func memstoreNew() session.Store { return memstore.New(memstore.Options{}) }

// cancelStore fails every call with the context's error, as a store client
// does when the request that carries the context is cancelled.
type cancelStore struct{ session.Store }

func (cancelStore) Load(ctx context.Context, _ string) (string, []byte, bool, error) {
	return "", nil, false, ctx.Err()
}

func (cancelStore) Save(ctx context.Context, _ string, _ []byte, _ time.Time) (string, error) {
	return "", ctx.Err()
}

func (cancelStore) Delete(ctx context.Context, _ string) error { return ctx.Err() }

// A client that disconnects is not a store outage: no ERROR line.
func TestCancelledRequestNotLoggedAsError(t *testing.T) {
	t.Parallel()
	m, err := session.New(session.Options{Store: cancelStore{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	log := &whotest.LogBuffer{}
	p, _ := sessionid.New(sessionid.Options{Manager: m, DeleteOnLogout: true,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Remember(r, who.Identity{who.KeyUserID: "alice"})
		p.Forget(r, nil)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: "some-session-token"})
	h.ServeHTTP(httptest.NewRecorder(), req)
	if out := log.String(); strings.Contains(out, "level=ERROR") {
		t.Fatalf("a cancelled request was logged as a failure:\n%s", out)
	}
}

// TestMemoryStoreKeepsLoggedInUsers: the memory store evicts anonymous
// sessions before logged-in ones, and learns which is which from the
// record sessionid writes (session's record.authenticated), whatever its
// key_name: a flood of anonymous sessions must not log a user out.
func TestMemoryStoreKeepsLoggedInUsers(t *testing.T) {
	for _, sid := range []string{"", `key_name = "my.login"`} {
		t.Run("key_name="+sid, func(t *testing.T) {
			a := newApp(t, toml("store = \"memory\"\nmax_entries = 3", sid))
			_, _, c := a.get(t, "/login?u=alice&p=alice", "")
			if c == "" {
				t.Fatal("no session cookie at login")
			}
			for i := range 20 {
				if code, _, _ := a.get(t, fmt.Sprintf("/note?set=anon-%d", i), ""); code != http.StatusOK {
					t.Fatalf("anonymous request %d: %d", i, code)
				}
			}
			if _, body, _ := a.get(t, "/whoami", c); body != "alice data-of-alice" {
				t.Fatalf("after 20 anonymous sessions in a store of 3: %q; want alice still logged in", body)
			}
		})
	}
}

// TestSecretKeys (issue 12 item 16): the plugin is a who.SecretKeyer with
// no secret beyond the password (as loaded from who.toml), and an identity
// it gives back holds only the session's userid and the alsopersist keys:
// never the session id, nor the password of the identity it remembered.
func TestSecretKeys(t *testing.T) {
	t.Parallel()
	a := newApp(t, toml(`store = "memory"`, ""))
	p, _ := a.chain.Plugin("sessionid")
	sk, ok := p.(who.SecretKeyer)
	if !ok {
		t.Fatalf("%T is not a who.SecretKeyer", p)
	}
	if keys := sk.SecretKeys(); len(keys) != 0 {
		t.Errorf("SecretKeys %q, want none beyond the password", keys)
	}
	m, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	sid, err := sessionid.New(sessionid.Options{Manager: m})
	if err != nil {
		t.Fatal(err)
	}
	var got who.Identity
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid.Remember(r, who.Identity{who.KeyUserID: "bob", who.KeyPassword: "pw", who.KeyUserData: "d"})
		got, err = sid.Identify(r)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	for k := range got {
		if k != sessionid.KeySessionUserID && k != who.KeyUserData && k != who.KeyTokens {
			t.Errorf("identity key %q beyond the userid and alsopersist: %v", k, map[string]any(got))
		}
	}
}
