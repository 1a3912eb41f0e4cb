package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
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
	// Logger is given to every factory (PluginSpec.Logger) and to the
	// middleware (who.Config.Logger); nil: slog.Default().
	Logger *slog.Logger
	// LookupEnv resolves ${NAME} in string values; nil: os.LookupEnv.
	LookupEnv func(string) (string, bool)
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
		file:    filename,
		dir:     filepath.Dir(filename),
		reg:     opts.Registry,
		log:     opts.Logger,
		lookup:  opts.LookupEnv,
		plugins: map[string]*plugin{},
		failed:  map[string]bool{},
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

// Stage-list sections, in chain order.
var stageNames = []string{who.StageIdentifiers, who.StageAuthenticators, who.StageChallengers, who.StageMDProviders}

// The top-level sections a who.toml may have.
var topSections = append([]string{"general", "plugin"}, stageNames...)

// general is the [general] section.
type general struct {
	RequestClassifier string `toml:"request_classifier"`
	ChallengeDecider  string `toml:"challenge_decider"`
	RemoteUserKey     string `toml:"remote_user_key"`
	TrustedUserHeader string `toml:"trusted_user_header"`
	// FailureLogInterval is who.Config.FailureLogInterval ("" or 0: its
	// default; negative: log every failure).
	FailureLogInterval who.Duration `toml:"failure_log_interval"`
}

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

	src     *source
	errs    errorList
	plugins map[string]*plugin
	order   []*plugin       // build order
	failed  map[string]bool // declared, but could not be built
	envBad  map[string]bool // toml.Key strings of keys (and their parents) with a ${ENV} mistake
	mask    *masker         // the file's secrets, masked in every message
	uses    map[string]string
	stages  [4][]StageEntry
	general general
}

