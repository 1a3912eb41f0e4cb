package whocmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
)

// runCheck validates a who.toml: it prints the resolved chain and exits 0,
// or prints every mistake (one per line) and exits 1. What the plugins
// warn about while they are built (an htpasswd file without a user) and
// what makes the chain unable to work (no plugin at all, no challenger)
// are warnings on stderr, as is a provider that does not answer a
// plugin's Check (who.Checker: an OpenID provider's discovery, a JWKS);
// with -strict, warnings exit 1 too.
func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the who.toml to check (or give it as the argument)")
	strict := fs.Bool("strict", false, "exit 1 when there were warnings, as for a mistake")
	setUsage(fs, stderr, []string{"who check [-strict] -config FILE", "who check [-strict] FILE"},
		"Validates FILE (every mistake, with its line) and prints the chain per stage and classification.",
		"Warnings (a plugin's, a provider that does not answer, or a chain that cannot work) go to stderr; they exit 0 unless -strict.")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	file, _, err := configArg(*cfgPath, pos, 0)
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who check", err))
		fs.Usage()
		return 2
	}
	// What the plugins log while they are built goes to stderr, masked
	// (config masks the errors itself), and its warnings are counted.
	mh := newMaskingHandler(slog.NewTextHandler(stderr, nil))
	warnings := &atomic.Int64{}
	chain, err := config.Load(file, config.Options{Logger: slog.New(&countingHandler{Handler: mh, warnings: warnings})})
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	mh.chain.Store(chain)
	defer chain.Close()
	describeChain(stdout, chain)
	for _, w := range chainWarnings(chain) {
		warnings.Add(1)
		fmt.Fprintf(stderr, "who check: warning: %s\n", w)
	}
	for _, w := range checkPlugins(chain, checkTimeout) {
		warnings.Add(1)
		fmt.Fprintf(stderr, "who check: warning: %s\n", w)
	}
	n := warnings.Load()
	switch {
	case n == 0:
		return 0
	case *strict:
		fmt.Fprintf(stderr, "who check: %s (-strict: exit 1)\n", plural(int(n), "warning", "warnings"))
		return 1
	}
	fmt.Fprintf(stderr, "who check: %s (with -strict they exit 1)\n", plural(int(n), "warning", "warnings"))
	return 0
}

// chainWarnings says why a chain that loaded cannot work: it declares no
// plugin at all (an empty file), or some classification has no
// challenger, so a challenge there (the application's 401) answers 500.
// The classifications are the default classifier's, those a classifier
// plugin declares (who.ClassifierWords), or, for one that declares none,
// those the stage lists name and "(other)".
func chainWarnings(c *config.Chain) []string {
	if len(c.Plugins()) == 0 {
		return []string{c.File() + " declares no plugin: every request stays anonymous and every challenge answers 500"}
	}
	classes := c.Classifications()
	if g := c.General(); g.RequestClassifier != "default" {
		cp, _ := c.Plugin(g.RequestClassifier)
		if w, ok := cp.(who.ClassifierWords); ok && len(w.ClassificationWords()) > 0 {
			classes = w.ClassificationWords()
		} else {
			classes = append(classes, "") // a custom classifier's word no list names
		}
	}
	var missing []string
	for _, cl := range classes {
		found := false
		for _, s := range c.Stages() {
			if s.Name != who.StageChallengers {
				continue
			}
			for _, e := range s.Entries {
				if !e.Unused && (who.Entry{Classifications: e.Classifications}).RunsFor(cl) {
					found = true
				}
			}
		}
		if !found {
			if cl == "" {
				cl = "(other)"
			}
			missing = append(missing, cl)
		}
	}
	switch {
	case len(missing) == 0:
		return nil
	case len(missing) == len(classes):
		return []string{"no challenger for any classification: every challenge (a 401 from the application) answers 500; list one under [challengers]"}
	}
	return []string{fmt.Sprintf("no challenger for %s of %d classifications (%s): a challenge there (a 401 from the application) answers 500",
		plural(len(missing), "", ""), len(classes), strings.Join(missing, ", "))}
}

// checkTimeout bounds each plugin's Check.
const checkTimeout = 5 * time.Second

// checkPlugins calls Check on every plugin of c that is a who.Checker
// (an OpenID provider's discovery, a key set), all at once, each within
// timeout, and returns a warning for each failure, in build order, naming
// the plugin and what failed, with the file's secrets masked. A provider
// that is down does not stop the chain (its plugins retry lazily): it is
// a warning, an error only with -strict.
func checkPlugins(c *config.Chain, timeout time.Duration) []string {
	infos := c.Plugins()
	out := make([]string, len(infos))
	var wg sync.WaitGroup
	for i, info := range infos {
		ck, ok := info.Plugin.(who.Checker)
		if !ok {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- ck.Check(ctx) }()
			var err error
			select {
			case err = <-done:
			case <-ctx.Done():
				// A Check that ignores its context is not waited for.
				err = fmt.Errorf("no answer within %s", timeout)
			}
			if err != nil {
				// One line: a provider's error page may be quoted in it.
				msg := strings.Join(strings.FieldsFunc(c.Mask(err.Error()), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
				out[i] = fmt.Sprintf("[plugin.%s] (use = %q, line %d): %s (the site starts anyway and retries)", info.Name, info.Use, info.Line, msg)
			}
		})
	}
	wg.Wait()
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// plural is "1 warning" or "N warnings"; with one and many empty, just N.
func plural(n int, one, many string) string {
	w := many
	if n == 1 {
		w = one
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", n, w))
}

// countingHandler counts the records of level Warn and above it passes on.
type countingHandler struct {
	slog.Handler
	warnings *atomic.Int64
}

// Handle counts r when it is a warning or worse and passes it on.
func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warnings.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps counting into the same counter.
func (h *countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithAttrs(attrs), warnings: h.warnings}
}

// WithGroup keeps counting into the same counter.
func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithGroup(name), warnings: h.warnings}
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
