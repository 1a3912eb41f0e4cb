package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/who"
)

// Stage-list sections, in chain order.
var stageNames = who.Stages()

// readStages reads the four stage lists, building the registered plugins
// they name without a [plugin.NAME] section.
func (l *loader) readStages() {
	for si, stage := range stageNames {
		sec, ok := l.src.tree[stage].(map[string]any)
		if !ok || l.envBad[toml.Key{stage}.String()] {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(sec)) {
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
				l.checkFailedStage(stage, name, lines[i])
				// Its classifications are checked all the same.
				l.unbuilt[si] = append(l.unbuilt[si], StageEntry{Name: name, Classifications: classes, Line: lines[i]})
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
	return slices.Sorted(maps.Keys(sections))
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

// setStages fills cfg's four stage lists for who.New with the entries
// whose plugin resolved and validated (the others' mistakes are already
// reported), and returns, per stage, the StageEntry each who.Entry came
// from: a *who.StageError's Stage and Index find it there.
func (l *loader) setStages(cfg *who.Config) (listed [4][]StageEntry) {
	var lists [4][]who.Entry
	for si, entries := range l.stages {
		for _, e := range entries {
			p := l.plugins[e.Name]
			if p.bad {
				continue
			}
			lists[si] = append(lists[si], who.Entry{Name: e.Name, Plugin: p.value, Classifications: slices.Clone(e.Classifications)})
			listed[si] = append(listed[si], e)
		}
	}
	cfg.Identifiers, cfg.Authenticators, cfg.Challengers, cfg.MetadataProviders = lists[0], lists[1], lists[2], lists[3]
	return listed
}

// reportNewError reports who.New's error: each *who.StageError at the
// entry that listed the plugin (listed is what setStages returned), any
// other error for the whole file.
func (l *loader) reportNewError(err error, listed [4][]StageEntry) {
	for _, err := range leaves(err) {
		var se *who.StageError
		si := -1
		if errors.As(err, &se) {
			si = slices.Index(stageNames, se.Stage)
		}
		if si < 0 || se.Index < 0 || se.Index >= len(listed[si]) {
			l.errs.add(&Error{File: l.file, Err: err})
			continue
		}
		e := listed[si][se.Index]
		l.wrongStage(e.Line, l.plugins[e.Name], se)
	}
}

// wrongStage reports that plugin p, listed at line, is not what its stage
// se.Stage needs.
func (l *loader) wrongStage(line int, p *plugin, se *who.StageError) {
	if p.section {
		l.errs.add(&Error{File: l.file, Line: line, Section: sectionName(p.name), Plugin: p.name, Use: p.use,
			Err: tagged(se, "listed under [%s] but is not %s (it is: %s)", se.Stage, who.StageNoun(se.Stage), se.Is)})
		return
	}
	l.errs.add(&Error{File: l.file, Line: line, Section: se.Stage, Plugin: p.name,
		Err: tagged(se, "plugin %q (registered, no [%s] section) is not %s (it is: %s)",
			p.name, sectionName(p.name), who.StageNoun(se.Stage), se.Is)})
}

// checkFailedStage checks the stage entry at line of a plugin that failed
// to build against the type its factory would have built, when that is
// known: a missing file must not hide that the plugin cannot serve the
// stage it is listed under.
func (l *loader) checkFailedStage(stage, name string, line int) {
	k, ok := l.kinds[name]
	if !ok || servesStage(stage, k.value) {
		return
	}
	l.wrongStage(line, k, &who.StageError{Stage: stage, Index: -1, Name: name, Is: who.Implements(k.value)})
}

// servesStage reports whether plugin implements stage's interface.
func servesStage(stage string, plugin any) bool {
	var ok bool
	switch stage {
	case who.StageIdentifiers:
		_, ok = plugin.(who.Identifier)
	case who.StageAuthenticators:
		_, ok = plugin.(who.Authenticator)
	case who.StageChallengers:
		_, ok = plugin.(who.Challenger)
	case who.StageMDProviders:
		_, ok = plugin.(who.MetadataProvider)
	}
	return ok
}

// leaves flattens the tree of errors.Join errors under err, in order; nil
// gives none.
func leaves(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if err == nil {
			return nil
		}
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, leaves(e)...)
	}
	return out
}
