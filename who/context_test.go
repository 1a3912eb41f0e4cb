package who_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/who"
)

// TestNewContext: under a NewContext context the result accessors return
// the result, and what needs a chain behaves as without the middleware.
func TestNewContext(t *testing.T) {
	t.Parallel()
	alice := &who.Result{UserID: "alice", Identity: who.Identity{who.KeyUserID: "alice"}}
	tests := []struct {
		name    string
		res     *who.Result
		wantUID string
	}{
		{"authenticated", alice, "alice"},
		{"anonymous", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := who.NewContext(context.Background(), tc.res)
			r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
			if got := who.ResultFrom(ctx); got != tc.res {
				t.Errorf("ResultFrom = %v, want %v", got, tc.res)
			}
			if got := who.UserID(ctx); got != tc.wantUID {
				t.Errorf("UserID = %q, want %q", got, tc.wantUID)
			}
			if got := who.Classification(ctx); got != "" {
				t.Errorf("Classification = %q, want \"\"", got)
			}
			if who.APIFrom(r) != nil {
				t.Error("APIFrom is not nil")
			}
			if who.ReplaceHandler(r, http.NotFoundHandler()) {
				t.Error("ReplaceHandler reported true")
			}
			if who.SetRequestValue(r, "k", 1) || who.RequestValue(r, "k") != nil {
				t.Error("SetRequestValue kept a value")
			}
			rec := httptest.NewRecorder()
			who.Require(nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, r)
			if want := map[bool]int{true: 200, false: 401}[tc.res != nil]; rec.Code != want {
				t.Errorf("Require answered %d, want %d", rec.Code, want)
			}
		})
	}
}

// TestNewContextUnderMiddleware: a chain serving a request whose context
// came from NewContext ignores that result and runs its own chain.
func TestNewContextUnderMiddleware(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{Identifiers: entries("i", cookieID()), Authenticators: entries("a", acceptLogin(""))})
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"the chain authenticates bob", []string{"X-Login", "bob"}, "bob"},
		{"the chain finds nobody", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got string
			h := m.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = who.UserID(r.Context()) }))
			r := get("/", tc.headers...)
			r = r.WithContext(who.NewContext(r.Context(), &who.Result{UserID: "mallory"}))
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Errorf("UserID = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRequestValue: a value an identifier keeps is there for its Remember
// on the same request, the last SetRequestValue wins, and another request
// starts empty.
func TestRequestValue(t *testing.T) {
	t.Parallel()
	type key struct{ n int }
	k1, k2, k3 := &key{1}, &key{2}, &key{3}
	var seen []any
	id := &idFunc{
		identify: func(r *http.Request) (who.Identity, error) {
			if got := who.RequestValue(r, k1); got != nil {
				t.Errorf("a new request starts with %v", got)
			}
			for _, kv := range [][2]any{{k1, "a"}, {k2, "b"}, {k3, "c"}, {k1, "a2"}} {
				if !who.SetRequestValue(r, kv[0], kv[1]) {
					t.Error("SetRequestValue reported false under the middleware")
				}
			}
			return who.Identity{who.KeyLogin: "bob"}, nil
		},
		remember: func(r *http.Request, _ who.Identity) http.Header {
			seen = []any{who.RequestValue(r, k1), who.RequestValue(r, k2), who.RequestValue(r, k3), who.RequestValue(r, &key{1})}
			return nil
		},
	}
	h := mustNew(t, who.Config{Identifiers: entries("i", id), Authenticators: entries("a", acceptLogin(""))}).
		Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 2 {
		seen = nil
		h.ServeHTTP(httptest.NewRecorder(), get("/"))
		want := []any{"a2", "b", "c", nil}
		if len(seen) != len(want) {
			t.Fatalf("Remember saw %v, want %v", seen, want)
		}
		for i := range want {
			if seen[i] != want[i] {
				t.Errorf("value %d = %v, want %v", i, seen[i], want[i])
			}
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	if who.SetRequestValue(r, k1, 1) || who.RequestValue(r, k1) != nil {
		t.Error("SetRequestValue kept a value without the middleware")
	}
}

// TestAuthenticateAgainKeepsResult: the result found on the way in is not
// overwritten when the handler authenticates again.
func TestAuthenticateAgainKeepsResult(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{Identifiers: entries("i", cookieID()), Authenticators: entries("a", acceptLogin(""))})
	h := m.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		first := who.ResultFrom(r.Context())
		r.Header.Set("X-Login", "carol")
		again := who.APIFrom(r).Authenticate()
		if first == nil || again == nil || first == again {
			t.Fatalf("results %p and %p", first, again)
		}
		if first.UserID != "bob" || again.UserID != "carol" {
			t.Errorf("first %q, again %q; want bob, carol", first.UserID, again.UserID)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), get("/", "X-Login", "bob"))
}
