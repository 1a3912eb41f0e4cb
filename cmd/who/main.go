// Command who is gowho's command line: it runs the demo app behind a
// configured chain, checks who.toml files, and makes htpasswd lines and
// auth_tkt tickets. It is whocmd.Main with the built-in plugins; see
// package github.com/gowho/gowho/cmd to build one with plugins of your own.
package main

import (
	whocmd "github.com/gowho/gowho/cmd"
	_ "github.com/gowho/gowho/plugins/all"
	_ "modernc.org/sqlite" // the "sqlite" driver, so sqlauth demos need no server
)

func main() { whocmd.Main() }
