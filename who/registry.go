package who

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gowho/gowho/internal/suggest"
)

// ErrUnknownPlugin is returned (wrapped) for a `use` name no factory is
// registered under.
var ErrUnknownPlugin = errors.New("unknown plugin")

// PluginSpec is what a Factory receives to build one plugin.
type PluginSpec struct {
	// Name is the plugin's name in the configuration ([plugin.NAME]).
	Name string
	// Use is the name the factory was found under (possibly an alias).
	Use string
	// Decode decodes the plugin's own options into v, strictly: an unknown
	// key, a wrong type or a bad duration is an error naming the line.
	// Decode may be called once.
	Decode func(v any) error
	// Dir is the directory of the configuration file, for relative paths
	// (repoze.who's %(here)s). Empty when built from code.
	Dir string
	// Logger is the plugin's own logger, never nil: config gives each
	// plugin the chain's logger with the attributes plugin=NAME and
	// use=USE (as written in the file), so the lines of two plugins of one
	// use can be told apart. Log through it, not slog.Default().
	Logger *slog.Logger
}

// Path resolves a file option the one way every plugin does: "" stays
// "", a leading "~/" is the user's home directory, an absolute path is
// kept, and a relative one is relative to Dir, the directory of the
// configuration file (repoze.who's %(here)s). When Dir is empty (a plugin
// built from code) a relative path is left relative to the working
// directory. The result is cleaned.
func (s PluginSpec) Path(p string) string {
	if p == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(p) || s.Dir == "" {
		return filepath.Clean(p)
	}
	return filepath.Join(s.Dir, p)
}

// A Factory builds a plugin from its options. It calls the same
// constructor Go users call. The value it returns implements one or more
// of the stage interfaces, or OuterMiddleware.
type Factory func(spec PluginSpec) (any, error)

type registration struct {
	name    string
	factory Factory
	kind    any  // what RegisterKind declared, nil when nothing
	ownKind bool // kind was declared for this very name (an alias of its own)
}

// A Registry maps plugin names (and aliases such as repoze.who's entry
// points) to factories, and names to classifiers and challenge deciders.
// The zero value is not usable; use NewRegistry. It is safe for concurrent
// use.
type Registry struct {
	mu          sync.RWMutex
	factories   map[string]registration
	canonical   []string
	classifiers map[string]RequestClassifier
	deciders    map[string]ChallengeDecider
}

// NewRegistry returns a registry holding the default classifier and the
// default and passthrough challenge deciders, and no plugins.
func NewRegistry() *Registry {
	return &Registry{
		factories: map[string]registration{},
		classifiers: map[string]RequestClassifier{
			"default": DefaultClassifier,
		},
		deciders: map[string]ChallengeDecider{
			"default":     DefaultDecider,
			"passthrough": PassthroughDecider,
		},
	}
}

// Clone returns a new registry holding everything g holds: a test extends
// a copy of DefaultRegistry with plugins of its own without touching the
// global one.
func (g *Registry) Clone() *Registry {
	g.mu.RLock()
	defer g.mu.RUnlock()
	c := &Registry{
		factories:   maps.Clone(g.factories),
		canonical:   slices.Clone(g.canonical),
		classifiers: maps.Clone(g.classifiers),
		deciders:    maps.Clone(g.deciders),
	}
	return c
}

// DefaultRegistry is where Register puts factories; plugins/all fills it.
var DefaultRegistry = NewRegistry()

// Register registers factory under name and aliases in DefaultRegistry.
// It panics on an empty name, a nil factory or a name taken twice: those
// are programming mistakes.
func Register(name string, factory Factory, aliases ...string) {
	DefaultRegistry.Register(name, factory, aliases...)
}

// Plugins lists the canonical names registered in DefaultRegistry, sorted.
func Plugins() []string { return DefaultRegistry.Plugins() }

