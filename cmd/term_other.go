//go:build !linux

package whocmd

import "io"

// openTerminal finds no terminal on this system: `who htpasswd` reads the
// first line of stdin, shown as it is typed.
func openTerminal(io.Reader, io.Writer) (terminal, bool) { return nil, false }
