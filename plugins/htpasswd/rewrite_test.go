package htpasswd

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// goodUsers are in every version of the file the rewrite tests write.
const goodUsers = 20

// rewriteContent is version i of the file: the good users (password
// "pw"), one user "v<i>" and, when final, a user "final".
func rewriteContent(h string, i int, final bool) []byte {
	var b strings.Builder
	for u := range goodUsers {
		fmt.Fprintf(&b, "good%02d:%s\n", u, h)
	}
	fmt.Fprintf(&b, "v%d:%s\n", i, h)
	if final {
		fmt.Fprintf(&b, "final:%s\n", h)
	}
	return []byte(b.String())
}

// writeInPlace rewrites path as Apache's htpasswd does not: truncated and
// written through the same inode.
func writeInPlace(path string, data []byte, chunked bool) error {
	if !chunked {
		return os.WriteFile(path, data, 0o600) // O_TRUNC, then one write
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// Every chunk ends in the middle of a line, and the writer yields
	// between chunks: a slow writer.
	for len(data) > 0 {
		n := min(len(data), 1+strings.IndexByte(string(data), '\n')+7)
		if _, err := f.Write(data[:n]); err != nil {
			f.Close()
			return err
		}
		data = data[n:]
		runtime.Gosched()
	}
	return f.Close()
}

// TestInPlaceRewritesRefuseNoGoodLogin: while a writer rewrites the file
// in place (truncate + write, or a slow chunked write), no good login is
// refused; once the writer stops, the last version is served. With the
// settle delay (the default) the file is not read while it changes; with
// it off, the stability checks alone keep half-written files out.
func TestInPlaceRewritesRefuseNoGoodLogin(t *testing.T) {
	t.Parallel()
	h, _ := Hash(SchemeSHA, "pw")
	for _, chunked := range []bool{false, true} {
		for _, settle := range []time.Duration{settleTime, 0} {
			name := fmt.Sprintf("chunked=%v/settle=%v", chunked, settle)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				path := writeFile(t, string(rewriteContent(h, 0, false)))
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(path, old, old); err != nil {
					t.Fatal(err)
				}
				p := mustNew(t, Options{Filename: path, ReloadInterval: who.Duration(time.Nanosecond)})
				p.settle = settle
				var skew atomic.Int64 // added to the clock once the writer stops
				p.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }

				done := make(chan struct{})
				var refused, logins, swaps atomic.Int64
				var wg sync.WaitGroup
				for g := range 1 {
					wg.Go(func() {
						last := p.tab.Load()
						for i := 0; ; i++ {
							select {
							case <-done:
								return
							default:
							}
							user := fmt.Sprintf("good%02d", (i+g)%goodUsers)
							if auth(t, p, creds(user, "pw")) != user {
								refused.Add(1)
							}
							logins.Add(1)
							if cur := p.tab.Load(); cur != last {
								swaps.Add(1)
								last = cur
							}
						}
					})
				}
				const rewrites = 100
				for i := 1; i <= rewrites; i++ {
					if err := writeInPlace(path, rewriteContent(h, i, i == rewrites), chunked); err != nil {
						t.Fatal(err)
					}
				}
				close(done)
				wg.Wait()
				if n := refused.Load(); n != 0 {
					t.Errorf("%d of %d good logins refused during %d in-place rewrites", n, logins.Load(), rewrites)
				}
				t.Logf("%d logins, %d table swaps seen, %d refused", logins.Load(), swaps.Load(), refused.Load())
				// The writer is done: a check after the settle time and
				// the timestamp granule serves the last version.
				skew.Store(int64(mtimeGranule + time.Second))
				if got := auth(t, p, creds("final", "pw")); got != "final" {
					t.Errorf("the last version is not served: final got %q", got)
				}
			})
		}
	}
}

