package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/who"
)

// Options tune Load and Parse. The zero value uses who.DefaultRegistry,
// slog.Default() and the process environment.
type Options struct {
	// Registry holds the plugin factories, classifiers and deciders that
	// `use`, stage lists and [general] name; nil: who.DefaultRegistry.
	Registry *who.Registry
	// Logger is given to the middleware (who.Config.Logger) and, with the
	// attributes plugin=NAME and use=USE, to every factory
	// (PluginSpec.Logger); nil: slog.Default().
	Logger *slog.Logger
	// LookupEnv resolves ${NAME} in string values; nil: os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Sections are the extra top-level tables the file may have, by name
	// (see SectionFunc); nil: those registered with RegisterSection.
	Sections map[string]SectionFunc
	// Observers watch the chain (who.Config.Observers): metrics
	// (observe/metrics), tracing (observe/tracing), the audit log
	// (observe/audit). Chain.Handler lets the outer middlewares (a
	// session manager) report to them too. nil: none, at no cost.
	Observers []who.Observer
}

// Load reads the who.toml at path and builds its chain. See Parse.
func Load(path string, opts Options) (*Chain, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Parse(path, data, opts)
}

// Parse builds the chain described by data, the content of filename.
// filename appears in errors, and relative paths in plugin options are
// resolved against its directory (PluginSpec.Dir).
//
// On failure Parse returns every mistake it found, as errors.Join of
// *Error sorted by line, and closes every plugin it had built.
func Parse(filename string, data []byte, opts Options) (*Chain, error) {
	l := &loader{
		file:         filename,
		dir:          filepath.Dir(filename),
		reg:          opts.Registry,
		log:          opts.Logger,
		lookup:       opts.LookupEnv,
		sections:     opts.Sections,
		observers:    opts.Observers,
		plugins:      map[string]*plugin{},
		failed:       map[string]bool{},
		kinds:        map[string]*plugin{},
		kindDeclared: map[string]bool{},
	}
	if l.reg == nil {
		l.reg = who.DefaultRegistry
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.lookup == nil {
		l.lookup = os.LookupEnv
	}
	l.mask = &masker{}
	c := l.load(data)
	l.errs.maskErrors(l.mask)
	if err := l.errs.err(); err != nil {
		closeAll(l.order)
		return nil, err
	}
	return c, nil
}

// The top-level sections a who.toml may have.
var topSections = append([]string{"general", "plugin"}, stageNames...)

// plugin is one built (or failed) plugin.
type plugin struct {
	name    string
	use     string // as written in `use`, or the stage-list name
	line    int    // the [plugin.NAME] header, or the first stage list naming it
	section bool   // declared with [plugin.NAME]
	stage   string // without a section: the stage list that named it first
	value   any
	bad     bool // failed to resolve or validate
}

type loader struct {
	file   string
	dir    string
	reg    *who.Registry
	log    *slog.Logger
	lookup func(string) (string, bool)

	src           *source
	errs          errorList
	plugins       map[string]*plugin
	order         []*plugin          // build order
	failed        map[string]bool    // declared, but could not be built
	kinds         map[string]*plugin // failed plugins whose type is known (value: of that type, not usable)
	kindDeclared  map[string]bool    // kinds from who.Registry.Kind, not from a call of the factory
	envBad        map[string]bool    // toml.Key strings of keys (and their parents) with a ${ENV} mistake
	mask          *masker            // the file's secrets, masked in every message
	uses          map[string]string
	stages        [4][]StageEntry
	unbuilt       [4][]StageEntry // entries naming a plugin that is unknown or failed to build
	general       general
	sections      map[string]SectionFunc // Options.Sections
	sectionValues map[string]any         // what each extra section's SectionFunc built
	observers     []who.Observer         // Options.Observers
}

// load runs the phases: parse and expand ${ENV}, check the top level,
// decode [general], build the plugins, read the stage lists, resolve
// [general]'s names, resolve references, validate, and let who.New check
// the stages. Every phase reports all its mistakes and the later ones
// skip only what an earlier mistake spoiled, so one run finds them all.
func (l *loader) load(data []byte) *Chain {
	src, perr := parse(l.file, data)
	if perr != nil {
		l.errs.add(perr)
		return nil
	}
	l.src = src
	l.expandEnv()
	l.checkTopLevel()
	l.decodeGeneral()
	l.buildSections()
	l.buildDeclared()
	l.readStages()
	cfg := who.Config{
		Logger:            l.log,
		RemoteUserKey:     l.general.RemoteUserKey,
		TrustedUserHeader: l.general.TrustedUserHeader,
		// A negative interval logs every failure; who.Duration keeps the sign.
		FailureLogInterval: l.general.FailureLogInterval.D(),
		TrustedProxies:     l.general.proxies,
		Observers:          l.observers,
	}
	cfg.Classifier = resolveGeneral(l, classifierKey, l.general.RequestClassifier)
	if cfg.Classifier != nil {
		l.checkClassifications()
	}
	cfg.Decider = resolveGeneral(l, deciderKey, l.general.ChallengeDecider)
	l.resolve()
	l.validate()
	// who.New checks the stages even when other mistakes were found, so
	// that they are reported together; the middleware is then dropped.
	listed := l.setStages(&cfg)
	m, err := who.New(cfg)
	l.reportNewError(err, listed)
	if len(l.errs) > 0 {
		return nil
	}
	c := &Chain{middleware: m, file: l.file, mask: l.mask, plugins: map[string]any{}, stages: l.stages, general: l.general.resolved(), sections: l.sectionValues}
	for _, p := range l.order {
		c.plugins[p.name] = p.value
		c.infos = append(c.infos, PluginInfo{Name: p.name, Use: p.use, Line: p.line, Declared: p.section, Plugin: p.value})
		if om, ok := p.value.(who.OuterMiddleware); ok {
			c.outer = append(c.outer, om)
		}
	}
	return c
}

// expandEnv expands ${NAME} in every string of the file, reporting each
// mistake at its key, and collects the file's secrets for masking.
func (l *loader) expandEnv() {
	var envErrs []keyError
	// Values read from the environment are never echoed: neither the
	// variables' values nor the strings they were expanded into.
	lookup := func(name string) (string, bool) {
		v, ok := l.lookup(name)
		if ok {
			l.mask.add(v)
		}
		return v, ok
	}
	expandTree(l.src.tree, nil, lookup, func(path []string, err error) {
		envErrs = append(envErrs, keyError{path: path, err: err})
	}, l.mask.add)
	l.mask.collectFile(l.src.tree)
	l.uses = l.rawUses()
	l.envBad = map[string]bool{}
	for _, ke := range envErrs {
		// What holds an unexpanded value is not built or resolved: its
		// mistake is the variable.
		for n := 1; n <= len(ke.path); n++ {
			l.envBad[toml.Key(ke.path[:n]).String()] = true
		}
		l.errAt(ke.path, fmt.Errorf("key %q: %w", pathString(l.relKey(ke.path)), ke.err))
	}
}

// checkTopLevel reports top-level keys and unknown sections.
func (l *loader) checkTopLevel() {
	tree := l.src.tree
	known := l.knownSections()
	for _, k := range slices.Sorted(maps.Keys(tree)) {
		if slices.Contains(known, k) {
			if _, ok := tree[k].(map[string]any); !ok {
				l.errAt([]string{k}, wrongType(k, "a table (["+k+"])", tree[k]))
			}
			continue
		}
		if _, ok := tree[k].(map[string]any); !ok {
			l.errs.add(&Error{File: l.file, Line: l.src.line(k), Key: k,
				Err: tagged(ErrUnknownKey, "unknown top-level key %q (keys belong in a section such as [general] or [plugin.NAME])", k)})
			continue
		}
		hint := ""
		if s := suggest.Closest(k, known); s != "" {
			hint = fmt.Sprintf("did you mean [%s]? ", s)
		}
		l.errAt([]string{k}, tagged(ErrUnknownKey, "unknown section [%s] (%sknown: [%s])",
			toml.Key{k}.String(), hint, strings.Join(known, "], [")))
	}
}

// rawUses maps each [plugin.NAME] to its use string, for error prefixes.
func (l *loader) rawUses() map[string]string {
	uses := map[string]string{}
	plugins, _ := l.src.tree["plugin"].(map[string]any)
	for name, sec := range plugins {
		if m, ok := sec.(map[string]any); ok {
			if u, ok := m["use"].(string); ok {
				uses[name] = u
			}
		}
	}
	return uses
}

// relKey is the key part of a full path: below [plugin.NAME] or below the
// top-level section.
func (l *loader) relKey(path []string) []string {
	if len(path) >= 2 && path[0] == "plugin" {
		return path[2:]
	}
	if len(path) >= 1 {
		return path[1:]
	}
	return nil
}

// errAt records err about the key at the full path (section first).
func (l *loader) errAt(path []string, err error) {
	e := &Error{File: l.file, Err: err}
	if l.src != nil {
		e.Line = l.src.line(path...)
	}
	switch {
	case len(path) >= 2 && path[0] == "plugin":
		e.Section = sectionName(path[1])
		e.Plugin = path[1]
		e.Use = l.uses[path[1]]
		e.Key = pathString(path[2:])
	case len(path) >= 1:
		e.Section = toml.Key{path[0]}.String()
		e.Key = pathString(path[1:])
	}
	l.errs.add(e)
}

// pluginErr records err about plugin p, pointing at key (relative to its
// section) when p has a section and key is set, else at line.
func (l *loader) pluginErr(p *plugin, key string, line int, err error) {
	if p.section {
		path := []string{"plugin", p.name}
		if key != "" {
			path = append(path, strings.Split(key, ".")...)
		}
		l.errAt(path, err)
		return
	}
	l.errs.add(&Error{File: l.file, Line: line, Section: p.stage, Key: key, Plugin: p.name,
		Err: fmt.Errorf("plugin %q (registered, no [%s] section): %w", p.name, sectionName(p.name), err)})
}

// closeAll closes every io.Closer among built, in reverse order.
func closeAll(built []*plugin) error {
	var errs []error
	for i := len(built) - 1; i >= 0; i-- {
		if c, ok := built[i].value.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("config: closing plugin %q: %w", built[i].name, err))
			}
		}
	}
	return errors.Join(errs...)
}