func (l *loader) load(data []byte) *Chain {
	src, perr := parse(l.file, data)
	if perr != nil {
		l.errs.add(perr)
		return nil
	}
	l.src = src
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
	expandTree(src.tree, nil, lookup, func(path []string, err error) {
		envErrs = append(envErrs, keyError{path: path, err: err})
	}, l.mask.add)
	l.mask.collectFile(src.tree)
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

	for _, k := range sortedKeys(src.tree) {
		if slices.Contains(topSections, k) {
			if _, ok := src.tree[k].(map[string]any); !ok {
				l.errAt([]string{k}, wrongType(k, "a table (["+k+"])", src.tree[k]))
			}
			continue
		}
		if _, ok := src.tree[k].(map[string]any); !ok {
			l.errs.add(&Error{File: l.file, Line: src.line(k), Key: k,
				Err: tagged(ErrUnknownKey, "unknown top-level key %q (keys belong in a section such as [general] or [plugin.NAME])", k)})
			continue
		}
		hint := ""
		if s := suggest.Closest(k, topSections); s != "" {
			hint = fmt.Sprintf("did you mean [%s]? ", s)
		}
		l.errAt([]string{k}, tagged(ErrUnknownKey, "unknown section [%s] (%sknown: [%s])",
			toml.Key{k}.String(), hint, strings.Join(topSections, "], [")))
	}
	if g, ok := src.tree["general"].(map[string]any); ok {
		for _, ke := range decodeTable(g, &l.general) {
			l.errAt(append([]string{"general"}, ke.path...), ke.err)
		}
	}
	l.buildDeclared()
	l.readStages()
	cfg := who.Config{
		Logger:            l.log,
		RemoteUserKey:     l.general.RemoteUserKey,
		TrustedUserHeader: l.general.TrustedUserHeader,
		// A negative interval logs every failure; who.Duration keeps the sign.
		FailureLogInterval: l.general.FailureLogInterval.D(),
	}
	cfg.Classifier = l.classifier()
	cfg.Decider = l.decider()
	l.resolve()
	l.validate()
	l.checkStages()
	if len(l.errs) > 0 {
		return nil
	}
	for i, entries := range l.stages {
		var list []who.Entry
		for _, e := range entries {
			list = append(list, who.Entry{Name: e.Name, Plugin: l.plugins[e.Name].value,
				Classifications: slices.Clone(e.Classifications)})
		}
		switch stageNames[i] {
		case who.StageIdentifiers:
			cfg.Identifiers = list
		case who.StageAuthenticators:
			cfg.Authenticators = list
		case who.StageChallengers:
			cfg.Challengers = list
		default:
			cfg.MetadataProviders = list
		}
	}
	m, err := who.New(cfg)
	if err != nil {
		l.errs.add(&Error{File: l.file, Err: err})
		return nil
	}
	c := &Chain{Middleware: m, file: l.file, mask: l.mask, plugins: map[string]any{}, stages: l.stages, general: General{
		RequestClassifier: or(l.general.RequestClassifier, "default"),
		ChallengeDecider:  or(l.general.ChallengeDecider, "default"),
		RemoteUserKey:     l.general.RemoteUserKey,
		TrustedUserHeader: l.general.TrustedUserHeader,
	}}
	for _, p := range l.order {
		c.plugins[p.name] = p.value
		c.infos = append(c.infos, PluginInfo{Name: p.name, Use: p.use, Line: p.line, Declared: p.section, Plugin: p.value})
		if om, ok := p.value.(who.OuterMiddleware); ok {
			c.outer = append(c.outer, om)
		}
	}
	return c
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
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

// buildDeclared builds every [plugin.NAME], in file order.
func (l *loader) buildDeclared() {
	sections, ok := l.src.tree["plugin"].(map[string]any)
	if !ok {
		return
	}
	for _, k := range l.src.keys {
		if len(k) != 2 || k[0] != "plugin" {
			continue
		}
		name := k[1]
		path := []string{"plugin", name}
		sec, ok := sections[name].(map[string]any)
		if !ok {
			l.errAt(path, tagged(ErrWrongType,
				"key %q must be a table [%s] with use = \"...\", not %s", name, sectionName(name), describe(sections[name])))
			continue
		}
		l.failed[name] = true // until built
		if why := badPluginName(name); why != "" {
			l.errAt(path, fmt.Errorf("bad plugin name %q: %s", name, why))
			continue
		}
		if l.envBad[toml.Key(path).String()] {
			continue
		}
		rawUse, has := sec["use"]
		use, isString := rawUse.(string)
		switch {
		case !has || isString && use == "":
			l.errAt(path, fmt.Errorf("missing key \"use\": name the registered plugin to build%s", l.suggestUse(name)))
			continue
		case !isString:
			l.errAt(append(path, "use"), wrongType("use", "a string", rawUse))
			continue
		}
		factory, _, err := l.reg.Factory(use)
		if err != nil {
			l.errAt(append(path, "use"), err)
			continue
		}
		opts := make(map[string]any, len(sec))
		for key, v := range sec {
			if key != "use" {
				opts[key] = v
			}
		}
		p := &plugin{name: name, use: use, line: l.src.line(path...), section: true}
		if l.build(p, factory, opts) {
			delete(l.failed, name)
		}
	}
}

// suggestUse guesses a use for a section named name, as ", as use = ...".
func (l *loader) suggestUse(name string) string {
	if _, _, err := l.reg.Factory(name); err == nil {
		return fmt.Sprintf(", as use = %q", name)
	}
	if s := suggest.Closest(name, l.reg.Plugins()); s != "" {
		return fmt.Sprintf(", as use = %q", s)
	}
	return ""
}

// decodeErrors is what PluginSpec.Decode returns when the options are
// wrong; the loader reports each mistake on its own line.
type decodeErrors []string

func (d decodeErrors) Error() string { return "config: " + strings.Join(d, "; ") }

// build calls factory for p with opts, records p on success and reports
// every mistake otherwise.
func (l *loader) build(p *plugin, factory who.Factory, opts map[string]any) (ok bool) {
	decoded := false
	var keyErrs []keyError
	spec := who.PluginSpec{
		Name:   p.name,
		Use:    p.use,
		Dir:    l.dir,
		Logger: l.log,
		Decode: func(v any) error {
			if decoded {
				return errDecodeTwice
			}
			decoded = true
			keyErrs = decodeTable(opts, v)
			if len(keyErrs) == 0 {
				return nil
			}
			msgs := make(decodeErrors, len(keyErrs))
			for i, ke := range keyErrs {
				msgs[i] = ke.err.Error()
			}
			return msgs
		},
	}
	v, err := callFactory(factory, spec)
	if len(keyErrs) > 0 {
		// The factory's error, if any, only wraps these.
		for _, ke := range keyErrs {
			l.pluginErr(p, pathString(ke.path), p.line, ke.err)
		}
		err = errors.New("bad options") // reported above
	} else if !decoded && len(opts) > 0 {
		for _, k := range sortedKeys(opts) {
			l.pluginErr(p, k, p.line, tagged(ErrUnknownKey, "unknown key %q (plugin %q takes no options)", k, p.use))
		}
		err = errors.New("bad options")
	} else if err != nil {
		var oe *who.OptionError
		if errors.As(err, &oe) && oe.Key != "" && p.section {
			l.pluginErr(p, oe.Key, p.line, err)
		} else {
			l.pluginErr(p, "", p.line, err)
		}
	} else if v == nil || isNilPointer(v) {
		err = fmt.Errorf("the factory for %q returned no plugin", p.use)
		l.pluginErr(p, "", p.line, err)
	}
	if err != nil {
		if c, ok := v.(io.Closer); ok && !isNilPointer(v) {
			_ = c.Close()
		}
		return false
	}
	p.value = v
	l.plugins[p.name] = p
	l.order = append(l.order, p)
	return true
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// callFactory runs a factory, turning a panic into an error so that a
// buggy plugin cannot take `who check` down.
func callFactory(f who.Factory, spec who.PluginSpec) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("the plugin factory panicked (a bug in the plugin): %v", r)
		}
	}()
	return f(spec)
}

