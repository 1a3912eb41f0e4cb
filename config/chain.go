package config

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gowho/gowho/who"
)

// Chain is a loaded who.toml: the middleware, every plugin it built and
// what the file said, for tools such as `who check`. Handler puts it in
// front of an application.
type Chain struct {
	// middleware runs the identifiers, authenticators, metadata providers
	// and challengers in the configured order; Handler wraps it in the
	// outer middleware (session managers), which must not be skipped.
	middleware *who.Middleware

	file      string
	mask      *masker
	general   General
	plugins   map[string]any
	infos     []PluginInfo
	outer     []who.OuterMiddleware
	stages    [4][]StageEntry
	sections  map[string]any // Section
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
	// FailureLogInterval is the middleware's (who.Config.FailureLogInterval):
	// who.DefaultFailureLogInterval when unset, negative when every
	// failure is logged.
	FailureLogInterval time.Duration
	// TrustedProxies is [general] trusted_proxies, parsed (the zero value,
	// trusting none, when unset).
	TrustedProxies who.TrustedProxies
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

// Handler returns next behind the chain: the OuterMiddleware plugins
// (session managers), in file order with the first declared outermost,
// wrap the who middleware, which wraps next. It is the one way to serve
// a chain.
func (c *Chain) Handler(next http.Handler) http.Handler {
	h := c.middleware.Wrap(next)
	for i := len(c.outer) - 1; i >= 0; i-- {
		h = c.outer[i].Wrap(h)
	}
	return c.middleware.Observed(h) // outer middlewares' who.Report reaches Options.Observers
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

// File returns the file name the chain was loaded from, as given to Load
// or Parse.
func (c *Chain) File() string { return c.file }

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

// Classifications returns the classifications worth showing per stage
// (as `who check` does): browser, dav and xmlpost, then every other one a
// stage list names, sorted.
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
