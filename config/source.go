package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
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

// errProbe makes BurntSushi/toml report the position of a key.
var errProbe = errors.New("config: line probe")

// lineProbe fails to decode, so that the decoder's error carries the
// position of the value it was given: BurntSushi/toml keeps key positions
// private and reports them only in errors.
type lineProbe struct{}

func (*lineProbe) UnmarshalTOML(any) error { return errProbe }

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
		s.index(&md, p, []string{k})
	}
	return s, nil
}

// index records the line of the key at path and of every key below it.
func (s *source) index(md *toml.MetaData, p toml.Primitive, path []string) {
	var probe lineProbe
	var pe toml.ParseError
	if err := md.PrimitiveDecode(p, &probe); errors.As(err, &pe) && pe.Position.Line > 0 {
		s.lines[toml.Key(path).String()] = s.lineAt(pe.Position.Start)
	}
	var sub map[string]toml.Primitive
	if err := md.PrimitiveDecode(p, &sub); err != nil {
		return // not a table
	}
	for k, c := range sub {
		s.index(md, c, append(path[:len(path):len(path)], k))
	}
}

// lineAt returns the line of a value that starts at byte offset off. A
// multi-line string's value starts after the newline that follows its
// opening quotes: that newline belongs to the key's line.
func (s *source) lineAt(off int) int {
	off = min(max(off, 0), len(s.text))
	if off > 0 && s.text[off-1] == '\n' {
		before := strings.TrimSuffix(s.text[:off-1], "\r")
		if strings.HasSuffix(before, `"""`) || strings.HasSuffix(before, `'''`) {
			off = len(before)
		}
	}
	return sort.Search(len(s.lineStarts), func(i int) bool { return s.lineStarts[i] > off })
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
