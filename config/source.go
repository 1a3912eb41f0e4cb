package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// source is a parsed who.toml: its data tree (after ${ENV} expansion) and
// the line of every key.
type source struct {
	file       string
	text       string
	lineStarts []int          // byte offset of the start of each line
	lines      map[string]int // toml.Key(path).String() -> 1-based line
	keys       []toml.Key     // every key, in file order
	tree       map[string]any
}

// lineProbe is a type no TOML value decodes into: decoding a key's
// Primitive into it fails with BurntSushi/toml's "toml: line N (last key
// ...)" error, which is the one way the library tells a key's line (it
// keeps positions private). That error costs O(1); the library's
// ParseError, which an Unmarshaler's error becomes, copies and splits the
// whole document to find a column, which made loading quadratic in the
// number of keys (issue 12).
type lineProbe chan struct{}

// probedLine reads N from the probe's error "toml: line N (last key
// ...): ...", or 0.
func probedLine(msg string) int {
	rest, ok := strings.CutPrefix(msg, "toml: line ")
	if !ok {
		return 0
	}
	digits, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0
	}
	return n
}

var duplicateKey = regexp.MustCompile(`^Key '(.*)' has already been defined\.$`)

// parse parses text. A syntax error is returned as one *Error.
func parse(file string, data []byte) (*source, *Error) {
	s := &source{file: file, text: string(data), lines: map[string]int{}}
	s.lineStarts = append(s.lineStarts, 0)
	for i := 0; i < len(s.text); i++ {
		if s.text[i] == '\n' {
			s.lineStarts = append(s.lineStarts, i+1)
		}
	}
	var top map[string]toml.Primitive
	md, err := toml.Decode(s.text, &top)
	if err != nil {
		return nil, s.syntaxError(err)
	}
	s.keys = md.Keys()
	s.tree = make(map[string]any, len(top))
	for k, p := range top {
		var v any
		if err := md.PrimitiveDecode(p, &v); err != nil {
			return nil, &Error{File: file, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
		}
		s.tree[k] = v
		s.index(&md, p, []string{k}, v)
	}
	return s, nil
}

// index records the line of the key at path and of every key below it.
func (s *source) index(md *toml.MetaData, p toml.Primitive, path []string, value any) {
	var probe lineProbe
	if err := md.PrimitiveDecode(p, &probe); err != nil {
		if n := probedLine(err.Error()); n > 0 {
			s.lines[toml.Key(path).String()] = s.valueLine(n, path, value)
		}
	}
	table, ok := value.(map[string]any)
	if !ok {
		return
	}
	var sub map[string]toml.Primitive
	if err := md.PrimitiveDecode(p, &sub); err != nil {
		return // not a table
	}
	for k, c := range sub {
		s.index(md, c, append(path[:len(path):len(path)], k), table[k])
	}
}

// valueLine is the line of the key at path, whose value the library
// places on line n. For a multi-line string that is the line where the
// string ends (its start is known only from the library's expensive
// ParseError): the key is then on the nearest line at or above n that
// assigns it.
func (s *source) valueLine(n int, path []string, value any) int {
	if _, isString := value.(string); !isString || len(path) == 0 {
		return n
	}
	key := path[len(path)-1]
	end := s.lineText(n)
	if assigns(end, key) || !strings.Contains(end, `"""`) && !strings.Contains(end, "'''") {
		return n
	}
	// Bounded, so that a key written with escapes ("a\u0062") in a file
	// of many such keys cannot make loading quadratic again.
	for l := n - 1; l >= max(1, n-maxStringLines); l-- {
		if assigns(s.lineText(l), key) {
			return l
		}
	}
	return n
}

// maxStringLines is how far up valueLine looks for the key of a
// multi-line string.
const maxStringLines = 10000

// assigns reports whether line holds `key =` (key bare or quoted, as the
// last part of a dotted key, or inside an inline table).
func assigns(line, key string) bool {
	for i := 0; ; {
		j := strings.Index(line[i:], key)
		if j < 0 {
			return false
		}
		rest := strings.TrimLeft(line[i+j+len(key):], `"' \t`)
		if strings.HasPrefix(rest, "=") {
			return true
		}
		i += j + 1
	}
}

// line returns the line of the key at path, or of its nearest ancestor
// whose line is known (a key inside an array of inline tables), or 0.
func (s *source) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := s.lines[toml.Key(path[:n]).String()]; ok {
			return l
		}
	}
	// An implicit table ([plugin] when only [plugin.x] is written): the
	// first key below it.
	for _, k := range s.keys {
		if len(k) > len(path) && slicesHasPrefix(k, path) {
			if l, ok := s.lines[k.String()]; ok {
				return l
			}
		}
	}
	return 0
}

