package whocmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gowho/gowho/config"
)

// runCheck validates a who.toml: it prints the resolved chain and exits 0,
// or prints every mistake (one per line) and exits 1.
func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: who check FILE")
		fmt.Fprintln(stderr, "Validates FILE (every mistake, with its line) and prints the chain per stage and classification.")
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	// What the plugins log while they are built goes to stderr, masked
	// (config masks the errors itself).
	mh := newMaskingHandler(slog.NewTextHandler(stderr, nil))
	chain, err := config.Load(fs.Arg(0), config.Options{Logger: slog.New(mh)})
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	mh.chain.Store(chain)
	defer chain.Close()
	describeChain(stdout, chain)
	return 0
}

// printErrors prints each joined error on its own line.
func printErrors(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			fmt.Fprintln(w, strings.TrimRight(e.Error(), "\n"))
		}
		return
	}
	fmt.Fprintln(w, strings.TrimRight(err.Error(), "\n"))
}