// Register registers factory under name and aliases. It panics on an empty
// name, a nil factory or a name taken twice.
func (g *Registry) Register(name string, factory Factory, aliases ...string) {
	if name == "" {
		panic("who: Register with an empty plugin name")
	}
	if factory == nil {
		panic("who: Register " + name + " with a nil factory")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range append([]string{name}, aliases...) {
		if n == "" {
			panic("who: Register " + name + " with an empty alias")
		}
		if _, dup := g.factories[n]; dup {
			panic("who: Register called twice for plugin " + n)
		}
	}
	for _, n := range append([]string{name}, aliases...) {
		g.factories[n] = registration{name: name, factory: factory}
	}
	g.canonical = append(g.canonical, name)
	sort.Strings(g.canonical)
}

// RegisterKind declares, in DefaultRegistry, what the factory registered
// under name builds (see Registry.RegisterKind).
func RegisterKind(name string, kind any) { DefaultRegistry.RegisterKind(name, kind) }

// RegisterKind declares what the factory registered under name builds:
// kind is a value of the plugin's type, typically a nil pointer such as
// (*htpasswd.Plugin)(nil). The configuration loader then checks the stage
// lists a plugin is named in even when its factory fails (a missing
// file), so one run reports both mistakes. Declared for the registered
// name, kind holds for its aliases too, except an alias with a kind of
// its own: a factory that builds another type under an alias declares it
// with RegisterKind(alias, ...), before or after. It panics when name is
// not registered; declaring nothing is fine (the stages are then checked
// only for plugins that build), and a plugin that does build is checked
// by what it built, whatever was declared.
func (g *Registry) RegisterKind(name string, kind any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	reg, ok := g.factories[name]
	if !ok {
		panic("who: RegisterKind for unregistered plugin " + name)
	}
	if name != reg.name { // an alias: its own kind
		reg.kind, reg.ownKind = kind, true
		g.factories[name] = reg
		return
	}
	for n, r := range g.factories {
		if r.name == reg.name && (n == name || !r.ownKind) {
			r.kind = kind
			g.factories[n] = r
		}
	}
}

// Kind returns what RegisterKind declared for name (a registered name or
// an alias); false when nothing was declared.
func (g *Registry) Kind(name string) (any, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	r, ok := g.factories[name]
	return r.kind, ok && r.kind != nil
}

// RegisterClassifier registers a request classifier for [general]
// request_classifier. It panics on an empty name, nil or a duplicate.
func (g *Registry) RegisterClassifier(name string, c RequestClassifier) {
	if name == "" || c == nil {
		panic("who: RegisterClassifier needs a name and a classifier")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.classifiers[name]; dup {
		panic("who: RegisterClassifier called twice for " + name)
	}
	g.classifiers[name] = c
}

// RegisterDecider registers a challenge decider for [general]
// challenge_decider. It panics on an empty name, nil or a duplicate.
func (g *Registry) RegisterDecider(name string, d ChallengeDecider) {
	if name == "" || d == nil {
		panic("who: RegisterDecider needs a name and a decider")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.deciders[name]; dup {
		panic("who: RegisterDecider called twice for " + name)
	}
	g.deciders[name] = d
}

// Plugins lists the canonical plugin names, sorted.
func (g *Registry) Plugins() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return slices.Clone(g.canonical)
}

// Factory returns the factory registered under name (or an alias) and its
// canonical name. An unknown name is an error wrapping ErrUnknownPlugin
// with a did-you-mean.
func (g *Registry) Factory(name string) (Factory, string, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if r, ok := g.factories[name]; ok {
		return r.factory, r.name, nil
	}
	if s := suggest.Closest(name, g.canonical); s != "" {
		return nil, "", fmt.Errorf("%w %q (did you mean %q?)", ErrUnknownPlugin, name, s)
	}
	return nil, "", fmt.Errorf("%w %q: no plugin is registered under that name in this program "+
		"(a plugin's package registers it when the program imports it: plugins/all brings in the built-in ones)", ErrUnknownPlugin, name)
}

// Classifier returns the classifier registered under name.
func (g *Registry) Classifier(name string) (RequestClassifier, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	c, ok := g.classifiers[name]
	return c, ok
}

// Classifiers lists the registered classifier names, sorted.
func (g *Registry) Classifiers() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return slices.Sorted(maps.Keys(g.classifiers))
}

// Decider returns the challenge decider registered under name.
func (g *Registry) Decider(name string) (ChallengeDecider, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	d, ok := g.deciders[name]
	return d, ok
}

// Deciders lists the registered decider names, sorted.
func (g *Registry) Deciders() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return slices.Sorted(maps.Keys(g.deciders))
}
