package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/who"
)

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
// every mistake otherwise. The factory's logger carries plugin=NAME and
// use=USE, so that two plugins of one use tell their lines apart.
//
// Every mistake of the plugin is reported in one run: all the decoder's
// key errors, then, when there were some, what the factory says about the
// options that decoded (it is called again without the bad keys: its own
// checks, such as a missing file, were hidden behind the first error), and
// each *who.OptionError of an errors.Join the factory returns at its own
// key. A plugin that fails keeps its kind when a call tells it (see
// noteKind), so that its stage lists are still checked.
func (l *loader) build(p *plugin, factory who.Factory, opts map[string]any) (ok bool) {
	bl := &buildLog{}
	v, keyErrs, decoded, err := l.callWith(p, factory, opts, bl)
	l.noteKind(p, v)
	switch {
	case len(keyErrs) > 0:
		// The factory's error, if any, only wraps these.
		bad := map[string]bool{}
		for _, ke := range keyErrs {
			l.pluginErr(p, pathString(ke.path), p.line, ke.err)
			if len(ke.path) > 0 {
				bad[ke.path[0]] = true
			}
		}
		closePlugin(v)
		l.findMore(p, factory, opts, bad, map[string]bool{}, bl)
		return false
	case !decoded && len(opts) > 0 && err == nil:
		// A factory that failed before decoding may take options: its
		// error is the one to report, below.
		for _, k := range slices.Sorted(maps.Keys(opts)) {
			l.pluginErr(p, k, p.line, tagged(ErrUnknownKey, "unknown key %q (plugin %q takes no options)", k, p.use))
		}
		closePlugin(v)
		return false
	case err != nil:
		reported := map[string]bool{}
		bad := l.reportFactoryError(p, err, nil, reported, "")
		closePlugin(v)
		if len(bad) > 0 {
			l.findMore(p, factory, opts, bad, reported, bl)
		}
		return false
	case v == nil || isNilPointer(v):
		l.pluginErr(p, "", p.line, fmt.Errorf("the factory for %q returned no plugin", p.use))
		return false
	}
	p.value = v
	l.plugins[p.name] = p
	l.order = append(l.order, p)
	return true
}

// callWith runs factory for p with opts: the value it returned, the
// decoder's key errors, whether the factory decoded, and its error. The
// factory's logger drops a line bl has seen during an earlier call for p.
func (l *loader) callWith(p *plugin, factory who.Factory, opts map[string]any, bl *buildLog) (v any, keyErrs []keyError, decoded bool, err error) {
	spec := who.PluginSpec{
		Name:   p.name,
		Use:    p.use,
		Dir:    l.dir,
		Logger: slog.New(&onceHandler{next: l.log.Handler(), log: bl}).With("plugin", p.name, "use", p.use),
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
	bl.during(func() { v, err = callFactory(factory, spec) })
	return v, keyErrs, decoded, err
}

// findMore finds the mistakes a first one hid: it calls the factory
// again without the keys in bad (those with a reported mistake), reports
// what it says about the others, and repeats while the factory names new
// keys. A factory's checks often stop at the first wrong option, and a
// decoding error stops them all; a call that succeeds also tells the
// plugin's kind (see noteKind). Plugins built on the way are closed.
// reported holds the messages reported so far, which are not repeated.
//
// What a later call reports may follow from the keys left out (without a
// wrong store = 5 the session plugin's default store rejects data_dir), so
// each such message says which keys were left out.
func (l *loader) findMore(p *plugin, factory who.Factory, opts map[string]any, bad, reported map[string]bool, bl *buildLog) {
	for range len(opts) {
		good := make(map[string]any, len(opts))
		var without []string
		for k, v := range opts {
			if bad[k] {
				without = append(without, k)
			} else {
				good[k] = v
			}
		}
		if len(without) == 0 {
			return // the same options again: the same answer
		}
		v, keyErrs, _, err := l.callWith(p, factory, good, bl)
		l.noteKind(p, v)
		closePlugin(v)
		if len(keyErrs) > 0 || err == nil {
			return
		}
		more := l.reportFactoryError(p, err, bad, reported, leftOutNote(without))
		if len(more) == 0 {
			return
		}
		for k := range more {
			bad[k] = true
		}
	}
}

// reportFactoryError reports a factory's error about p: each
// *who.OptionError (of an errors.Join too) at its key, anything else at
// the plugin unless leftOut is set (a call without the keys it names: an
// error that names no key may come from their absence, and one that does
// says that it was found so). An OptionError about a key in skip, and a
// message in reported, are left out; reported gets the others. It returns
// the top-level keys of the OptionErrors it reported.
func (l *loader) reportFactoryError(p *plugin, err error, skip, reported map[string]bool, leftOut string) (keys map[string]bool) {
	keyedOnly := leftOut != ""
	keys = map[string]bool{}
	for _, e := range leaves(err) {
		var oe *who.OptionError
		key := ""
		if !errors.As(e, &oe) || oe.Key == "" {
			if keyedOnly {
				continue
			}
		} else {
			top := strings.SplitN(oe.Key, ".", 2)[0]
			if skip[top] {
				continue // the key's own mistake is reported
			}
			keys[top] = true
			if p.section {
				key = oe.Key
			}
		}
		if reported[e.Error()] {
			continue
		}
		if reported != nil {
			reported[e.Error()] = true
		}
		if leftOut != "" {
			e = &leftOutError{err: e, note: leftOut}
		}
		l.pluginErr(p, key, p.line, e)
	}
	return keys
}

// leftOutNote names the keys left out of a later call, without (not
// empty): `"count", "secrte"`.
func leftOutNote(without []string) string {
	slices.Sort(without)
	quoted := make([]string, len(without))
	for i, k := range without {
		quoted[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(quoted, ", ")
}

// leftOutError is an error a factory returned when called with some keys
// left out.
type leftOutError struct {
	err  error
	note string
}

func (e *leftOutError) Error() string { return e.err.Error() + " (found with " + e.note + " left out)" }
func (e *leftOutError) Unwrap() error { return e.err }

// noteKind keeps, for a plugin whose factory failed, a value of the type
// it would have built: the factory's own typed nil pointer returned with
// its error, a value a second call built, or what the plugin's
// registration declares (who.Registry.RegisterKind). It tells which
// stages the plugin can serve.
//
// What the factory returned wins over the declaration, which may be wrong
// for the alias used: a declared kind is replaced by the value of a later
// call.
func (l *loader) noteKind(p *plugin, v any) {
	declared := false
	if v == nil {
		v, _ = l.reg.Kind(p.use)
		declared = true
	}
	if v == nil {
		return
	}
	if l.kinds[p.name] != nil && (declared || !l.kindDeclared[p.name]) {
		return // the first of its rank is kept
	}
	k := *p
	k.value = v
	l.kinds[p.name] = &k
	l.kindDeclared[p.name] = declared
}

// closePlugin closes v when it is a built io.Closer.
func closePlugin(v any) {
	if c, ok := v.(io.Closer); ok && !isNilPointer(v) {
		_ = c.Close()
	}
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
