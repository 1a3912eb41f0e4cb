package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/who"
)

type edge struct {
	ref who.Reference
	to  *plugin
}

// resolve is phase two: check every who.Resolver's references (missing
// names, self-references, cycles), then call Resolve on referred plugins
// before their referrers. A plugin whose references are wrong, or that
// refers to one that failed, is not resolved and is marked bad.
func (l *loader) resolve() {
	edges := map[*plugin][]edge{}
	blocked := map[*plugin]bool{}
	for _, p := range l.order {
		r, ok := p.value.(who.Resolver)
		if !ok {
			continue
		}
		refs, err := safeCall(func() ([]who.Reference, error) { return r.References(), nil })
		if err != nil {
			l.pluginErr(p, "", p.line, err)
			blocked[p] = true
			continue
		}
		for _, ref := range refs {
			to, exists := l.plugins[ref.Name]
			switch {
			case ref.Name == p.name:
				l.pluginErr(p, ref.Key, p.line, tagged(ErrReference, "key %q: plugin %q refers to itself", ref.Key, p.name))
				blocked[p] = true
			case exists:
				edges[p] = append(edges[p], edge{ref: ref, to: to})
			case l.failed[ref.Name]:
				blocked[p] = true // the referred plugin's own mistake is reported
			default:
				known := l.declaredNames()
				for _, q := range l.order {
					if !slices.Contains(known, q.name) {
						known = append(known, q.name)
					}
				}
				msg := fmt.Sprintf("key %q: unknown plugin %q", ref.Key, ref.Name)
				if s := suggest.Closest(ref.Name, known); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else if len(known) > 0 {
					msg += fmt.Sprintf(" (declared: %s)", strings.Join(known, ", "))
				}
				l.pluginErr(p, ref.Key, p.line, tagged(ErrReference, "%s", msg))
				blocked[p] = true
			}
		}
	}

	// Cycles: a depth-first walk; each back edge closes one cycle.
	const (
		white = iota
		gray
		black
	)
	color := map[*plugin]int{}
	var stack []*plugin
	var stackRefs []who.Reference
	var visit func(p *plugin)
	visit = func(p *plugin) {
		color[p] = gray
		stack = append(stack, p)
		for _, e := range edges[p] {
			switch color[e.to] {
			case white:
				stackRefs = append(stackRefs, e.ref)
				visit(e.to)
				stackRefs = stackRefs[:len(stackRefs)-1]
			case gray:
				i := slices.Index(stack, e.to)
				members := slices.Clone(stack[i:])
				refs := append(slices.Clone(stackRefs[i:]), e.ref)
				l.reportCycle(members, refs)
				for _, m := range members {
					blocked[m] = true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[p] = black
	}
	for _, p := range l.order {
		if color[p] == white {
			visit(p)
		}
	}

	// Resolve, referred before referrer.
	all := make(map[string]any, len(l.order))
	for _, p := range l.order {
		all[p.name] = p.value
	}
	state := map[*plugin]int{} // 0 not yet, 1 in progress, 2 ok, 3 bad
	var res func(p *plugin) bool
	res = func(p *plugin) bool {
		switch state[p] {
		case 1, 3:
			return false
		case 2:
			return true
		}
		state[p] = 1
		ok := !blocked[p]
		for _, e := range edges[p] {
			if !res(e.to) {
				ok = false
			}
		}
		if r, isResolver := p.value.(who.Resolver); isResolver && ok {
			if _, err := safeCall(func() (struct{}, error) { return struct{}{}, r.Resolve(all) }); err != nil {
				l.pluginErr(p, optionKey(err), p.line, err)
				ok = false
			}
		}
		if ok {
			state[p] = 2
		} else {
			state[p] = 3
			p.bad = true
		}
		return ok
	}
	for _, p := range l.order {
		res(p)
	}
}

// reportCycle reports the cycle members[0] -> members[1] -> ... ->
// members[0] (refs[i] leads from members[i] to the next) at the referring
// key of its member declared first.
func (l *loader) reportCycle(members []*plugin, refs []who.Reference) {
	start := 0
	for i, m := range members {
		if slices.Index(l.order, m) < slices.Index(l.order, members[start]) {
			start = i
		}
	}
	members = append(members[start:], members[:start]...)
	refs = append(refs[start:], refs[:start]...)
	names := make([]string, 0, len(members)+1)
	for _, m := range members {
		names = append(names, m.name)
	}
	names = append(names, members[0].name)
	p := members[0]
	l.pluginErr(p, refs[0].Key, p.line, tagged(ErrReference, "key %q: reference cycle: %s", refs[0].Key, strings.Join(names, " -> ")))
}

// validate calls Validate on every plugin that resolved.
func (l *loader) validate() {
	for _, p := range l.order {
		v, ok := p.value.(who.Validator)
		if !ok || p.bad {
			continue
		}
		if _, err := safeCall(func() (struct{}, error) { return struct{}{}, v.Validate() }); err != nil {
			l.pluginErr(p, optionKey(err), p.line, err)
			p.bad = true
		}
	}
}

// optionKey is the key a *who.OptionError names, or "".
func optionKey(err error) string {
	var oe *who.OptionError
	if errors.As(err, &oe) {
		return oe.Key
	}
	return ""
}

// safeCall runs f, turning a panic into an error.
func safeCall[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the plugin panicked (a bug in the plugin): %v", r)
		}
	}()
	return f()
}
