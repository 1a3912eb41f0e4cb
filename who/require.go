package who

import (
	"context"
	"net/http"
	"sync"
)

// Require returns middleware that lets a request through only when it is
// authenticated and pred (nil: any authenticated user) accepts its result.
// An anonymous request gets a 401, which the chain turns into a challenge
// (a login page, a Basic prompt); an authenticated one that pred refuses
// gets a 403. Put it inside the who middleware:
//
//	admin := who.Require(func(res *who.Result) bool { return res.UserID == "admin" })
//	mux.Handle("/admin/", admin(adminHandler))
//	http.ListenAndServe(addr, mw.Wrap(mux))
//
// Outside the middleware every request is anonymous, so it answers 401.
func Require(pred func(*Result) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			res := ResultFrom(r.Context())
			if res == nil {
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
			if pred != nil && !pred(res) {
				http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// A UserLoader returns the application's user object for an authenticated
// result (a database row, a struct), or nil when there is none. An error
// means its backend failed.
type UserLoader func(ctx context.Context, res *Result) (any, error)

// userSlot is one request's memoised user.
type userSlot struct {
	load UserLoader
	once sync.Once
	res  *Result
	user any
	err  error
}

type userKey struct{}

// WithUserLoader returns middleware that makes User available to handlers
// behind it: the first call to User in a request runs load, once, and
// later calls return its answer. Put it inside the who middleware (it
// reads ResultFrom). Anonymous requests never run the loader.
func WithUserLoader(load UserLoader) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := context.WithValue(r.Context(), userKey{}, &userSlot{load: load})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// User returns the application's user for the request's authenticated
// result, loading it at most once per request with the loader that
// WithUserLoader installed. It returns nil, nil for an anonymous request
// or when no loader is installed, and the loader's error when it failed
// (not retried within the request). A result that changes during the
// request (a Login) is loaded again.
func User(ctx context.Context) (any, error) {
	slot, _ := ctx.Value(userKey{}).(*userSlot)
	res := ResultFrom(ctx)
	if slot == nil || res == nil {
		return nil, nil
	}
	slot.once.Do(func() {
		slot.res = res
		slot.user, slot.err = slot.load(ctx, res)
	})
	if slot.res != res {
		// The request logged in as someone else: never hand out the
		// previous user. Load without memoising.
		return slot.load(ctx, res)
	}
	return slot.user, slot.err
}

// UserAs is User with a type: it returns the zero T when the user is
// absent or not a T.
func UserAs[T any](ctx context.Context) (T, error) {
	u, err := User(ctx)
	t, _ := u.(T)
	return t, err
}
