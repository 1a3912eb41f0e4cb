//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package whocmd

import "io"

// openTerminal finds no terminal on this system (Windows, Plan 9, wasm...):
// `who htpasswd` reads the first line of stdin without a prompt, shown as
// it is typed.
func openTerminal(io.Reader, io.Writer) (terminal, bool) { return nil, false }
