package sessiontest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// KeyName is where RunUserIndex's app keeps the logged-in identity, as
// plugins/sessionid does by default: {who.KeyUserID: uid} under
// "repoze.who.tkt".
const KeyName = "repoze.who.tkt"

// uniq returns name with a random suffix, so that subtests running in
// parallel on one backend (one Redis for every store newStore makes) do not
// see each other's users.
func uniq(name string) string { return name + "-" + session.NewID()[:8] }

// RunUserIndex runs the "log out everywhere" suite on stores made by
// newStore, which must implement session.UserIndexStore: DestroyUser ends
// every session of one user and no other, counts them, leaves anonymous
// sessions alone, follows a session that changed user (with and without a
// new id), finds a session saved with no expiry, and is not undone by a
// request in flight that loaded a session before it and saves it after.
func RunUserIndex(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Run("AwkwardUserIDs", func(t *testing.T) {
		// Userids that a store building keys or paths from them could
		// confuse: Redis Cluster hash tags ({…}), the prefix's ':'
		// separator, spaces, a path, one userid the prefix of another.
		// Each DestroyUser ends its user's session and no other.
		t.Parallel()
		m, srv := userApp(t, newStore(t))
		ctx := context.Background()
		tag := session.NewID()[:8]
		ids := []string{"a" + tag, "a" + tag + ":b", "{a" + tag + "}", "{a" + tag + "}:b c", "a" + tag + " ", "user:{" + tag + "}",
			"../" + tag + "/x", "ü " + tag + "\t"}
		cookies := make([]string, len(ids))
		for i, u := range ids {
			cookies[i] = login(t, srv, "", u, false)
		}
		for i, u := range ids {
			if n, err := m.DestroyUser(ctx, u); err != nil || n != 1 {
				t.Fatalf("DestroyUser(%q) = %d, %v; want 1, nil", u, n, err)
			}
			for j, c := range cookies {
				body, _ := get(t, srv, "/who", c)
				if want := ids[j]; j <= i {
					want = ""
					if body != want {
						t.Errorf("after DestroyUser(%q): %q's session is %q; want ended", u, ids[j], body)
					}
				} else if body != want {
					t.Errorf("after DestroyUser(%q): %q's session is %q; want it alive", u, ids[j], body)
				}
			}
		}
	})
	t.Run("DestroyUser", func(t *testing.T) {
		t.Parallel()
		m, srv := userApp(t, newStore(t))
		ctx := context.Background()
		uAlice, uBob := uniq("alice"), uniq("bob")
		var alice []string
		for range 3 { // three browsers
			alice = append(alice, login(t, srv, "", uAlice, false))
		}
		bob := login(t, srv, "", uBob, false)
		_, anon := get(t, srv, "/set?v=anon", "")
		n, err := m.DestroyUser(ctx, uAlice)
		if err != nil || n != 3 {
			t.Fatalf("DestroyUser(alice) = %d, %v; want 3, nil", n, err)
		}
		for i, c := range alice {
			if body, _ := get(t, srv, "/who", c); body != "" {
				t.Errorf("alice's session %d after DestroyUser: %q", i, body)
			}
		}
		if body, _ := get(t, srv, "/who", bob); body != uBob {
			t.Errorf("bob's session after DestroyUser(alice): %q; want bob", body)
		}
		if body, _ := get(t, srv, "/get", anon.Value); body != "anon" {
			t.Errorf("anonymous session after DestroyUser(alice): %q", body)
		}
		if n, err := m.DestroyUser(ctx, uAlice); err != nil || n != 0 {
			t.Errorf("DestroyUser(alice) again = %d, %v; want 0, nil", n, err)
		}
		if n, err := m.DestroyUser(ctx, "nobody"); err != nil || n != 0 {
			t.Errorf("DestroyUser(nobody) = %d, %v; want 0, nil", n, err)
		}
		if _, err := m.DestroyUser(ctx, ""); err == nil {
			t.Error("DestroyUser(\"\") = nil error")
		}
	})
	for _, renew := range []bool{false, true} {
		t.Run(fmt.Sprintf("UserSwitch/renew=%v", renew), func(t *testing.T) {
			t.Parallel()
			m, srv := userApp(t, newStore(t))
			ctx := context.Background()
			alice, bob := uniq("alice"), uniq("bob")
			c := login(t, srv, "", alice, false)
			c = login(t, srv, c, bob, renew) // the same browser, now bob
			if n, err := m.DestroyUser(ctx, alice); err != nil || n != 0 {
				t.Fatalf("DestroyUser(alice) after the switch = %d, %v; want 0, nil", n, err)
			}
			if body, _ := get(t, srv, "/who", c); body != bob {
				t.Fatalf("bob's session after DestroyUser(alice): %q; want %s", body, bob)
			}
			if n, err := m.DestroyUser(ctx, bob); err != nil || n != 1 {
				t.Fatalf("DestroyUser(bob) = %d, %v; want 1, nil", n, err)
			}
			if body, _ := get(t, srv, "/who", c); body != "" {
				t.Fatalf("bob's session after DestroyUser(bob): %q", body)
			}
		})
	}
	for _, mode := range []string{modeSet, modeTouch, modeRenew} {
		t.Run("InFlight/"+mode, func(t *testing.T) {
			t.Parallel()
			runInFlight(t, newStore(t), mode, destroyUser)
		})
	}
	t.Run("TopLevelUserID", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		m, err := session.New(session.Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		carol := uniq("carol")
		h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := session.From(r).Set(who.KeyUserID, carol); err != nil {
				t.Error(err)
			}
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if n, err := m.DestroyUser(context.Background(), carol); err != nil || n != 1 {
			t.Fatalf("DestroyUser(carol) = %d, %v; want 1, nil", n, err)
		}
	})
	t.Run("NoExpiry", func(t *testing.T) {
		t.Parallel()
		st := newStore(t).(session.UserIndexStore)
		ctx := context.Background()
		id, dave := session.NewID(), uniq("dave")
		if _, err := st.SaveInfo(ctx, id, []byte("r"), time.Time{}, session.SaveInfo{Authenticated: true, UserID: dave}); err != nil {
			t.Fatal(err)
		}
		ids, err := st.UserSessions(ctx, dave)
		if err != nil || len(ids) != 1 || ids[0] != id {
			t.Fatalf("UserSessions(dave) = %q, %v; want [%s]", ids, err, id)
		}
	})
	t.Run("ExpiredLeavesIndex", func(t *testing.T) {
		t.Parallel()
		st := newStore(t).(session.UserIndexStore)
		ctx := context.Background()
		erin := uniq("erin")
		if _, err := st.SaveInfo(ctx, session.NewID(), []byte("r"), time.Now().Add(300*time.Millisecond),
			session.SaveInfo{Authenticated: true, UserID: erin}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		if ids, err := st.UserSessions(ctx, erin); err != nil || len(ids) != 0 {
			t.Fatalf("UserSessions(erin) after expiry = %q, %v; want none", ids, err)
		}
	})
}

// userApp serves /login?u=X[&renew=1] (remembers X as plugins/sessionid
// does), /who (writes the userid), /get and /set behind a manager on st.
func userApp(t *testing.T, st session.Store) (*session.Manager, *httptest.Server) {
	m, err := session.New(session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r)
		if r.URL.Query().Get("renew") == "1" {
			if err := s.RenewID(); err != nil {
				t.Error(err)
			}
		}
		if err := s.Set(KeyName, map[string]any{who.KeyUserID: r.URL.Query().Get("u")}); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("/who", func(w http.ResponseWriter, r *http.Request) {
		v, _ := session.From(r).Get(KeyName).(map[string]any)
		uid, _ := v[who.KeyUserID].(string)
		fmt.Fprint(w, uid)
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r).Set("v", r.URL.Query().Get("v")); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, session.From(r).GetString("v"))
	})
	srv := httptest.NewServer(m.Wrap(mux))
	t.Cleanup(srv.Close)
	return m, srv
}

// login logs uid in on the session of cookie ("" for a new browser) and
// returns the session cookie's value after.
func login(t *testing.T, srv *httptest.Server, cookie, uid string, renew bool) string {
	t.Helper()
	path := "/login?u=" + url.QueryEscape(uid)
	if renew {
		path += "&renew=1"
	}
	_, c := get(t, srv, path, cookie)
	if c != nil {
		return c.Value
	}
	if cookie == "" {
		t.Fatalf("login %s: no session cookie", uid)
	}
	return cookie
}
