package whocmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
)

// describeChain writes the resolved chain for people, as `who check`
// prints it: the [general] settings, each stage in order, what runs for
// each classification, the plugins that are declared but never run, and
// the outer middleware.
func describeChain(w io.Writer, c *config.Chain) {
	var b strings.Builder
	g := c.General()
	fmt.Fprintf(&b, "chain from %s\n\n", c.File())
	fmt.Fprintf(&b, "[general]\n")
	fmt.Fprintf(&b, "  request_classifier   = %s\n", g.RequestClassifier)
	fmt.Fprintf(&b, "  challenge_decider    = %s\n", g.ChallengeDecider)
	fmt.Fprintf(&b, "  remote_user_key      = %s\n", orNone(g.RemoteUserKey))
	fmt.Fprintf(&b, "  trusted_user_header  = %s\n", orNone(g.TrustedUserHeader))
	interval := g.FailureLogInterval.String()
	if g.FailureLogInterval < 0 {
		interval += " (every failure logged)"
	}
	fmt.Fprintf(&b, "  failure_log_interval = %s\n", interval)

	stages := c.Stages()
	for _, s := range stages {
		fmt.Fprintf(&b, "\n[%s] in order\n", s.Name)
		n := 0
		for _, e := range s.Entries {
			if e.Unused {
				fmt.Fprintf(&b, "  -  %s (use = %q): unused (built and referable, never run)\n", e.Name, e.Use)
				continue
			}
			n++
			runs := "every request"
			if len(e.Classifications) > 0 {
				runs = strings.Join(e.Classifications, ", ")
			}
			fmt.Fprintf(&b, "  %d. %s (use = %q): %s\n", n, e.Name, e.Use, runs)
		}
		if len(s.Entries) == 0 {
			b.WriteString("  (none)\n")
		}
	}

	b.WriteString("\nper classification\n")
	classes := c.Classifications()
	width := len("(other)")
	for _, cl := range classes {
		width = max(width, len(cl))
	}
	for _, cl := range append(classes, "") {
		label := cl
		if cl == "" {
			label = "(other)" // a custom classifier's word no list names
		}
		fmt.Fprintf(&b, "  %-*s", width+1, label+":")
		for i, s := range stages {
			var names []string
			for _, e := range s.Entries {
				// No list names "", so (other) gets the entries that run
				// for every request.
				if (who.Entry{Classifications: e.Classifications}).RunsFor(cl) {
					names = append(names, e.Name)
				}
			}
			list := strings.Join(names, ", ")
			if list == "" {
				list = "-"
				if s.Name == who.StageChallengers {
					list = "- (a challenge answers 500)"
				}
			}
			if i > 0 {
				fmt.Fprintf(&b, "  %-*s", width+1, "")
			}
			fmt.Fprintf(&b, " %-15s %s\n", s.Name+":", list)
		}
	}

	plugins := c.Plugins()
	var idle, outer []string
	for _, p := range plugins {
		_, wraps := p.Plugin.(who.OuterMiddleware)
		if wraps {
			outer = append(outer, fmt.Sprintf("  %s (use = %q)\n", p.Name, p.Use))
		}
		listed, unusedIn := false, []string(nil)
		for _, s := range stages {
			for _, e := range s.Entries {
				if e.Name != p.Name {
					continue
				}
				if e.Unused {
					unusedIn = append(unusedIn, "["+s.Name+"]")
				} else {
					listed = true
				}
			}
		}
		if listed {
			continue
		}
		why := "listed in no stage"
		switch p.Name {
		case g.RequestClassifier:
			why = "the [general] request_classifier"
		case g.ChallengeDecider:
			why = "the [general] challenge_decider"
		}
		if len(unusedIn) > 0 {
			why = "\";unused\" under " + strings.Join(unusedIn, ", ")
		}
		if wraps {
			why += "; wraps the chain"
		}
		idle = append(idle, fmt.Sprintf("  %s (use = %q): %s\n", p.Name, p.Use, why))
	}
	writeSection(&b, "declared, never run by a stage (referable by name)", idle)
	writeSection(&b, "outer middleware, outermost first", outer)
	_, _ = io.WriteString(w, b.String())
}

// writeSection writes a titled list of lines, or "(none)".
func writeSection(b *strings.Builder, title string, lines []string) {
	fmt.Fprintf(b, "\n%s\n", title)
	if len(lines) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, s := range lines {
		b.WriteString(s)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
