package filestore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/filestore"
	"github.com/gowho/gowho/session/sessiontest"
)

func newStore(t *testing.T, dir string) *filestore.Store {
	st, err := filestore.New(filestore.Options{Dir: dir, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return newStore(t, t.TempDir()) })
}

func TestFileModeAndSweep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := newStore(t, dir)
	ctx := context.Background()
	live, gone := session.NewID(), session.NewID()
	if _, err := st.Save(ctx, live, []byte("a"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, gone, []byte("b"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, live))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("mode = %v; want 0600", mode)
	}
	stale := filepath.Join(dir, ".tmp-crashed")
	_ = os.WriteFile(stale, []byte("x"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	_ = os.Chtimes(stale, old, old)
	n, err := st.Sweep()
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 (expired record and stale temp file)", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, live)); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left %d files; want 1", len(entries))
	}
}

func TestUserIndex(t *testing.T) {
	sessiontest.RunUserIndex(t, func(t *testing.T) session.Store { return newStore(t, t.TempDir()) })
}

// TestSweepIndex: Sweep removes expired index entries and the directories
// they leave empty, keeps live ones, and leaves an in-flight index
// temporary file (its time in the future) alone unless it is far out.
func TestSweepIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := newStore(t, dir)
	ctx := context.Background()
	live := session.NewID()
	for _, s := range []struct {
		id, user string
		exp      time.Time
	}{
		{session.NewID(), "gone", time.Now().Add(200 * time.Millisecond)},
		{live, "stays", time.Now().Add(time.Hour)},
	} {
		if _, err := st.SaveInfo(ctx, s.id, []byte("r"), s.exp, session.SaveInfo{Authenticated: true, UserID: s.user}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := st.Sweep(); err != nil {
		t.Fatal(err)
	}
	users, err := os.ReadDir(filepath.Join(dir, ".users"))
	if err != nil || len(users) != 1 {
		t.Fatalf("user directories after Sweep = %v, %v; want one", users, err)
	}
	if ids, err := st.UserSessions(ctx, "stays"); err != nil || len(ids) != 1 || ids[0] != live {
		t.Fatalf("UserSessions(stays) = %q, %v", ids, err)
	}
}
