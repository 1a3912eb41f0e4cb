//go:build linux

package whocmd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/gowho/gowho/plugins/htpasswd"
	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal: the master the test types into and
// reads the echo from, and the terminal who htpasswd gets as stdin.
func openPty(t *testing.T) (master, tty *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// promptWriter passes each prompt it is written to the test, so that the
// test types only once echo is off (the terminal echoes when it receives).
type promptWriter struct{ prompts chan string }

func (w promptWriter) Write(p []byte) (int, error) {
	if s := strings.TrimSpace(string(p)); s != "" {
		w.prompts <- s
	}
	return len(p), nil
}

// TestHtpasswdTerminal drives who htpasswd on a pseudo-terminal: it asks
// twice, the typed password is not echoed, a mismatch is an error, and the
// terminal echoes again afterwards. Before, it read stdin with echo on
// and asked nothing.
func TestHtpasswdTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		typed    [2]string
		wantCode int
		wantErr  string
	}{
		{"same twice", [2]string{"s3cret pass", "s3cret pass"}, 0, ""},
		{"mismatch", [2]string{"s3cret pass", "s3cret pasz"}, 1, "who htpasswd: the two passwords do not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			master, tty := openPty(t)
			before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if before.Lflag&unix.ECHO == 0 {
				t.Fatal("the new terminal does not echo")
			}
			prompts := promptWriter{make(chan string, 4)}
			var out, errs strings.Builder
			done := make(chan int)
			go func() {
				done <- Run([]string{"htpasswd", "-scheme", "sha", "carol"}, tty, &out, io.MultiWriter(prompts, &errs))
			}()
			for i, want := range []string{"New password:", "Re-type new password:"} {
				if got := <-prompts.prompts; got != want {
					t.Fatalf("prompt %d: %q, want %q", i+1, got, want)
				}
				if _, err := master.WriteString(tc.typed[i] + "\n"); err != nil {
					t.Fatal(err)
				}
			}
			code := <-done
			if code != tc.wantCode || !strings.Contains(errs.String(), tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs.String(), tc.wantCode, tc.wantErr)
			}
			if code == 0 {
				line := strings.TrimSpace(out.String())
				hash, _ := strings.CutPrefix(line, "carol:")
				if ok, err := htpasswd.Verify(hash, tc.typed[0]); !ok || err != nil {
					t.Errorf("line %q does not verify: %v, %v", line, ok, err)
				}
			}
			after, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if *after != *before {
				t.Errorf("terminal attributes not restored:\n%+v\nwant\n%+v", *after, *before)
			}
			// With echo back on, a marker comes back; nothing typed
			// before it may have.
			if _, err := master.WriteString("marker\n"); err != nil {
				t.Fatal(err)
			}
			echoed, err := bufio.NewReader(master).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(echoed, "s3cret") || !strings.Contains(echoed, "marker") {
				t.Errorf("the terminal echoed %q; want only the marker", echoed)
			}
		})
	}
}

// TestHtpasswdTerminalTooLong: a password longer than the bound, typed at
// a terminal, is refused and the rest of its line is read and dropped.
// Before, the line's tail stayed in the terminal's queue: the shell read
// it after who htpasswd exited and ran the password's tail as a command
// (into its history).
func TestHtpasswdTerminalTooLong(t *testing.T) {
	t.Parallel()
	master, tty := openPty(t)
	prompts := promptWriter{make(chan string, 4)}
	var out, errs strings.Builder
	done := make(chan int)
	go func() {
		done <- Run([]string{"htpasswd", "-scheme", "sha", "carol"}, tty, &out, io.MultiWriter(prompts, &errs))
	}()
	if got := <-prompts.prompts; got != "New password:" {
		t.Fatalf("prompt %q", got)
	}
	if _, err := master.WriteString(strings.Repeat("x", maxPasswordBytes+100) + "; tail of the password\n"); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 2 || !strings.Contains(errs.String(), "longer than 1024 bytes") {
		t.Fatalf("exit %d, stderr %q; want 2 and the bound", code, errs.String())
	}
	// What the shell reads next is what is typed next.
	if _, err := master.WriteString("marker\n"); err != nil {
		t.Fatal(err)
	}
	next, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if next != "marker\n" {
		t.Errorf("the terminal's next line is %.60q...; want only the marker", next)
	}
}

// TestHtpasswdTerminalEOF: Ctrl-D at the empty first prompt stops with
// "no password given" and asks nothing more. Before, it asked for the
// password again, and Ctrl-D there was needed too.
func TestHtpasswdTerminalEOF(t *testing.T) {
	t.Parallel()
	master, tty := openPty(t)
	before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	prompts := promptWriter{make(chan string, 4)}
	var out, errs strings.Builder
	done := make(chan int)
	go func() {
		done <- Run([]string{"htpasswd", "-scheme", "sha", "carol"}, tty, &out, io.MultiWriter(prompts, &errs))
	}()
	if got := <-prompts.prompts; got != "New password:" {
		t.Fatalf("prompt %q", got)
	}
	if _, err := master.Write([]byte{before.Cc[unix.VEOF]}); err != nil {
		t.Fatal(err)
	}
	code := -1
	for code < 0 {
		select {
		case code = <-done:
		case p := <-prompts.prompts:
			if strings.HasPrefix(p, "Re-type") {
				t.Errorf("after Ctrl-D it asked %q; want it to stop", p)
				master.Write([]byte{before.Cc[unix.VEOF]})
			}
		}
	}
	if code != 2 || !strings.Contains(errs.String(), "who htpasswd: no password given") {
		t.Errorf("exit %d, stderr %q; want 2 and no password given", code, errs.String())
	}
	after, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("terminal attributes not restored")
	}
}
