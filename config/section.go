package config

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/gowho/gowho/who"
)

// A SectionFunc builds what an extra top-level table of who.toml
// describes, such as [gateway] (package gateway registers it): it decodes
// the table with Section.Decode and checks the values. Its result is what
// Chain.Section returns. A mistake about one key is a *who.OptionError
// whose Key is relative to the table, with [N] for the Nth (0-based)
// table of an array of tables: "upstream", "rule[2].path". Several are
// returned as errors.Join; each is reported at its key's line.
type SectionFunc func(s *Section) (any, error)

// A Section is one extra top-level table, as given to its SectionFunc.
type Section struct {
	// Name is the table's name: "gateway".
	Name string
	// Dir is the directory of the who.toml, against which relative paths
	// in the table are resolved.
	Dir string
	// Logger is the loader's logger with the attribute section=NAME.
	Logger *slog.Logger

	data    map[string]any
	decoded bool
	keyErrs []keyError
}

// Decode decodes the table into v, a non-nil pointer to a struct with
// toml tags, strictly, as PluginSpec.Decode: an unknown key or a value of
// the wrong type is reported at its line with a did-you-mean, and Decode
// returns a non-nil error (return it as it is: the loader does not report
// its mistakes twice). Call it once.
func (s *Section) Decode(v any) error {
	if s.decoded {
		return errors.New("config: Section.Decode called twice")
	}
	s.decoded = true
	s.keyErrs = decodeTable(s.data, v)
	if len(s.keyErrs) == 0 {
		return nil
	}
	msgs := make(decodeErrors, len(s.keyErrs))
	for i, ke := range s.keyErrs {
		msgs[i] = ke.err.Error()
	}
	return msgs
}

var (
	sectionsMu sync.RWMutex
	sections   = map[string]SectionFunc{}
)

// RegisterSection makes name a top-level table a who.toml may have, built
// by fn whenever a file has it; a file without it is loaded as before.
// Call it from init, as who.Register: it panics on an empty name, a nil
// fn, a name config already knows ([general], [plugin], a stage list) or
// a second registration of name. Options.Sections replaces the
// registered set for one load.
func RegisterSection(name string, fn SectionFunc) {
	if name == "" || fn == nil {
		panic("config: RegisterSection with an empty name or a nil function")
	}
	if slices.Contains(topSections, name) {
		panic(fmt.Sprintf("config: RegisterSection(%q): config owns that section", name))
	}
	sectionsMu.Lock()
	defer sectionsMu.Unlock()
	if _, dup := sections[name]; dup {
		panic(fmt.Sprintf("config: RegisterSection(%q) called twice", name))
	}
	sections[name] = fn
}

// sectionFuncs is the set of extra sections of this load.
func (l *loader) sectionFuncs() map[string]SectionFunc {
	if l.sections != nil {
		return l.sections
	}
	sectionsMu.RLock()
	defer sectionsMu.RUnlock()
	return maps.Clone(sections)
}

// knownSections are the top-level tables of this load: config's own and
// the registered ones.
func (l *loader) knownSections() []string {
	extra := slices.Sorted(maps.Keys(l.sectionFuncs()))
	return slices.Concat(topSections, extra)
}

// buildSections runs the SectionFunc of every extra table the file has,
// reporting each mistake at its key's line.
func (l *loader) buildSections() {
	funcs := l.sectionFuncs()
	for _, name := range slices.Sorted(maps.Keys(funcs)) {
		data, ok := l.src.tree[name].(map[string]any)
		if !ok || l.envBad[toml.Key{name}.String()] {
			continue
		}
		s := &Section{Name: name, Dir: l.dir, Logger: l.log.With("section", name), data: data}
		v, err := safeCall(func() (any, error) { return funcs[name](s) })
		for _, ke := range s.keyErrs {
			// The decoder's path has no array index; its message names
			// the key with it ("rule[2].acess"), which finds the line.
			key := pathString(ke.path)
			if m := quotedKey.FindStringSubmatch(ke.err.Error()); m != nil && strings.Contains(m[1], "[") {
				key = m[1]
			}
			l.sectionErr(name, key, ke.err)
		}
		if err != nil {
			var de decodeErrors
			for _, e := range leaves(err) {
				if errors.As(e, &de) {
					continue // reported above
				}
				var oe *who.OptionError
				if errors.As(e, &oe) && oe.Key != "" {
					l.sectionErr(name, oe.Key, oe.Err)
					continue
				}
				l.sectionErr(name, "", e)
			}
			continue
		}
		if len(s.keyErrs) == 0 {
			if l.sectionValues == nil {
				l.sectionValues = map[string]any{}
			}
			l.sectionValues[name] = v
		}
	}
}

// sectionErr records err about key ("upstream", "rule[2].path", "" for
// the table itself) of the extra table name.
func (l *loader) sectionErr(name, key string, err error) {
	e := &Error{File: l.file, Section: toml.Key{name}.String(), Key: key, Err: err}
	if key != "" && !strings.Contains(err.Error(), strconv.Quote(key)) {
		e.Err = fmt.Errorf("key %q: %w", key, err)
	}
	e.Line = l.sectionLine(name, key)
	l.errs.add(e)
}

// quotedKey finds the key a decoder message names: `key "rule[2].path" ...`.
var quotedKey = regexp.MustCompile(`key "([^"]*)"`)

var indexedPart = regexp.MustCompile(`^(.*)\[(\d+)\]$`)

// sectionLine is the line of key below the table name. A part "rule[2]"
// is the third [[name.rule]] table; its keys are looked for between its
// header and the next header.
func (l *loader) sectionLine(name, key string) int {
	path := []string{name}
	if key == "" {
		return l.src.line(path...)
	}
	parts := strings.Split(key, ".")
	for i, p := range parts {
		m := indexedPart.FindStringSubmatch(p)
		if m == nil {
			path = append(path, p)
			continue
		}
		path = append(path, m[1])
		n, _ := strconv.Atoi(m[2])
		header := regexp.MustCompile(`^\s*\[\[\s*` + headerPattern(toml.Key(path).String()) + `\s*\]\]`)
		seen := -1
		for ln := 1; ln <= len(l.src.lineStarts); ln++ {
			if !header.MatchString(l.src.lineText(ln)) {
				continue
			}
			if seen++; seen != n {
				continue
			}
			if i+1 < len(parts) {
				want := parts[len(parts)-1]
				if m := indexedPart.FindStringSubmatch(want); m != nil {
					want = m[1]
				}
				for k := ln + 1; k <= len(l.src.lineStarts); k++ {
					t := strings.TrimSpace(l.src.lineText(k))
					if strings.HasPrefix(t, "[") {
						break
					}
					if assigns(t, want) {
						return k
					}
				}
			}
			return ln
		}
		return l.src.line(path...)
	}
	return l.src.line(path...)
}

// Section returns what the SectionFunc of the extra top-level table name
// built, and whether the file had that table.
func (c *Chain) Section(name string) (any, bool) {
	v, ok := c.sections[name]
	return v, ok
}
