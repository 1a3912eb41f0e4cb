// Package whocmd is gowho's command line as a library, the way caddycmd is
// Caddy's: Main runs the who command (serve, check, explain, convert, version,
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
//	          [-metrics 127.0.0.1:9100] [-audit]   (or: who serve [flags] FILE)
//	who gateway -config FILE [-addr 127.0.0.1:8080] [the flags of serve]   (or: who gateway [flags] FILE)
//	who check [-strict] -config FILE   (or: who check [-strict] FILE)
//	who convert [-o FILE] -config who.ini   (or: who convert [-o FILE] who.ini)
//	who explain -config FILE [-H 'Name: value']... [-status 401] METHOD URL   (or: who explain FILE METHOD URL)
//	who htpasswd [-scheme bcrypt|apr1|sha|sha256|sha512|plain] USER   (password at the prompt or on stdin)
//	who ticket make|read ...
//	who version
//
// Flags may come before, between or after the arguments ("--" ends them).
// Every command takes -h: it prints the command's usage, every flag
// included, and exits 0. A usage mistake exits 2; an unknown command gets
// a did-you-mean.
package whocmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/gowho/gowho/internal/suggest"
)

// command is one subcommand: it gets its arguments and the standard
// streams and returns the exit status.
type command struct {
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
	summary string
}

var commands = map[string]command{
	"serve":   {runServe, "run the demo app behind the chain of a who.toml"},
	"gateway": {runGateway, "serve a who.toml's chain as forward-auth endpoint or reverse proxy ([gateway])"},
	"check":   {runCheck, "validate a who.toml and print the resolved chain"},
	"convert": {runConvert, "print a who.toml equivalent to a repoze.who who.ini"},
	"explain": {runExplain, "run one request through the chain and print what each plugin decided"},
	"ticket": {func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
		return runTicket(args, stdout, stderr)
	}, "make or read an auth_tkt cookie value"},
	"htpasswd": {runHtpasswd, "print an htpasswd line for USER, password read at the prompt or from stdin"},
	"version":  {runVersion, "print gowho's module version and the Go version it was built with"},
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
// usage mistake (`who check` exits 1 on a config mistake, and with -strict
// on a warning; `who convert` 2 when something could not be converted). The plugins are those of
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
		hint := ""
		if near := suggest.Closest(args[0], slices.Sorted(maps.Keys(commands))); near != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", near)
		}
		fmt.Fprintf(stderr, "who: unknown command %q%s\n", args[0], hint)
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: who COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range slices.Sorted(maps.Keys(commands)) {
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
	if h := flagSetHook.Load(); h != nil {
		(*h)(fs)
	}
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

// flagSetHook, when set (by a test), sees every command's FlagSet before
// it parses: the test that every flag is in its command's usage.
var flagSetHook atomic.Pointer[func(*flag.FlagSet)]

// parseArgs parses args into fs with the flags anywhere: before, between
// or after the positional arguments (`who check who.toml -strict`), which
// it returns in order. "--" ends the flags; what follows is positional.
// ok and code are as for parseFlags.
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// configArg returns the configuration file of a command that takes it as
// -config FILE (flagValue) or as its first positional argument, followed
// by want more arguments, and those arguments. Giving neither, both, or
// another number of arguments is an error saying what was expected.
func configArg(flagValue string, pos []string, want int) (file string, rest []string, err error) {
	switch {
	case flagValue != "" && len(pos) == want:
		return flagValue, pos, nil
	case flagValue == "" && len(pos) == want+1:
		return pos[0], pos[1:], nil
	case flagValue == "" && len(pos) == 0:
		return "", nil, errors.New("give the configuration file: -config FILE, or FILE as the first argument")
	}
	got := len(pos)
	if flagValue != "" {
		got++
	}
	return "", nil, fmt.Errorf("want the configuration file and %d more arguments, got %d arguments in all", want, got)
}

// setUsage makes fs's usage the synopsis lines, then the about lines, then
// every flag fs defines (flag.PrintDefaults), so no flag goes unlisted.
func setUsage(fs *flag.FlagSet, w io.Writer, synopsis []string, about ...string) {
	fs.Usage = func() {
		for i, l := range synopsis {
			if i == 0 {
				fmt.Fprintln(w, "usage: "+l)
			} else {
				fmt.Fprintln(w, "       "+l)
			}
		}
		for _, l := range about {
			fmt.Fprintln(w, l)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags (before, between or after the arguments):")
			fs.PrintDefaults()
		}
	}
}

// errorLine is "who CMD: MESSAGE" without a repeated prefix: an error of
// package htpasswd reads "htpasswd: ...", which `who htpasswd` would print
// as "who htpasswd: htpasswd: ...".
func errorLine(cmd string, err error) string {
	msg := err.Error()
	last := cmd[strings.LastIndexByte(cmd, ' ')+1:]
	for strings.HasPrefix(msg, last+": ") {
		msg = strings.TrimPrefix(msg, last+": ")
	}
	return cmd + ": " + msg
}
