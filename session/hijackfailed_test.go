package session_test

import (
	"net/http"

	"github.com/gowho/gowho/session"
	"testing"
)

// TestFailedHijackKeepsCookie: a Hijack that fails (HTTP/2, here a
// recorder) leaves the response as it was, so the session is saved once,
// when the handler answers normally, and its cookie is sent. Before the
// shared writer, the failed Hijack saved the session at once into a
// throwaway header: a new session's cookie never reached the client.
func TestFailedHijackKeepsCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	rec := f.do(func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r).Set("k", "v"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
			t.Fatal("Hijack on a recorder succeeded")
		}
		_, _ = w.Write([]byte("ok"))
	}, "")
	if c := sessionCookie(rec); c == nil || f.st.saves.Load() != 1 {
		t.Fatalf("after a failed Hijack: cookie %v, %d saves; want the session cookie and one save", c, f.st.saves.Load())
	}
	if rec.Body.String() != "ok" {
		t.Errorf("body %q, want the handler's ok", rec.Body)
	}
}
