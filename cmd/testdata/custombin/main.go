// Command custombin is a team's own who binary, as package whocmd's doc
// shows it: the command line with the built-in plugins and one plugin of
// its own, greeter. TestCustomBinary builds it.
package main

import (
	whocmd "github.com/gowho/gowho/cmd"
	_ "github.com/gowho/gowho/cmd/testdata/custombin/greeter"
	_ "github.com/gowho/gowho/plugins/all"
)

func main() { whocmd.Main() }
