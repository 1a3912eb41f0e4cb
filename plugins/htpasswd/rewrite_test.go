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
								if refused.Add(1) == 1 {
									tb := p.tab.Load()
									t.Logf("first refusal at login %d: %d users, file size %d, mtime %v, now %v",
										i, len(tb.users), tb.info.Size(), tb.info.ModTime(), p.now())
								}
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
				// The writer is done: a check sees the last version, and
				// one after the settle time serves it.
				skew.Store(int64(time.Second))
				p.maybeReload()
				skew.Store(int64(time.Second + settleTime))
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
			p.now = func() time.Time { return time.Now().Add(incompleteGrace + time.Second) }
			if err := p.Reload(); err != nil {
				t.Fatalf("second Reload: %v", err)
			}
			if p.tab.Load() == before {
				t.Error("the settled file was not read")
			}
		})
	}
}

// TestReloadRefusesHalfWrittenRecentFile: a file that is empty or lacks
// its final newline is not swapped in by Reload when it was modified less
// than a minute ago, nor by the periodic check before it has seen it
// unchanged for a minute, even when its mtime is old (as a file being
// truncated can briefly show); left alone, it is the file.
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
			p := mustNew(t, Options{Filename: path, ReloadInterval: who.Duration(time.Second)})
			before := p.tab.Load()
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := p.Reload(); !errors.Is(err, ErrFileChanging) {
				t.Fatalf("Reload of a fresh %s file = %v, want ErrFileChanging", tt.name, err)
			}
			if p.tab.Load() != before {
				t.Fatalf("Reload swapped in a half-written file: %d users", p.Len())
			}

			// The periodic check, with an old mtime: it goes by how long
			// it has seen the file unchanged.
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			clock := &fakeClock{now: time.Now()}
			p.now = clock.Now
			for range 3 { // seen, then 20 s and 40 s unchanged
				p.nextCheck.Store(0)
				p.maybeReload()
				if p.tab.Load() != before {
					t.Fatalf("the periodic check swapped in a half-written file after %v", time.Until(clock.Now()))
				}
				clock.Add(incompleteGrace / 3)
			}
			clock.Add(incompleteGrace / 3) // 80 s unchanged
			p.nextCheck.Store(0)
			p.maybeReload()
			if p.Len() != tt.users {
				t.Errorf("left alone: %d users, want %d", p.Len(), tt.users)
			}
			// Reload takes an old incomplete file at once.
			if err := os.WriteFile(path, []byte("foo:"+h+"\nzed:"+h+"\nnot"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			if err := p.Reload(); err != nil || p.Len() != 2 {
				t.Errorf("Reload of an old file without final newline: %v, %d users", err, p.Len())
			}
		})
	}
}

// TestPeriodicCheckWaitsForTheFileToSettle: a periodic check swaps in a
// changed file only after seeing it unchanged for the settle time; a
// change meanwhile starts the wait over.
func TestPeriodicCheckWaitsForTheFileToSettle(t *testing.T) {
	t.Parallel()
	h, _ := Hash(SchemeSHA, "pw")
	path := writeFile(t, "foo:"+h+"\n")
	clock := &fakeClock{now: time.Now().Add(time.Hour)}
	p := mustNew(t, Options{Filename: path, ReloadInterval: who.Duration(time.Millisecond)})
	p.now = clock.Now
	step := func(d time.Duration, user string, want bool) {
		t.Helper()
		clock.Add(d)
		if got := auth(t, p, creds(user, "pw")) == user; got != want {
			t.Fatalf("after %v: %s logs in = %v, want %v", d, user, got, want)
		}
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("foo:" + h + "\nbar:" + h + "\n") // line by line: only foo and bar so far
	step(time.Second, "bar", false)         // seen changed
	step(settleTime/2, "bar", false)        // unchanged for half the settle time
	write("foo:" + h + "\nbar:" + h + "\nbaz:" + h + "\n")
	step(settleTime/2, "baz", false) // changed again: the wait starts over
	step(settleTime/2, "baz", false)
	step(settleTime/2, "baz", true) // unchanged for the settle time
	step(time.Second, "foo", true)
}

// TestSameTickRewriteIsPickedUp: a rewrite of the same size that keeps
// the modification time (a coarse file-system clock) is seen when the
// last read came within the granule of that time; once a read is well
// after it, the file is not re-read any more.
func TestSameTickRewriteIsPickedUp(t *testing.T) {
	t.Parallel()
	h1, _ := Hash(SchemeSHA, "one")
	h2, _ := Hash(SchemeSHA, "two") // the same length
	path := writeFile(t, "foo:"+h1+"\n")
	clock := &fakeClock{now: time.Now().Add(time.Hour)}
	p := mustNew(t, Options{Filename: path, ReloadInterval: who.Duration(time.Second)})
	p.now = clock.Now
	tick := clock.Now().Add(time.Second) // the mtime of both versions
	setFile := func(h string) {
		t.Helper()
		if err := os.WriteFile(path, []byte("foo:"+h+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, tick, tick); err != nil {
			t.Fatal(err)
		}
	}
	check := func(pw string, want bool) {
		t.Helper()
		clock.Add(time.Second)
		if got := auth(t, p, creds("foo", pw)) == "foo"; got != want {
			t.Fatalf("at +%v: %q logs in = %v, want %v", clock.Now().Sub(tick), pw, got, want)
		}
	}
	setFile(h2)
	check("two", false) // +0s: seen
	check("two", true)  // +1s: settled, read within the granule
	setFile(h1)         // same size, same mtime, same inode
	check("one", true)  // +2s: re-read
	// Read 2 s after the tick: no more re-reads.
	tab := p.tab.Load()
	if tab.recheck {
		t.Fatal("a file read 2 s after its mtime is still marked for a re-check")
	}
	setFile(h2)
	check("one", true)
	check("one", true)
	if p.tab.Load() != tab {
		t.Error("an old, unchanged file was re-read")
	}
}
