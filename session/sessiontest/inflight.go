package sessiontest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// inFlightTimeout bounds every wait of the in-flight suites.
const inFlightTimeout = 10 * time.Second

// The ways a request in flight may save the session it loaded after
// another request ended it.
const (
	modeSet   = "set"   // a change: the record is saved
	modeTouch = "touch" // no change, but the idle deadline moves (a touch)
	modeRenew = "renew" // RenewID and a change: a new record (a login)
)

// inFlightApp serves, behind a manager on st with clock c, /login?u=X
// (remembers X as plugins/sessionid does), /who (writes the userid and
// "v", as "uid|v"), /destroy (Session.Destroy) and /slow?mode=M: it loads
// the session, sends on loaded, waits for release to be closed, then
// saves as M says.
func inFlightApp(t *testing.T, st session.Store, c *clock, loaded chan<- struct{}, release <-chan struct{}) (*session.Manager, *httptest.Server) {
	m, err := session.New(session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r).Set(KeyName, map[string]any{who.KeyUserID: r.URL.Query().Get("u")}); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("/who", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r)
		v, _ := s.Get(KeyName).(map[string]any)
		uid, _ := v[who.KeyUserID].(string)
		if uid == "" && s.GetString("v") == "" {
			return // anonymous: ""
		}
		fmt.Fprintf(w, "%s|%s", uid, s.GetString("v"))
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r).Destroy(); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r)
		if err := s.Load(); err != nil {
			t.Errorf("/slow: Load: %v", err)
			return
		}
		loaded <- struct{}{}
		select {
		case <-release:
		case <-time.After(inFlightTimeout):
			t.Error("/slow: never released")
			return
		}
		switch mode := r.URL.Query().Get("mode"); mode {
		case modeSet:
			err = s.Set("v", "written back")
		case modeRenew:
			if err = s.RenewID(); err == nil {
				err = s.Set("v", "renewed")
			}
		case modeTouch:
			// Saved because the clock moved past a sixteenth of the
			// idle timeout since the last save.
		default:
			err = fmt.Errorf("unknown mode %q", mode)
		}
		if err != nil {
			t.Errorf("/slow: %v", err)
		}
	})
	srv := httptest.NewServer(m.Wrap(mux))
	t.Cleanup(srv.Close)
	return m, srv
}

// slowResult is what the /slow request got.
type slowResult struct {
	status  int
	cookies []*http.Cookie
	err     error
}

// runInFlight is the case "a destroyed session stays destroyed": a
// request loads a logged-in session, and while it runs, end (a
// Session.Destroy from another request, or Manager.DestroyUser) ends
// it; then the request saves as mode says. After it, the session
// is gone: the browser's cookie, and any cookie the slow response set,
// are anonymous. With a session.SaveInfoStore the manager also drops the
// save and expires the cookie. For modeRenew the renewed session is a new
// record (a login) and is kept, while the old cookie stays dead.
func runInFlight(t *testing.T, st session.Store, mode string, end func(t *testing.T, m *session.Manager, srv *httptest.Server, cookie, uid string)) {
	c := &clock{t: time.Now()}
	loaded, release := make(chan struct{}, 1), make(chan struct{})
	m, srv := inFlightApp(t, st, c, loaded, release)
	uid := uniq("alice")
	ck := login(t, srv, "", uid, false)
	if body, _ := get(t, srv, "/who", ck); body != uid+"|" {
		t.Fatalf("after login /who = %q; want %q", body, uid+"|")
	}
	if mode == modeTouch {
		c.add(2 * time.Minute) // past 10m/16: the next request touches the record
	}
	done := make(chan slowResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*inFlightTimeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow?mode="+mode, nil)
		req.Header.Set("Cookie", session.DefaultCookieName+"="+ck)
		resp, err := srv.Client().Do(req)
		if err != nil {
			done <- slowResult{err: err}
			return
		}
		_ = readAll(resp)
		resp.Body.Close()
		done <- slowResult{status: resp.StatusCode, cookies: resp.Cookies()}
	}()
	select {
	case <-loaded:
	case <-time.After(inFlightTimeout):
		t.Fatal("the slow request never loaded its session")
	}
	end(t, m, srv, ck, uid)
	close(release)
	var res slowResult
	select {
	case res = <-done:
	case <-time.After(2 * inFlightTimeout):
		t.Fatal("the slow request never finished")
	}
	if res.err != nil || res.status != http.StatusOK {
		t.Fatalf("slow request: status %d, err %v; want 200", res.status, res.err)
	}
	var set []string
	expired := false
	for _, k := range res.cookies {
		if k.Name != session.DefaultCookieName {
			continue
		}
		if k.MaxAge < 0 {
			expired = true
		} else {
			set = append(set, k.Value)
		}
	}
	if body, _ := get(t, srv, "/who", ck); body != "" {
		t.Errorf("the ended session's cookie after the slow request: /who = %q; want anonymous", body)
	}
	if mode == modeRenew {
		if len(set) != 1 {
			t.Fatalf("renewed in flight: cookies %v; want one new session cookie", res.cookies)
		}
		if body, _ := get(t, srv, "/who", set[0]); body != uid+"|renewed" {
			t.Errorf("renewed in flight: the new session's /who = %q; want %q (a new record is kept)", body, uid+"|renewed")
		}
		return
	}
	for _, v := range set {
		if body, _ := get(t, srv, "/who", v); body != "" {
			t.Errorf("the cookie the slow request set: /who = %q; want anonymous (the session was written back)", body)
		}
	}
	if _, ok := st.(session.SaveInfoStore); ok && (len(set) != 0 || !expired) {
		t.Errorf("slow request's session cookies: set %d, expired %v; want none set and the cookie expired", len(set), expired)
	}
}

// destroyFromAnotherRequest ends the session with Session.Destroy in
// another request carrying the same cookie.
func destroyFromAnotherRequest(t *testing.T, _ *session.Manager, srv *httptest.Server, cookie, _ string) {
	t.Helper()
	get(t, srv, "/destroy", cookie)
	if body, _ := get(t, srv, "/who", cookie); body != "" {
		t.Fatalf("right after /destroy: /who = %q; want anonymous", body)
	}
}

// destroyUser ends the session with Manager.DestroyUser.
func destroyUser(t *testing.T, m *session.Manager, _ *httptest.Server, _, uid string) {
	t.Helper()
	if n, err := m.DestroyUser(context.Background(), uid); err != nil || n != 1 {
		t.Fatalf("DestroyUser = %d, %v; want 1, nil", n, err)
	}
}
