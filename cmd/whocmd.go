// Package whocmd is gowho's command line as a library, the way caddycmd is
// Caddy's: Main runs the who command (serve, check, explain, convert,
// htpasswd, ticket) with whatever plugins the binary registered. The stock
// binary, cmd/who, is Main with the built-in plugins; a team's own binary
// adds its plugins with blank imports:
//
//	package main
//
//	import (
//		whocmd "github.com/gowho/gowho/cmd"
//		_ "github.com/gowho/gowho/plugins/all"  // the built-in plugins
//		_ "example.com/team/whoplugins"         // the team's own, registered in init
//		_ "modernc.org/sqlite"                  // a database/sql driver, if sqlauth needs one
//	)
//
//	func main() { whocmd.Main() }
//
// Every plugin registered in who.DefaultRegistry by the time Main runs can
// be named in a who.toml, and `who check` lists it in the chain it prints.
// A plugin that is not linked in is a load error naming it ("no plugin is
// registered under that name in this program"). cmd/who also links the
// modernc.org/sqlite driver; a binary without it reports a sqlauth plugin
// with driver = "sqlite" as a load error on its driver key.
//
// Run is Main without the process: a team's tests can drive its binary's
// command line in-process.
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
//
// Every command takes -h: it prints the command's usage and exits 0. A
// usage mistake exits 2.
package whocmd

import (
	"errors"
	"flag"
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
	os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Run runs the command line on args (the arguments after the program
// name, as in os.Args[1:]) with the given standard streams and returns the
// exit status: 0 on success and for -h, 1 when the command failed, 2 for a
// usage mistake (`who check` exits 1 on a config mistake, `who convert` 2
// when something could not be converted). The plugins are those of
// who.DefaultRegistry, as for Main. `who serve` runs until SIGINT or
// SIGTERM reaches the process.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
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

// isHelp reports whether arg asks for the usage where a command name is
// expected: -h, -help, --help or help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// parseFlags parses args into fs. ok is false when the command should stop
// and exit with code: 0 after -h (the usage printed), 2 after a flag
// mistake (the mistake and the usage printed).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	default:
		return 2, false
	}
}
