package whocmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/convert"
)

// runConvert prints a who.toml equivalent to a repoze.who who.ini. What it
// cannot convert is written as a commented line and listed on stderr; the
// exit status is then 2 (1 for an unreadable file or ini).
func runConvert(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outFile := fs.String("o", "", "write the who.toml to `FILE` (paths are made relative to its folder) instead of stdout")
	cfgPath := fs.String("config", "", "the repoze.who `who.ini` to convert (or give it as the argument)")
	setUsage(fs, stderr, []string{"who convert [-o FILE] -config who.ini", "who convert [-o FILE] who.ini"},
		"Prints a who.toml equivalent to a repoze.who who.ini. What cannot be converted is",
		"written as a commented line and listed here; the exit status is then 2.")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	src, _, err := configArg(*cfgPath, pos, 0)
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who convert", err))
		fs.Usage()
		return 2
	}
	data, err := os.ReadFile(src)
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who convert", err))
		return 1
	}
	here, err := filepath.Abs(filepath.Dir(src))
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who convert", err))
		return 1
	}
	ini, err := convert.ParseINI(data, here)
	if err != nil {
		printINIErrors(stderr, src, err)
		return 1
	}
	// On stdout the output is assumed to sit beside its input
	// (`who convert DIR/who.ini > DIR/who.toml`): %(here)s paths are made
	// relative to the ini's folder, not to the working directory.
	outDir := here
	if *outFile != "" {
		if outDir, err = filepath.Abs(filepath.Dir(*outFile)); err != nil {
			fmt.Fprintln(stderr, errorLine("who convert", err))
			return 1
		}
	}
	toml, problems := convert.Convert(ini, convert.Options{Source: filepath.Base(src), Here: here, OutDir: outDir})
	if *outFile != "" {
		if err := os.WriteFile(*outFile, toml, 0o644); err != nil {
			fmt.Fprintln(stderr, errorLine("who convert", err))
			return 1
		}
	} else if _, err := stdout.Write(toml); err != nil {
		return 1
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, p.String())
	}
	status := 0
	if convert.Failed(problems) {
		status = 2
	}
	// Load the result as `who check` would, with stand-ins for the
	// variables the converter introduced, so what still stops it from
	// loading (a missing passwd file, a bad value) is said now.
	target := *outFile
	if target == "" {
		target = filepath.Join(outDir, "who.toml")
	}
	chain, err := config.Parse(target, toml, config.Options{
		Logger:    slog.New(slog.DiscardHandler),
		LookupEnv: checkEnv,
	})
	if err != nil {
		fmt.Fprintln(stderr, "who convert: the converted file does not load yet (fix this, then run who check):")
		printErrors(stderr, err)
		return 2
	}
	_ = chain.Close()
	return status
}

// checkEnv is the environment for the load check: the variables that
// `who convert` writes get stand-ins when unset.
func checkEnv(k string) (string, bool) {
	if v, ok := os.LookupEnv(k); ok {
		return v, true
	}
	v, ok := map[string]string{
		"WHO_SQL_DRIVER":       "sqlite",
		"WHO_SQL_DSN":          ":memory:",
		"WHO_AUTH_TKT_SECRET":  "stand-in-secret-of-32-bytes-or-more",
		"WHO_MEMCACHED_SECRET": "stand-in",
	}[k]
	return v, ok
}

// printINIErrors prints the who.ini's syntax errors as FILE:LINE: MESSAGE,
// naming the file given on the command line.
func printINIErrors(w io.Writer, src string, err error) {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		if se, ok := errors.AsType[*convert.SyntaxError](e); ok {
			fmt.Fprintf(w, "%s:%d: %s\n", src, se.Line, se.Msg)
			continue
		}
		fmt.Fprintln(w, errorLine("who convert", e))
	}
}