// readStages reads the four stage lists, building the registered plugins
// they name without a [plugin.NAME] section.
func (l *loader) readStages() {
	for si, stage := range stageNames {
		sec, ok := l.src.tree[stage].(map[string]any)
		if !ok || l.envBad[toml.Key{stage}.String()] {
			continue
		}
		for _, k := range sortedKeys(sec) {
			if k != "plugins" {
				l.errAt([]string{stage, k}, unknownKey(k, k, "", []string{"plugins"}))
			}
		}
		raw, has := sec["plugins"]
		if !has {
			l.errAt([]string{stage}, fmt.Errorf("missing key \"plugins\": write plugins = [\"name\", \"name;browser\"] (or plugins = [] for none)"))
			continue
		}
		list, ok := raw.([]any)
		if !ok {
			l.errAt([]string{stage, "plugins"}, wrongType("plugins", `an array of entries such as ["a", "b;browser"]`, raw))
			continue
		}
		path := []string{stage, "plugins"}
		lines := l.entryLines(l.src.line(path...), list)
		seen := map[string]int{}
		for i, item := range list {
			s, ok := item.(string)
			if !ok {
				l.addAt(stage, lines[i], wrongType(fmt.Sprintf("plugins[%d]", i), "a string", item))
				continue
			}
			name, classes, err := parseEntry(s)
			if err != nil {
				l.addAt(stage, lines[i], err)
				continue
			}
			if first, dup := seen[name]; dup {
				l.addAt(stage, lines[i], tagged(ErrBadEntry, "plugin %q is listed twice (first at line %d)", name, first))
				continue
			}
			seen[name] = lines[i]
			if !l.lookupEntry(stage, name, lines[i]) {
				continue
			}
			l.stages[si] = append(l.stages[si], StageEntry{
				Name: name, Use: l.plugins[name].use, Classifications: classes,
				Unused: slices.Contains(classes, who.Unused), Line: lines[i],
			})
		}
	}
}

