package sessionid_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gowho/gowho/session"
)

// TestDestroyUser (issue 14 item 7): the userid this plugin remembers is
// the one the session manager indexes, so DestroyUser logs a user out of
// every browser, on every store with a per-user index, and a browser that
// logged in as bob after alice is bob's (login renews the session id).
func TestDestroyUser(t *testing.T) {
	all := stores(t, true)
	for name, store := range all {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, toml(store(t), ""))
			v, _ := a.chain.Plugin("sessions")
			m := v.(session.Provider).SessionManager()
			login := func(cookie, u string) string {
				t.Helper()
				code, _, c := a.get(t, "/login?u="+u+"&p="+u, cookie)
				if code != http.StatusOK || c == "" || c == "-" {
					t.Fatalf("login %s: %d, cookie %q", u, code, c)
				}
				return c
			}
			alice1, alice2 := login("", "alice"), login("", "alice")
			switched := login(login("", "alice"), "bob") // alice, then bob, in one browser
			n, err := m.DestroyUser(context.Background(), "alice")
			if name == "cookie" || name == "memcached" {
				if !errors.Is(err, session.ErrNotSupported) {
					t.Fatalf("DestroyUser on %s = %d, %v; want ErrNotSupported", name, n, err)
				}
				return
			}
			if err != nil || n != 2 {
				t.Fatalf("DestroyUser(alice) = %d, %v; want 2, nil", n, err)
			}
			for _, c := range []string{alice1, alice2} {
				if _, body, _ := a.get(t, "/whoami", c); body != "anonymous" {
					t.Errorf("alice's browser after DestroyUser: %q; want anonymous", body)
				}
			}
			if _, body, _ := a.get(t, "/whoami", switched); body != "bob data-of-bob" {
				t.Errorf("the browser that switched to bob: %q; want bob still logged in", body)
			}
			if n, err := m.DestroyUser(context.Background(), "bob"); err != nil || n != 1 {
				t.Fatalf("DestroyUser(bob) = %d, %v; want 1, nil", n, err)
			}
			if _, body, _ := a.get(t, "/whoami", switched); body != "anonymous" {
				t.Errorf("bob's browser after DestroyUser(bob): %q; want anonymous", body)
			}
		})
	}
}