func slicesHasPrefix(k toml.Key, prefix []string) bool {
	for i, p := range prefix {
		if k[i] != p {
			return false
		}
	}
	return true
}

// syntaxError turns a BurntSushi/toml error into an *Error with a line and
// a message that says what to do for the common cases.
func (s *source) syntaxError(err error) *Error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: s.file, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	line := pe.Position.Line
	msg := strings.TrimSuffix(pe.Message, ".")
	if m := duplicateKey.FindStringSubmatch(pe.Message); m != nil {
		parts := strings.Split(m[1], ".")
		if len(parts) >= 3 && parts[0] == "plugin" {
			first := ""
			key := regexp.MustCompile(`^\s*["']?` + regexp.QuoteMeta(parts[len(parts)-1]) + `["']?\s*=`)
			for l := 1; l < line; l++ {
				if key.MatchString(s.lineText(l)) {
					first = fmt.Sprintf(" (first at line %d)", l)
				}
			}
			rest := strings.Join(parts[2:], ".")
			return &Error{File: s.file, Line: line, Section: sectionName(parts[1]), Plugin: parts[1], Key: rest,
				Err: tagged(ErrSyntax, "key %q is written twice%s", rest, first)}
		}
		msg = s.duplicateMessage(m[1], line)
	} else if l := s.lineText(line); strings.HasPrefix(strings.TrimSpace(l), "[plugin:") {
		msg += ` (gowho writes [plugin.NAME], not who.ini's [plugin:NAME])`
	} else if pe.LastKey != "" {
		msg = fmt.Sprintf("%s (after key %q)", msg, pe.LastKey)
	}
	return &Error{File: s.file, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
}

func (s *source) lineText(line int) string {
	if line < 1 || line > len(s.lineStarts) {
		return ""
	}
	end := len(s.text)
	if line < len(s.lineStarts) {
		end = s.lineStarts[line] - 1
	}
	return s.text[s.lineStarts[line-1]:end]
}

// duplicateMessage explains "Key 'plugin.x' has already been defined".
func (s *source) duplicateMessage(key string, line int) string {
	first := 0
	header := regexp.MustCompile(`^\s*\[\s*` + headerPattern(key) + `\s*\]`)
	for l := 1; l < line; l++ {
		if header.MatchString(s.lineText(l)) {
			first = l
			break
		}
	}
	where := ""
	if first > 0 {
		where = fmt.Sprintf(" (first at line %d)", first)
	}
	if name, ok := strings.CutPrefix(key, "plugin."); ok && !strings.Contains(name, ".") {
		return fmt.Sprintf("duplicate plugin %q: [plugin.%s] is declared twice%s; give each plugin its own name", name, name, where)
	}
	return fmt.Sprintf("duplicate key or table %q: it is already defined%s", key, where)
}

// headerPattern matches a dotted table name with optional spaces around
// the dots.
func headerPattern(key string) string {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		parts[i] = `["']?` + regexp.QuoteMeta(p) + `["']?`
	}
	return strings.Join(parts, `\s*\.\s*`)
}
