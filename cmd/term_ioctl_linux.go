//go:build linux

package whocmd

import "golang.org/x/sys/unix"

// The requests that read and set a terminal's attributes.
const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)
