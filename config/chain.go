package config

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gowho/gowho/who"
)

// Chain is a loaded who.toml: the middleware, every plugin it built and
// what the file said, for tools such as `who check`.
type Chain struct {
	// Middleware runs the identifiers, authenticators, metadata providers
	// and challengers in the configured order.
	Middleware *who.Middleware

	file      string
	mask      *masker
	general   General
	plugins   map[string]any
	infos     []PluginInfo
	outer     []who.OuterMiddleware
	stages    [4][]StageEntry
	closeOnce sync.Once
	closeErr  error
}

// Mask returns s with the secrets of the chain's file masked: the value
// of every secret-named option (see SecretKey), every value read from the
// environment, and every URL or DSN password. Use it on messages that may
// quote an option, such as a plugin's errors in a log.
func (c *Chain) Mask(s string) string { return c.mask.mask(s) }

// General is the resolved [general] section.
type General struct {
	RequestClassifier string // "default", a registered classifier or a plugin name
	ChallengeDecider  string // "default", "passthrough", a registered decider or a plugin name
	RemoteUserKey     string // "" when unset
	TrustedUserHeader string // "" when unset
}

// PluginInfo describes one built plugin.
type PluginInfo struct {
	Name     string // [plugin.NAME], or the stage-list name of a plugin built without a section
	Use      string // the factory name as written (possibly an alias)
	Line     int    // its section header, or the stage list that named it
	Declared bool   // has a [plugin.NAME] section
	Plugin   any    // the value the factory returned
}

// A Stage is one stage list, resolved.
type Stage struct {
	Name    string // who.StageIdentifiers, who.StageAuthenticators, who.StageChallengers or who.StageMDProviders
	Entries []StageEntry
}

// A StageEntry is one entry of a stage list.
type StageEntry struct {
	Name            string   // the plugin's name
	Use             string   // the plugin's use
	Classifications []string // nil: every request; ["unused"] when Unused
	Unused          bool     // "name;unused": built and referable, never run
	Line            int      // the line of the entry
}

// runsFor reports whether the entry runs for classification c.
func (e StageEntry) runsFor(c string) bool {
	if e.Unused {
		return false
	}
	return len(e.Classifications) == 0 || slices.Contains(e.Classifications, c)
}

// Handler returns next behind the chain: the OuterMiddleware plugins
// (session managers), in file order with the first declared outermost,
// wrap Middleware.Wrap(next).
func (c *Chain) Handler(next http.Handler) http.Handler {
	h := c.Middleware.Wrap(next)
	for i := len(c.outer) - 1; i >= 0; i-- {
		h = c.outer[i].Wrap(h)
	}
	return h
}

// Close closes every plugin that implements io.Closer, in reverse build
// order, and returns their errors joined. Later calls return the same.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() {
		var built []*plugin
		for _, p := range c.infos {
			built = append(built, &plugin{name: p.Name, value: p.Plugin})
		}
		c.closeErr = closeAll(built)
	})
	return c.closeErr
}

// Plugin returns the plugin built under name (declared, listed, or
// ";unused").
func (c *Chain) Plugin(name string) (any, bool) {
	p, ok := c.plugins[name]
	return p, ok
}

// Plugins describes every built plugin, in build order: the [plugin.NAME]
// sections in file order, then the registered plugins that stage lists
// name without a section.
func (c *Chain) Plugins() []PluginInfo { return slices.Clone(c.infos) }

// General returns the resolved [general] section.
func (c *Chain) General() General { return c.general }

// Stages returns the four stage lists in chain order (identifiers,
// authenticators, challengers, mdproviders), each with its entries in
// configured order, ";unused" ones included.
func (c *Chain) Stages() []Stage {
	out := make([]Stage, len(stageNames))
	for i, name := range stageNames {
		entries := make([]StageEntry, len(c.stages[i]))
		for j, e := range c.stages[i] {
			e.Classifications = slices.Clone(e.Classifications)
			entries[j] = e
		}
		out[i] = Stage{Name: name, Entries: entries}
	}
	return out
}

