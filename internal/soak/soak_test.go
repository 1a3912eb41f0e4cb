// Package soak_test drives three real chains under load while their
// backends (slapd, memcached, Redis) are killed and restarted, and checks
// that gowho never answers with the wrong user, recovers quickly and leaks
// nothing. It runs only with GOWHO_SOAK=1 (see .ci/run).
package soak_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/testserver"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
)

// maxSoak bounds the soak however GOWHO_SOAK_DURATION is set.
const maxSoak = 2 * time.Minute

// recoveryBound is how soon after a backend is back a login must work.
const recoveryBound = 2 * time.Second

// soakDuration reads GOWHO_SOAK_DURATION (default and bound: 2 minutes).
func soakDuration(t *testing.T) time.Duration {
	d := maxSoak
	if s := os.Getenv("GOWHO_SOAK_DURATION"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("GOWHO_SOAK_DURATION=%q: %v", s, err)
		}
		d = min(v, maxSoak)
	}
	return d
}

// chain is one served chain: its name, the server, the backend whose
// outage it lives through, and how to log in.
type chain struct {
	name    string
	srv     *httptest.Server
	cfg     *config.Chain
	backend *testserver.Server
	users   map[string]string // login -> password
}

// app is the application behind every chain: POST /login logs in with the
// API (the chain's rememberer keeps the login), GET /whoami answers the
// userid or 401.
func app(identifier string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		api := who.APIFrom(r)
		res, h := api.Login(who.Identity{"login": r.FormValue("login"), "password": r.FormValue("password")}, identifier)
		for k, vs := range h {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if res == nil {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, res.UserID)
	})
	mux.Handle("GET /whoami", who.Require(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, who.UserID(r.Context()))
	})))
	return mux
}