// addAt records err in a top-level section at line.
func (l *loader) addAt(section string, line int, err error) {
	l.errs.add(&Error{File: l.file, Line: line, Section: section, Err: err})
}

// lookupEntry makes sure the plugin a stage entry names exists, building a
// registered plugin without a section; false when it cannot (reported).
func (l *loader) lookupEntry(stage, name string, line int) bool {
	if _, ok := l.plugins[name]; ok {
		return true
	}
	if l.failed[name] {
		return false // its mistake is already reported
	}
	factory, _, err := l.reg.Factory(name)
	if err != nil {
		candidates := slices.Concat(l.declaredNames(), l.reg.Plugins())
		if s := suggest.Closest(name, candidates); s != "" {
			l.addAt(stage, line, fmt.Errorf("%w %q (did you mean %q?)", who.ErrUnknownPlugin, name, s))
		} else {
			l.addAt(stage, line, fmt.Errorf("%w %q: no [plugin.%s] section and no plugin is registered under that name in this program "+
				"(a plugin's package registers it when the program imports it: plugins/all brings in the built-in ones)",
				who.ErrUnknownPlugin, name, name))
		}
		return false // reported at every stage that names it
	}
	p := &plugin{name: name, use: name, line: line, stage: stage}
	if !l.build(p, factory, map[string]any{}) {
		l.failed[name] = true
		return false
	}
	return true
}

func (l *loader) declaredNames() []string {
	sections, _ := l.src.tree["plugin"].(map[string]any)
	return sortedKeys(sections)
}

// entryLines finds the line of each element of a stage list that starts
// at line start, by looking for its quoted text in order (an array may
// span several lines); an element not found gets the previous line.
func (l *loader) entryLines(start int, list []any) []int {
	lines := make([]int, len(list))
	cur := start
	col := 0
	for i, item := range list {
		lines[i] = cur
		s, ok := item.(string)
		if !ok || start == 0 {
			continue
		}
		for ln := cur; ln < cur+50 && ln <= len(l.src.lineStarts); ln++ {
			text := l.src.lineText(ln)
			from := 0
			if ln == cur {
				from = min(col, len(text))
			}
			j := indexQuoted(text[from:], s)
			if j >= 0 {
				lines[i] = ln
				cur, col = ln, from+j+len(s)+2
				break
			}
		}
	}
	return lines
}

func indexQuoted(text, s string) int {
	for _, q := range []string{`"`, `'`} {
		if j := strings.Index(text, q+s+q); j >= 0 {
			return j
		}
	}
	return -1
}

// classifier resolves [general] request_classifier.
func (l *loader) classifier() who.RequestClassifier {
	name := l.general.RequestClassifier
	if l.envBad[toml.Key{"general", "request_classifier"}.String()] {
		return nil
	}
	if name == "" || name == "default" {
		return who.DefaultClassifier
	}
	if p, ok := l.plugins[name]; ok {
		if c, ok := p.value.(who.Classifier); ok {
			return c.Classify
		}
		l.errAt([]string{"general", "request_classifier"}, fmt.Errorf(
			"key \"request_classifier\": plugin %q (use = %q) is not a Classifier (it is: %s)", name, p.use, kinds(p.value)))
		return nil
	}
	if l.failed[name] {
		return nil
	}
	if c, ok := l.reg.Classifier(name); ok {
		return c
	}
	l.errAt([]string{"general", "request_classifier"}, unknownName("request_classifier", "classifier", name,
		slices.Concat(l.reg.Classifiers(), l.pluginsImplementing(func(v any) bool { _, ok := v.(who.Classifier); return ok }))))
	return nil
}