// Classifications returns the classifications Describe shows: browser,
// dav and xmlpost, then every other one a stage list names, sorted.
func (c *Chain) Classifications() []string {
	out := []string{who.ClassBrowser, who.ClassDAV, who.ClassXMLPost}
	var extra []string
	for _, entries := range c.stages {
		for _, e := range entries {
			for _, cl := range e.Classifications {
				if cl != who.Unused && !slices.Contains(out, cl) && !slices.Contains(extra, cl) {
					extra = append(extra, cl)
				}
			}
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// Describe writes the resolved chain for people: the [general] settings,
// each stage in order, what runs for each classification, the plugins
// that are declared but never run, and the outer middleware.
func (c *Chain) Describe(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "chain from %s\n\n", c.file)
	fmt.Fprintf(&b, "[general]\n")
	fmt.Fprintf(&b, "  request_classifier  = %s\n", c.general.RequestClassifier)
	fmt.Fprintf(&b, "  challenge_decider   = %s\n", c.general.ChallengeDecider)
	fmt.Fprintf(&b, "  remote_user_key     = %s\n", orNone(c.general.RemoteUserKey))
	fmt.Fprintf(&b, "  trusted_user_header = %s\n", orNone(c.general.TrustedUserHeader))

	uses := map[string]string{}
	for _, p := range c.infos {
		uses[p.Name] = p.Use
	}
	for i, name := range stageNames {
		fmt.Fprintf(&b, "\n[%s] in order\n", name)
		n := 0
		for _, e := range c.stages[i] {
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
		if len(c.stages[i]) == 0 {
			b.WriteString("  (none)\n")
		}
	}

	b.WriteString("\nper classification\n")
	width := len("(other)")
	for _, cl := range c.Classifications() {
		width = max(width, len(cl))
	}
	for _, cl := range append(c.Classifications(), "") {
		label := cl
		if cl == "" {
			label = "(other)" // a custom classifier's word no list names
		}
		fmt.Fprintf(&b, "  %-*s", width+1, label+":")
		for i, name := range stageNames {
			var names []string
			for _, e := range c.stages[i] {
				if cl == "" && len(e.Classifications) == 0 || cl != "" && e.runsFor(cl) {
					names = append(names, e.Name)
				}
			}
			list := strings.Join(names, ", ")
			if list == "" {
				list = "-"
				if name == who.StageChallengers {
					list = "- (a challenge answers 500)"
				}
			}
			if i > 0 {
				fmt.Fprintf(&b, "  %-*s", width+1, "")
			}
			fmt.Fprintf(&b, " %-15s %s\n", name+":", list)
		}
	}

	var idle []string
	for _, p := range c.infos {
		listed, unusedIn := false, []string(nil)
		for i, entries := range c.stages {
			for _, e := range entries {
				if e.Name != p.Name {
					continue
				}
				if e.Unused {
					unusedIn = append(unusedIn, "["+stageNames[i]+"]")
				} else {
					listed = true
				}
			}
		}
		if listed {
			continue
		}
		why := "listed in no stage"
		if len(unusedIn) > 0 {
			why = "\";unused\" under " + strings.Join(unusedIn, ", ")
		}
		if _, ok := p.Plugin.(who.OuterMiddleware); ok {
			why += "; wraps the chain"
		}
		idle = append(idle, fmt.Sprintf("  %s (use = %q): %s\n", p.Name, p.Use, why))
	}
	b.WriteString("\ndeclared, never run by a stage (referable by name)\n")
	if len(idle) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, s := range idle {
		b.WriteString(s)
	}

	b.WriteString("\nouter middleware, outermost first\n")
	if len(c.outer) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, p := range c.infos {
		if _, ok := p.Plugin.(who.OuterMiddleware); ok {
			fmt.Fprintf(&b, "  %s (use = %q)\n", p.Name, p.Use)
		}
	}
	_, _ = io.WriteString(w, b.String())
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
