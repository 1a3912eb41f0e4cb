// Package whocmd is gowho's command line as a library: Main runs the who
// command (serve, check, explain, convert, htpasswd, ticket) with whatever
// plugins the binary registered, so a team's own binary is
//
//	package main
//
//	import (
//		whocmd "github.com/gowho/gowho/cmd"
//		_ "github.com/gowho/gowho/plugins/all"
//		_ "example.com/team/whoplugins" // the team's own plugins
//	)
//
//	func main() { whocmd.Main() }
//
// Usage:
//
//	who serve -config FILE [-addr 127.0.0.1:8080] [-debug] [-read-header-timeout 10s] [-read-timeout 30s]
//	          [-write-timeout 60s] [-idle-timeout 120s] [-max-header-bytes 65536] [-shutdown-timeout 30s]
//	who check FILE
//	who convert [-o FILE] who.ini
//	who explain -config FILE [-H 'Name: value']... [-status 401] METHOD URL
//	who htpasswd [-scheme bcrypt|apr1|sha|sha256|sha512|plain] USER   (password on stdin)
//	who ticket make|read ...
package whocmd

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: it gets its arguments and the standard
// streams and returns the exit status.
type command struct {
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
	summary string
}

var commands = map[string]command{
	"serve":   {runServe, "run the demo app behind the chain of a who.toml"},
	"check":   {runCheck, "validate a who.toml and print the resolved chain"},
	"convert": {runConvert, "print a who.toml equivalent to a repoze.who who.ini"},
	"explain": {runExplain, "run one request through the chain and print what each plugin decided"},
	"ticket": {func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
		return runTicket(args, stdout, stderr)
	}, "make or read an auth_tkt cookie value"},
	"htpasswd": {runHtpasswd, "print an htpasswd line for USER, password read from stdin"},
}

// Main runs the command line on os.Args and exits with its status. The
// plugins it knows are those registered in who.DefaultRegistry: blank-import
// plugins/all and any of your own before calling it.
func Main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "who: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: who COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'who COMMAND -h' for a command's flags.")
}
