package whotest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/gowho/gowho/who"
)

// concurrentCalls is how many Identify calls CheckIdentifier makes at once.
const concurrentCalls = 8

// probeKey is the key CheckIdentifier adds to one identity to see whether
// another call's identity changes with it.
const probeKey = "whotest.probe"

// CheckIdentifier checks that id keeps the who.Identifier contract for r,
// a request carrying credentials id finds (each call gets its own clone of
// r, body included, so r may be a login POST):
//
//   - Identify finds an identity in r, and none (a nil Identity, no error)
//     in a bare GET / that carries no credentials;
//   - every call returns a fresh map: no two calls share one, and changing
//     the first result (as the chain does, adding the userid) leaves a
//     second call's result as it was;
//   - Identify may be called concurrently (run the test with -race) and
//     never panics;
//   - when id is also a who.Rememberer, Remember and Forget (with the
//     identity, and with nil as Logout does) do not panic.
//
// It reports each broken rule with t.Errorf and goes on; it never calls
// t.Fatal, so it may run inside a test's own checks.
func CheckIdentifier(t testing.TB, id who.Identifier, r *http.Request) {
	t.Helper()
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			t.Errorf("CheckIdentifier: reading the request body: %v", err)
			return
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	fresh := func() *http.Request {
		c := r.Clone(r.Context())
		if body != nil {
			c.Body = io.NopCloser(bytes.NewReader(body))
			c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		return c
	}

	first, panicked, err := identify(id, fresh())
	switch {
	case panicked != nil:
		t.Errorf("Identify panicked: %v", panicked)
		return
	case err != nil:
		t.Errorf("Identify: %v (an error means a backend failed; CheckIdentifier needs a request %T identifies)", err, id)
		return
	case first == nil:
		t.Errorf("Identify found no identity in the request; CheckIdentifier needs one carrying %T's credentials", id)
		return
	}
	before := first.Clone()
	first[probeKey] = true
	for k := range before {
		delete(first, k)
	}

	results := make([]who.Identity, concurrentCalls)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	for i := range results {
		wg.Go(func() {
			got, panicked, err := identify(id, fresh())
			switch {
			case panicked != nil:
				report("Identify panicked when called concurrently: %v", panicked)
			case err != nil:
				report("Identify failed when called concurrently: %v", err)
			case got == nil:
				report("Identify found no identity when called again with the same request")
			}
			results[i] = got
		})
	}
	wg.Wait()
	for _, p := range problems {
		t.Errorf("%s", p)
	}

	shared := false
	for i, got := range results {
		if got == nil {
			continue
		}
		if sameMap(got, first) {
			shared = true
		}
		for _, other := range results[:i] {
			if other != nil && sameMap(got, other) {
				shared = true
			}
		}
	}
	if shared {
		t.Errorf("Identify returned the same map from two calls: return a fresh Identity on every call, the chain changes it")
	}
	for _, got := range results {
		if got == nil {
			continue
		}
		if _, ok := got[probeKey]; ok || len(got) != len(before) {
			t.Errorf("changing the Identity one Identify call returned changed the next call's (%d keys, want %d): return a fresh map on every call", len(got), len(before))
			break
		}
	}

	bare := httptest.NewRequest(http.MethodGet, "/", nil)
	none, panicked, err := identify(id, bare)
	switch {
	case panicked != nil:
		t.Errorf("Identify of a request without credentials panicked: %v", panicked)
	case err != nil:
		t.Errorf("Identify of a request without credentials: %v, want a nil Identity and no error", err)
	case none != nil:
		t.Errorf("Identify of a request without credentials returned a non-nil Identity (%d keys): return nil when the request carries none of its credentials", len(none))
	}

	if rem, ok := id.(who.Rememberer); ok {
		checkRememberer(t, rem, fresh, before)
	}
}

// checkRememberer calls Remember and Forget as the chain does, reporting
// a panic.
func checkRememberer(t testing.TB, rem who.Rememberer, fresh func() *http.Request, identity who.Identity) {
	t.Helper()
	calls := []struct {
		name string
		call func()
	}{
		{"Remember", func() { rem.Remember(fresh(), identity.Clone()) }},
		{"Forget", func() { rem.Forget(fresh(), identity.Clone()) }},
		{"Forget with a nil identity (Logout)", func() { rem.Forget(fresh(), nil) }},
	}
	for _, c := range calls {
		if p := catch(c.call); p != nil {
			t.Errorf("%s panicked: %v", c.name, p)
		}
	}
}

// identify calls id.Identify, turning a panic into its value.
func identify(id who.Identifier, r *http.Request) (got who.Identity, panicked any, err error) {
	panicked = catch(func() { got, err = id.Identify(r) })
	return got, panicked, err
}

// catch runs f and returns what it panicked with, or nil.
func catch(f func()) (panicked any) {
	defer func() { panicked = recover() }()
	f()
	return nil
}

// sameMap reports whether a and b are one map.
func sameMap(a, b who.Identity) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
