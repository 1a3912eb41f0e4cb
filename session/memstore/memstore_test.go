package memstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/session/sessiontest"
)

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return memstore.New(memstore.Options{}) })
}

func TestBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		o    memstore.Options
		size int
		max  int
	}{
		{"entries", memstore.Options{MaxEntries: 10}, 10, 10},
		{"bytes", memstore.Options{MaxBytes: 1000}, 100, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New(tc.o)
			for range 100 {
				if _, err := st.Save(ctx, session.NewID(), make([]byte, tc.size), time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			if n := st.Len(); n > tc.max {
				t.Fatalf("Len = %d; want <= %d", n, tc.max)
			}
		})
	}
}

// TestOversizedRecordEvictsNothing: a record larger than MaxBytes is not
// kept, and the sessions already held stay (before, each such save, even
// an anonymous one, evicted every session first).
func TestOversizedRecordEvictsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, auth := range []bool{false, true} {
		t.Run(fmt.Sprint("authenticated=", auth), func(t *testing.T) {
			st := memstore.New(memstore.Options{MaxBytes: 1000})
			var ids []string
			for range 5 {
				id := session.NewID()
				if _, err := st.SaveInfo(ctx, id, make([]byte, 100), exp, session.SaveInfo{Authenticated: auth}); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			big := session.NewID()
			if _, err := st.SaveInfo(ctx, big, make([]byte, 1001), exp, session.SaveInfo{Authenticated: auth}); err != nil {
				t.Fatal(err)
			}
			if _, _, found, _ := st.Load(ctx, big); found {
				t.Error("a record larger than MaxBytes was kept")
			}
			for _, id := range ids {
				if _, _, found, _ := st.Load(ctx, id); !found {
					t.Fatalf("a session was evicted for a record that cannot fit (Len = %d)", st.Len())
				}
			}
		})
	}
}

// TestAnonymousFloodKeepsUsers: a flood of anonymous sessions into a full
// store never evicts a logged-in one (security item 9); logged-in
// sessions make room for each other, oldest first.
func TestAnonymousFloodKeepsUsers(t *testing.T) {
	t.Parallel()
	st := memstore.New(memstore.Options{MaxEntries: 10})
	m, err := session.New(session.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(h http.HandlerFunc, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
		}
		rec := httptest.NewRecorder()
		m.Wrap(h).ServeHTTP(rec, req)
		return rec
	}
	cookieOf := func(rec *httptest.ResponseRecorder) string {
		for _, c := range rec.Result().Cookies() {
			if c.Name == session.DefaultCookieName {
				return c.Value
			}
		}
		t.Fatal("no session cookie")
		return ""
	}
	login := func(uid string) string { // what plugins/sessionid stores
		return cookieOf(serve(func(w http.ResponseWriter, r *http.Request) {
			_ = session.From(r).Set("repoze.who.tkt", map[string]any{"repoze.who.userid": uid})
		}, ""))
	}
	whoami := func(cookie string) string {
		return serve(func(w http.ResponseWriter, r *http.Request) {
			v, _ := session.From(r).Get("repoze.who.tkt").(map[string]any)
			uid, _ := v["repoze.who.userid"].(string)
			w.Write([]byte(uid))
		}, cookie).Body.String()
	}
	anonymous := func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Set("cart", "sku-1") }

	users := map[string]string{}
	for _, uid := range []string{"alice", "bob", "carol"} {
		users[uid] = login(uid)
	}
	for range 1000 {
		serve(anonymous, "")
	}
	for uid, c := range users {
		if got := whoami(c); got != uid {
			t.Fatalf("after an anonymous flood, %s's session gives %q", uid, got)
		}
	}
	if n := st.Len(); n > 10 {
		t.Fatalf("Len = %d; want <= 10", n)
	}
	// Full of users: an anonymous session is not kept, the users stay.
	for i := range 7 {
		users[fmt.Sprint("u", i)] = login(fmt.Sprint("u", i))
	}
	last := cookieOf(serve(anonymous, ""))
	if serve(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(session.From(r).GetString("cart"))) }, last).Body.String() != "" {
		t.Fatal("an anonymous session evicted a user")
	}
	for uid, c := range users {
		if got := whoami(c); got != uid {
			t.Fatalf("store full of users: %s's session gives %q", uid, got)
		}
	}
	// A new login evicts the least recently saved user.
	login("dave")
	if got := whoami(users["alice"]); got != "" {
		t.Fatalf("alice, the oldest user, still logged in (%q) after a login into a full store", got)
	}
	if got := whoami(users["u6"]); got != "u6" {
		t.Fatalf("the newest user lost: %q", got)
	}
}

// BenchmarkSaveFull: a new session into a full store (100000 entries).
func BenchmarkSaveFull(b *testing.B) {
	ctx := context.Background()
	st := memstore.New(memstore.Options{})
	exp := time.Now().Add(time.Hour)
	for range memstore.DefaultMaxEntries {
		if _, err := st.Save(ctx, session.NewID(), []byte("r"), exp); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = session.NewID()
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := st.Save(ctx, ids[i], []byte("r"), exp); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUserIndex(t *testing.T) {
	sessiontest.RunUserIndex(t, func(t *testing.T) session.Store { return memstore.New(memstore.Options{}) })
}

// TestUserIndexFollowsEviction: an evicted session leaves its user's index
// at once, so the index is bounded by the store.
func TestUserIndexFollowsEviction(t *testing.T) {
	st := memstore.New(memstore.Options{MaxEntries: 2})
	ctx := context.Background()
	for range 5 {
		if _, err := st.SaveInfo(ctx, session.NewID(), []byte("r"), time.Now().Add(time.Hour),
			session.SaveInfo{Authenticated: true, UserID: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if ids, _ := st.UserSessions(ctx, "alice"); len(ids) != 2 {
		t.Fatalf("UserSessions after evictions = %d ids; want 2", len(ids))
	}
}
