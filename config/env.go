package config

import (
	"fmt"
	"strings"
)

// expand replaces every ${NAME} in s with the value of the environment
// variable NAME; $${ is a literal ${. An unset variable, an empty or bad
// name and a missing } are errors.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // $${: a literal ${
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated \"${\" (write $${ for a literal ${)")
		}
		name := rest[:end]
		if !validEnvName(name) {
			return "", fmt.Errorf("bad environment variable name %q in \"${%s}\" (letters, digits and _; write $${ for a literal ${)",
				name, name)
		}
		v, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("${%s}: %w", name, ErrUnsetVariable)
		}
		b.WriteString(v)
		s = rest[end+1:]
	}
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// expandTree expands every string in v (also inside arrays and tables),
// reporting each failure with its key path and each expanded value to
// expanded (when not nil).
func expandTree(v any, path []string, lookup func(string) (string, bool), report func([]string, error), expanded func(string)) any {
	switch x := v.(type) {
	case string:
		s, err := expand(x, lookup)
		if err != nil {
			report(path, err)
			return x
		}
		if expanded != nil && s != x {
			expanded(s)
		}
		return s
	case map[string]any:
		for k, e := range x {
			x[k] = expandTree(e, append(path[:len(path):len(path)], k), lookup, report, expanded)
		}
	case []any:
		for i, e := range x {
			x[i] = expandTree(e, path, lookup, report, expanded)
		}
	case []map[string]any:
		for _, e := range x {
			expandTree(e, path, lookup, report, expanded)
		}
	}
	return v
}