// decider resolves [general] challenge_decider.
func (l *loader) decider() who.ChallengeDecider {
	name := l.general.ChallengeDecider
	if l.envBad[toml.Key{"general", "challenge_decider"}.String()] {
		return nil
	}
	if name == "" || name == "default" {
		return who.DefaultDecider
	}
	if p, ok := l.plugins[name]; ok {
		if d, ok := p.value.(who.Decider); ok {
			return d.IsChallenge
		}
		l.errAt([]string{"general", "challenge_decider"}, fmt.Errorf(
			"key \"challenge_decider\": plugin %q (use = %q) is not a Decider (it is: %s)", name, p.use, kinds(p.value)))
		return nil
	}
	if l.failed[name] {
		return nil
	}
	if d, ok := l.reg.Decider(name); ok {
		return d
	}
	l.errAt([]string{"general", "challenge_decider"}, unknownName("challenge_decider", "challenge decider", name,
		slices.Concat(l.reg.Deciders(), l.pluginsImplementing(func(v any) bool { _, ok := v.(who.Decider); return ok }))))
	return nil
}

func unknownName(key, what, name string, known []string) error {
	if s := suggest.Closest(name, known); s != "" {
		return fmt.Errorf("key %q: unknown %s %q (did you mean %q?)", key, what, name, s)
	}
	return fmt.Errorf("key %q: unknown %s %q (known: %s)", key, what, name, strings.Join(known, ", "))
}

func (l *loader) pluginsImplementing(f func(any) bool) []string {
	var names []string
	for _, p := range l.order {
		if f(p.value) {
			names = append(names, p.name)
		}
	}
	return names
}

// kinds lists the interfaces v implements, for messages.
func kinds(v any) string {
	var ks []string
	if _, ok := v.(who.Identifier); ok {
		ks = append(ks, "Identifier")
	}
	if _, ok := v.(who.Authenticator); ok {
		ks = append(ks, "Authenticator")
	}
	if _, ok := v.(who.Challenger); ok {
		ks = append(ks, "Challenger")
	}
	if _, ok := v.(who.MetadataProvider); ok {
		ks = append(ks, "MetadataProvider")
	}
	if _, ok := v.(who.Classifier); ok {
		ks = append(ks, "Classifier")
	}
	if _, ok := v.(who.Decider); ok {
		ks = append(ks, "Decider")
	}
	if _, ok := v.(who.OuterMiddleware); ok {
		ks = append(ks, "OuterMiddleware")
	}
	if len(ks) == 0 {
		return "none of the stage interfaces"
	}
	return strings.Join(ks, ", ")
}

// implements reports whether v implements the interface of stage.
func implements(stage string, v any) bool {
	var ok bool
	switch stage {
	case who.StageIdentifiers:
		_, ok = v.(who.Identifier)
	case who.StageAuthenticators:
		_, ok = v.(who.Authenticator)
	case who.StageChallengers:
		_, ok = v.(who.Challenger)
	default:
		_, ok = v.(who.MetadataProvider)
	}
	return ok
}

var stageNouns = map[string]string{
	who.StageIdentifiers:    "an Identifier",
	who.StageAuthenticators: "an Authenticator",
	who.StageChallengers:    "a Challenger",
	who.StageMDProviders:    "a MetadataProvider",
}

// checkStages checks that every listed plugin implements its stage.
func (l *loader) checkStages() {
	for si, entries := range l.stages {
		stage := stageNames[si]
		for _, e := range entries {
			p := l.plugins[e.Name]
			if p.bad || implements(stage, p.value) {
				continue
			}
			err := tagged(who.ErrWrongStage, "listed under [%s] but is not %s (it is: %s)", stage, stageNouns[stage], kinds(p.value))
			if p.section {
				l.errs.add(&Error{File: l.file, Line: e.Line, Section: sectionName(p.name), Plugin: p.name, Use: p.use, Err: err})
			} else {
				l.errs.add(&Error{File: l.file, Line: e.Line, Section: stage, Plugin: p.name,
					Err: tagged(who.ErrWrongStage, "plugin %q (registered, no [%s] section) is not %s (it is: %s)",
						p.name, sectionName(p.name), stageNouns[stage], kinds(p.value))})
			}
		}
	}
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
