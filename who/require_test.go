package who_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gowho/gowho/who"
)

// reqHeaderID identifies {login: X-User} and authenticates any login.
type reqHeaderID struct{}

func (reqHeaderID) Identify(r *http.Request) (who.Identity, error) {
	if u := r.Header.Get("X-User"); u != "" {
		return who.Identity{who.KeyLogin: u}, nil
	}
	return nil, nil
}

func (reqHeaderID) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	return id.Str(who.KeyLogin), nil
}

// reqChallenger answers a challenge with 401 "login please".
type reqChallenger struct{}

func (reqChallenger) Challenge(*http.Request, int, http.Header, http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "login please")
	})
}

func reqChain(t *testing.T) *who.Middleware {
	t.Helper()
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "hdr", Plugin: reqHeaderID{}}},
		Authenticators: []who.Entry{{Name: "hdr", Plugin: reqHeaderID{}}},
		Challengers:    []who.Entry{{Name: "ch", Plugin: reqChallenger{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRequire(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "secret") })
	admins := who.Require(func(res *who.Result) bool { return res.UserID == "admin" })
	anyone := who.Require(nil)
	tests := []struct {
		name     string
		guard    func(http.Handler) http.Handler
		user     string
		wantCode int
		wantBody string
	}{
		{"anonymous is challenged", admins, "", 401, "login please"},
		{"refused user gets 403", admins, "bob", 403, "Forbidden\n"},
		{"accepted user", admins, "admin", 200, "secret"},
		{"nil predicate: any user", anyone, "bob", 200, "secret"},
		{"nil predicate: anonymous", anyone, "", 401, "login please"},
	}
	m := reqChain(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.user != "" {
				req.Header.Set("X-User", tc.user)
			}
			rec := httptest.NewRecorder()
			m.Wrap(tc.guard(ok)).ServeHTTP(rec, req)
			if rec.Code != tc.wantCode || rec.Body.String() != tc.wantBody {
				t.Fatalf("got %d %q; want %d %q", rec.Code, rec.Body, tc.wantCode, tc.wantBody)
			}
		})
	}
	t.Run("without middleware", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		anyone(ok).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 401 {
			t.Fatalf("got %d; want 401", rec.Code)
		}
	})
}

type reqUser struct{ Name string }

func TestUserLoader(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	errDB := errors.New("db down")
	loader := func(_ context.Context, res *who.Result) (any, error) {
		calls.Add(1)
		if res.UserID == "broken" {
			return nil, errDB
		}
		return &reqUser{Name: res.UserID}, nil
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 { // loaded at most once
			u, err := who.UserAs[*reqUser](r.Context())
			if err != nil {
				fmt.Fprint(w, "err:", err)
				return
			}
			if u == nil {
				fmt.Fprint(w, "nobody")
				return
			}
			if _, err := who.User(r.Context()); err != nil {
				t.Error(err)
			}
		}
		u, _ := who.UserAs[*reqUser](r.Context())
		fmt.Fprint(w, u.Name)
	})
	m := reqChain(t)
	tests := []struct {
		user, want string
		calls      int32
	}{
		{"alice", "alice", 1},
		{"", "nobody", 0},
		{"broken", "err:db down", 1},
	}
	for _, tc := range tests {
		calls.Store(0)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.user != "" {
			req.Header.Set("X-User", tc.user)
		}
		rec := httptest.NewRecorder()
		m.Wrap(who.WithUserLoader(loader)(h)).ServeHTTP(rec, req)
		if rec.Body.String() != tc.want || calls.Load() != tc.calls {
			t.Errorf("user %q: body %q, %d loads; want %q, %d", tc.user, rec.Body, calls.Load(), tc.want, tc.calls)
		}
	}
	// Without WithUserLoader: nil, nil.
	if u, err := who.User(context.Background()); u != nil || err != nil {
		t.Errorf("User without loader = %v, %v", u, err)
	}
}
