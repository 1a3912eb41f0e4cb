//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package whocmd

import "golang.org/x/sys/unix"

// The requests that read and set a terminal's attributes.
const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)
