package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
)

// ExampleManager_DestroyUser logs alice out of every browser: an admin
// page, or a password change, calls DestroyUser with her userid.
func ExampleManager_DestroyUser() {
	m, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		panic(err)
	}
	login := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What plugins/sessionid keeps at login.
		_ = session.From(r).Set("repoze.who.tkt", map[string]any{who.KeyUserID: r.URL.Query().Get("u")})
	}))
	for _, u := range []string{"alice", "alice", "bob"} { // three browsers
		login.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/login?u="+u, nil))
	}

	n, err := m.DestroyUser(context.Background(), "alice")
	fmt.Println(n, err)

	// A store without a per-user index says so.
	if _, err := noIndex().DestroyUser(context.Background(), "alice"); errors.Is(err, session.ErrNotSupported) {
		fmt.Println("not supported by this store")
	}
	// Output:
	// 2 <nil>
	// not supported by this store
}

// plainStore is a Store with no per-user index.
type plainStore struct{ session.Store }

func noIndex() *session.Manager {
	m, err := session.New(session.Options{Store: plainStore{memstore.New(memstore.Options{})}})
	if err != nil {
		panic(err)
	}
	return m
}
