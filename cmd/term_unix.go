//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package whocmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// ttyTerminal is a terminal on Linux, macOS and the BSDs: echo is turned
// off with the ioctlGetTermios/ioctlSetTermios requests (TCGETS/TCSETS on
// Linux, TIOCGETA/TIOCSETA elsewhere) while a password is read.
type ttyTerminal struct {
	in      *os.File
	fd      int
	prompts io.Writer
}

// openTerminal returns stdin as a terminal when it is one (a tty whose
// attributes can be read); prompts go to the prompts writer (stderr:
// stdout gets the htpasswd line).
func openTerminal(stdin io.Reader, prompts io.Writer) (terminal, bool) {
	f, ok := stdin.(*os.File)
	if !ok {
		return nil, false
	}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, ioctlGetTermios); err != nil {
		return nil, false
	}
	return &ttyTerminal{in: f, fd: fd, prompts: prompts}, true
}

// ReadPassword turns echo off, writes prompt, reads a line and restores
// the terminal's attributes, also when SIGINT, SIGTERM or SIGHUP ends the
// program meanwhile (the signal is then delivered again, with its default
// action).
func (t *ttyTerminal) ReadPassword(prompt string, max int) (string, error) {
	old, err := unix.IoctlGetTermios(t.fd, ioctlGetTermios)
	if err != nil {
		return "", fmt.Errorf("reading the terminal's attributes: %w", err)
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	noEcho.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(t.fd, ioctlSetTermios, &noEcho); err != nil {
		return "", fmt.Errorf("turning the terminal's echo off: %w", err)
	}
	restore := func() { _ = unix.IoctlSetTermios(t.fd, ioctlSetTermios, old) }

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case s := <-sigs:
			restore()
			fmt.Fprintln(t.prompts)
			signal.Stop(sigs)
			_ = syscall.Kill(os.Getpid(), s.(syscall.Signal))
		case <-done:
		}
	}()
	defer func() {
		close(done)
		<-stopped
		signal.Stop(sigs)
		restore()
	}()

	fmt.Fprint(t.prompts, prompt)
	line, err := readLine(t.in, max)
	if errors.Is(err, errPasswordTooLong) {
		discardLine(t.in)
	}
	fmt.Fprintln(t.prompts) // the Enter the terminal did not echo
	if err == io.EOF && line != "" {
		err = nil // Ctrl-D after the password; at an empty prompt it stops
	}
	return line, err
}
