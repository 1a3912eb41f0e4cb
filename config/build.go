package config

import (
	"errors"
	"fmt"
	"io"
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
func (l *loader) build(p *plugin, factory who.Factory, opts map[string]any) (ok bool) {
	decoded := false
	var keyErrs []keyError
	spec := who.PluginSpec{
		Name:   p.name,
		Use:    p.use,
		Dir:    l.dir,
		Logger: l.log.With("plugin", p.name, "use", p.use),
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
	} else if !decoded && len(opts) > 0 && err == nil {
		// A factory that failed before decoding may take options: its
		// error is the one to report, below.
		for _, k := range slices.Sorted(maps.Keys(opts)) {
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