// TestReloadRefusesAChangingFile: a file that changes during the read
// (size, mtime or inode differ before and after) is not swapped in.
func TestReloadRefusesAChangingFile(t *testing.T) {
	t.Parallel()
	h, _ := Hash(SchemeSHA, "pw")
	tests := []struct {
		name   string
		change func(path string) error
	}{
		{"appended", func(path string) error {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("late:" + h + "\n")
			return errors.Join(err, f.Close())
		}},
		{"truncated", func(path string) error { return os.Truncate(path, 0) }},
		{"touched", func(path string) error {
			t := time.Now().Add(-30 * time.Minute)
			return os.Chtimes(path, t, t)
		}},
		{"replaced", func(path string) error {
			if err := os.WriteFile(path+".new", []byte("other:"+h+"\n"), 0o600); err != nil {
				return err
			}
			return os.Rename(path+".new", path)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "foo:"+h+"\n")
			p := mustNew(t, Options{Filename: path, ReloadInterval: -1})
			before := p.tab.Load()
			if err := os.WriteFile(path, []byte("bar:"+h+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			once := true
			p.afterRead = func() {
				if once {
					once = false
					if err := tt.change(path); err != nil {
						t.Error(err)
					}
				}
			}
			if err := p.Reload(); !errors.Is(err, ErrFileChanging) {
				t.Fatalf("Reload = %v, want ErrFileChanging", err)
			}
			if p.tab.Load() != before || auth(t, p, creds("foo", "pw")) != "foo" {
				t.Fatal("a file read while it changed was swapped in")
			}
			// The next, undisturbed read of the settled file is taken.
			p.now = func() time.Time { return time.Now().Add(mtimeGranule + time.Second) }
			if err := p.Reload(); err != nil {
				t.Fatalf("second Reload: %v", err)
			}
			if p.tab.Load() == before {
				t.Error("the settled file was not read")
			}
		})
	}
}

// TestReloadRefusesHalfWrittenRecentFile: a file modified just now that
// is empty or lacks its final newline is not swapped in; the same file,
// settled, is.
func TestReloadRefusesHalfWrittenRecentFile(t *testing.T) {
	t.Parallel()
	h, _ := Hash(SchemeSHA, "pw")
	tests := []struct {
		name, content string
		users         int
	}{
		{"empty", "", 0},
		{"no final newline", "foo:" + h + "\nbar:" + h, 2},
		{"half a line", "foo:" + h + "\nbar:{SH", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "foo:"+h+"\nbaz:"+h+"\nqux:"+h+"\n")
			p := mustNew(t, Options{Filename: path, ReloadInterval: -1})
			before := p.tab.Load()
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := p.Reload(); !errors.Is(err, ErrFileChanging) {
				t.Fatalf("Reload of a fresh %s file = %v, want ErrFileChanging", tt.name, err)
			}
			if p.tab.Load() != before || p.Len() != 3 {
				t.Fatalf("a half-written file was swapped in: %d users", p.Len())
			}
			// Left alone for longer than the granule, it is the file.
			p.now = func() time.Time { return time.Now().Add(mtimeGranule + time.Second) }
			if err := p.Reload(); err != nil {
				t.Fatal(err)
			}
			if p.Len() != tt.users {
				t.Errorf("%d users, want %d", p.Len(), tt.users)
			}
		})
	}
}

// TestPeriodicCheckWaitsForTheFileToSettle: a periodic check does not
// read a file modified less than the settle time ago; a later one does.
func TestPeriodicCheckWaitsForTheFileToSettle(t *testing.T) {
	t.Parallel()
	h, _ := Hash(SchemeSHA, "pw")
	path := writeFile(t, "foo:"+h+"\n")
	clock := &fakeClock{now: time.Now().Add(time.Hour)}
	p := mustNew(t, Options{Filename: path, ReloadInterval: who.Duration(time.Minute)})
	p.now = clock.Now
	p.nextCheck.Store(0)
	// Written "half a second ago", line by line: only foo so far.
	if err := os.WriteFile(path, []byte("foo:"+h+"\nbar:"+h+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := clock.Now().Add(-settleTime / 2)
	if err := os.Chtimes(path, m, m); err != nil {
		t.Fatal(err)
	}
	if got := auth(t, p, creds("bar", "pw")); got != "" {
		t.Fatal("a file modified just now was read by the periodic check")
	}
	clock.Add(time.Minute) // the next check: settled by now
	if got := auth(t, p, creds("bar", "pw")); got != "bar" {
		t.Fatal("the settled file was not read")
	}
}

// TestSameTickRewriteIsPickedUp: a rewrite of the same size that keeps
// the modification time (a coarse file-system clock) is seen when the
// first read came within the granule of that time; once a read is well
// after it, the file is not re-read any more.
func TestSameTickRewriteIsPickedUp(t *testing.T) {
	t.Parallel()
	h1, _ := Hash(SchemeSHA, "one")
	h2, _ := Hash(SchemeSHA, "two") // the same length
	path := writeFile(t, "foo:"+h1+"\n")
	clock := &fakeClock{now: time.Now().Add(time.Hour)}
	p := mustNew(t, Options{Filename: path, ReloadInterval: who.Duration(time.Second)})
	p.now = clock.Now
	p.nextCheck.Store(0)
	tick := clock.Now().Add(-settleTime - 100*time.Millisecond) // settled, within the granule
	setFile := func(h string) {
		t.Helper()
		if err := os.WriteFile(path, []byte("foo:"+h+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, tick, tick); err != nil {
			t.Fatal(err)
		}
	}
	setFile(h2)
	if got := auth(t, p, creds("foo", "two")); got != "foo" {
		t.Fatal("version two not read")
	}
	setFile(h1) // same size, same mtime, same inode
	clock.Add(time.Second)
	if got := auth(t, p, creds("foo", "one")); got != "foo" {
		t.Fatal("a same-tick rewrite of the same size was never picked up")
	}
	// Read well after the tick: no more re-reads.
	tab := p.tab.Load()
	clock.Add(mtimeGranule)
	auth(t, p, creds("foo", "one"))
	tab2 := p.tab.Load()
	clock.Add(mtimeGranule)
	auth(t, p, creds("foo", "one"))
	if p.tab.Load() != tab2 || tab2.recheck {
		t.Errorf("an old, unchanged file is still re-read (first %p, then %p, now %p)", tab, tab2, p.tab.Load())
	}
}