func serve(t *testing.T, name, toml, identifier string, backend *testserver.Server, users map[string]string) *chain {
	t.Helper()
	dir := t.TempDir()
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	var passwd strings.Builder
	for u, pw := range users {
		fmt.Fprintf(&passwd, "%s:%s\n", u, hash(pw))
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(passwd.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Parse(filepath.Join(dir, "who.toml"), []byte(toml), config.Options{Logger: logger})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	srv := httptest.NewServer(cfg.Handler(app(identifier)))
	return &chain{name: name, srv: srv, cfg: cfg, backend: backend, users: users}
}

// client is one simulated user of one chain.
type client struct {
	c     *chain
	login string
	http  *http.Client
}

func newClient(c *chain, login string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{c: c, login: login, http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// errWrongUser is the one failure that must never happen.
var errWrongUser = errors.New("answered as another user")

// loginOnce logs in and reports whether it worked; a body naming another
// user is errWrongUser.
func (cl *client) loginOnce() (bool, error) {
	return cl.answer("login")(cl.http.PostForm(cl.c.srv.URL+"/login", url.Values{"login": {cl.login}, "password": {cl.c.users[cl.login]}}))
}

// whoami asks who the cookie says this client is.
func (cl *client) whoami() (bool, error) {
	return cl.answer("cookie")(cl.http.Get(cl.c.srv.URL + "/whoami"))
}

// answer reads a response: a 200 must name this client's user (else
// errWrongUser); anything else, a timeout or a reset included, is a
// refusal, not a wrong answer.
func (cl *client) answer(what string) func(*http.Response, error) (bool, error) {
	return func(res *http.Response, err error) (bool, error) {
		if err != nil {
			return false, nil
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return false, nil
		}
		if string(body) != cl.login {
			return false, fmt.Errorf("%s: %s of %s: %w %q", cl.c.name, what, cl.login, errWrongUser, body)
		}
		return true, nil
	}
}

func openFiles() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestSoak is the soak of the reliability issue: logins and cookie requests
// on three chains while slapd, memcached and Redis are killed and
// restarted.
func TestSoak(t *testing.T) {
	if os.Getenv("GOWHO_SOAK") != "1" {
		t.Skip("the soak runs with GOWHO_SOAK=1 (GOWHO_SOAK_DURATION bounds it, at most 2m)")
	}
	duration := soakDuration(t)
	slapd := testserver.Slapd(t, testserver.SlapdOptions{Seed: true})
	cacheMC := testserver.Memcached(t)
	storeMC := testserver.Memcached(t)
	redis := testserver.Redis(t)
	baseGoroutines, baseFiles := runtime.NumGoroutine(), openFiles()

	ldapUsers := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		ldapUsers[u] = u + "-pass"
	}
	localUsers := map[string]string{"alice": "wonderland", "bob": "builder", "carol": "carol-pw", "dave": "dave-pw"}

	ldapChain := serve(t, "form+auth_tkt+cached ldap", fmt.Sprintf(`
[plugin.auth_tkt]
use = "authtkt"
secret = "soak-secret-soak-secret-soak-secret"
digest_algo = "sha256"
[plugin.ldap]
use = "ldap"
url = %q
base_dn = %q
bind_dn = %q
bind_password = %q
filter = "(uid=%%s)"
timeout = "1s"
[plugin.cached_ldap]
use = "memcached"
authenticator_name = "ldap"
memcached_urls = [%q]
secret = "soak-cache-secret-soak-cache-secret"
ttl = "5m"
[plugin.basicauth]
use = "basicauth"
[identifiers]
plugins = ["auth_tkt", "basicauth"]
[authenticators]
plugins = ["auth_tkt", "cached_ldap", "ldap;unused"]
[challengers]
plugins = ["basicauth"]
`, slapd.URL, testserver.PeopleDN, testserver.ReaderDN, testserver.ReaderPassword, cacheMC.Addr), "auth_tkt", slapd, ldapUsers)

	sessionChain := func(name, store string, backend *testserver.Server) *chain {
		return serve(t, name, fmt.Sprintf(`
[plugin.sessions]
use = "session"
%s
[plugin.sessionid]
use = "sessionid"
session_name = "sessions"
delete_on_logout = true
[plugin.htpasswd]
use = "htpasswd"
filename = "passwd"
[plugin.basicauth]
use = "basicauth"
[identifiers]
plugins = ["sessionid", "basicauth"]
[authenticators]
plugins = ["sessionid", "htpasswd"]
[challengers]
plugins = ["basicauth"]
`, store), "sessionid", backend, localUsers)
	}
	redisChain := sessionChain("redis sessions", fmt.Sprintf("store = \"redis\"\nredis_url = \"redis://%s/0\"", redis.Addr), redis)
	mcChain := sessionChain("memcached sessions", fmt.Sprintf("store = \"memcached\"\nmemcached_urls = [%q]", storeMC.Addr), storeMC)
	chains := []*chain{ldapChain, redisChain, mcChain}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()

	var (
		wrong    atomic.Int64
		ok, fail atomic.Int64
		errMu    sync.Mutex
		firstErr error
	)
	record := func(good bool, err error) {
		if err != nil {
			wrong.Add(1)
			errMu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			errMu.Unlock()
		}
		if good {
			ok.Add(1)
		} else {
			fail.Add(1)
		}
	}

	// Load: per chain and user, one client that logs in, then asks who it
	// is a few times, and starts over.
	var load sync.WaitGroup
	for _, c := range chains {
		for login := range c.users {
			load.Add(1)
			go func() {
				defer load.Done()
				for ctx.Err() == nil {
					cl := newClient(c, login)
					good, err := cl.loginOnce()
					record(good, err)
					for range 5 {
						if ctx.Err() != nil {
							return
						}
						record(cl.whoami())
					}
				}
			}()
		}
	}

	// Chaos: kill one backend, keep it down a while, restart it, and
	// measure how long until a fresh login on its chain works again.
	var recoveries []string
	rng := rand.New(rand.NewPCG(1, 2))
	for ctx.Err() == nil {
		c := chains[rng.IntN(len(chains))]
		if c == ldapChain && rng.IntN(2) == 0 {
			// The cache's memcached: logins must keep working through LDAP.
			cacheMC.Stop()
			waitOrDone(ctx, 2*time.Second)
			cacheMC.Start()
			continue
		}
		c.backend.Stop()
		waitOrDone(ctx, time.Duration(1000+rng.IntN(2000))*time.Millisecond)
		c.backend.Start()
		if ctx.Err() != nil {
			break
		}
		restarted := time.Now()
		recovered := false
		for time.Since(restarted) < 10*time.Second {
			// A user the load does not use, so no cache answers for it.
			probe := newClient(c, "alice")
			if good, err := probe.loginOnce(); err != nil {
				record(false, err)
			} else if good {
				if good, _ := probe.whoami(); good {
					recovered = true
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		took := time.Since(restarted)
		recoveries = append(recoveries, fmt.Sprintf("%s %v", c.name, took.Round(time.Millisecond)))
		if !recovered || took > recoveryBound {
			t.Errorf("%s: a login worked again %v after its backend restarted (bound %v, recovered=%v)", c.name, took, recoveryBound, recovered)
		}
		waitOrDone(ctx, time.Second)
	}
	load.Wait()
	t.Logf("requests answered as their own user: %d, refused: %d; recoveries: %s", ok.Load(), fail.Load(), strings.Join(recoveries, ", "))
	if n := wrong.Load(); n > 0 {
		t.Fatalf("%d answers named another user; first: %v", n, firstErr)
	}
	if ok.Load() == 0 {
		t.Fatal("no request succeeded")
	}

	// Everything closed: goroutines and open files back to the baseline.
	for _, c := range chains {
		c.srv.Close()
		if err := c.cfg.Close(); err != nil {
			t.Errorf("%s: Close: %v", c.name, err)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, f := runtime.NumGoroutine(), openFiles()
		if g <= baseGoroutines+10 && f <= baseFiles+10 {
			t.Logf("goroutines %d (baseline %d), open files %d (baseline %d)", g, baseGoroutines, f, baseFiles)
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d (baseline %d), open files %d (baseline %d) after closing every chain:\n%s",
				g, baseGoroutines, f, baseFiles, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitOrDone waits d or until ctx ends.
func waitOrDone(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
