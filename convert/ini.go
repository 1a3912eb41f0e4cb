package convert

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrINI is wrapped by every error of the who.ini reader.
var ErrINI = errors.New("who.ini")

// A SyntaxError is a line of a who.ini that Python's configparser (and so
// repoze.who) refuses. Its text starts "who.ini:LINE: "; `who convert`
// prints the real file's name instead (Msg names no file).
type SyntaxError struct {
	Line int    // 1-based; 0 when unknown
	Msg  string // what is wrong and what to write instead
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", ErrINI, e.Line, e.Msg) }

// Unwrap returns ErrINI.
func (e *SyntaxError) Unwrap() error { return ErrINI }

func syntaxErr(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// INI is a who.ini file read the way Python's configparser.ConfigParser
// (BasicInterpolation, as repoze.who uses it) reads it.
type INI struct {
	// Sections in file order, without DEFAULT.
	Sections []*Section
	// Defaults holds [DEFAULT] and the parser defaults ("here"). Every
	// section inherits them.
	Defaults *Section
}

// Section is one [name] of a who.ini.
type Section struct {
	Name string
	Line int
	// Keys in file order (lower-cased, as configparser's optionxform).
	Keys []string
	raw  map[string]string
	line map[string]int
}

// Raw returns the uninterpolated value of key in the section itself.
func (s *Section) Raw(key string) (string, bool) {
	v, ok := s.raw[key]
	return v, ok
}

// KeyLine returns the line key is on (0: unknown).
func (s *Section) KeyLine(key string) int { return s.line[key] }

func newSection(name string, line int) *Section {
	return &Section{Name: name, Line: line, raw: map[string]string{}, line: map[string]int{}}
}

func (s *Section) set(key, val string, line int) {
	if _, ok := s.raw[key]; !ok {
		s.Keys = append(s.Keys, key)
	}
	s.raw[key] = val
	s.line[key] = line
}

// Section returns the named section, or nil.
func (f *INI) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Items returns the section's keys followed by the inherited default keys
// it does not override, as configparser's items(section) does.
func (f *INI) Items(s *Section) []string {
	keys := append([]string(nil), s.Keys...)
	for _, k := range f.Defaults.Keys {
		if _, own := s.raw[k]; !own {
			keys = append(keys, k)
		}
	}
	return keys
}

// Get returns key's value in section s after %(name)s interpolation
// (from the section, then the defaults) and %% unescaping. A lone % or a
// missing or too deeply nested reference is an error naming the line.
func (f *INI) Get(s *Section, key string) (string, bool, error) {
	v, ok, line, err := f.get(s, key)
	if err != nil {
		return "", true, syntaxErr(line, "[%s] %s: %v", s.Name, key, err)
	}
	return v, ok, nil
}

// get is Get with the bare interpolation error and the value's line.
func (f *INI) get(s *Section, key string) (v string, ok bool, line int, err error) {
	raw, ok := s.raw[key]
	line = s.line[key]
	if !ok {
		raw, ok = f.Defaults.raw[key]
		line = f.Defaults.line[key]
	}
	if !ok {
		return "", false, 0, nil
	}
	v, err = f.interpolate(s, key, raw, 1)
	if err != nil {
		return "", true, line, err
	}
	return v, true, line, nil
}

const maxInterpolationDepth = 10

// maxValue bounds an interpolated value, so that references repeated at
// each of the ten levels cannot blow up exponentially.
const maxValue = 1 << 20

var interpRef = regexp.MustCompile(`^%\(([^)]+)\)s`)

func (f *INI) interpolate(s *Section, key, raw string, depth int) (string, error) {
	if depth > maxInterpolationDepth {
		return "", fmt.Errorf("interpolation is nested more than %d deep (a reference loop?)", maxInterpolationDepth)
	}
	var b strings.Builder
	rest := raw
	for {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		rest = rest[i:]
		if strings.HasPrefix(rest, "%%") {
			b.WriteByte('%')
			rest = rest[2:]
			continue
		}
		m := interpRef.FindStringSubmatch(rest)
		if m == nil {
			// The value is not quoted: it may be a secret.
			return "", fmt.Errorf("a '%%' (byte %d of the value) not followed by '%%' or '(NAME)s': configparser refused it (InterpolationSyntaxError), so repoze.who failed at load; write a literal %% as %%%%", len(raw)-len(rest)+1)
		}
		name := strings.ToLower(m[1])
		ref, ok := s.raw[name]
		if !ok {
			ref, ok = f.Defaults.raw[name]
		}
		if !ok {
			return "", fmt.Errorf("bad interpolation variable reference %q: no key %q in the section or [DEFAULT]", m[0], name)
		}
		if strings.Contains(ref, "%") {
			v, err := f.interpolate(s, name, ref, depth+1)
			if err != nil {
				return "", err
			}
			ref = v
		}
		b.WriteString(ref)
		if b.Len() > maxValue {
			return "", fmt.Errorf("interpolation makes a value longer than %d bytes", maxValue)
		}
		rest = rest[len(m[0]):]
	}
}

var (
	sectionRe = regexp.MustCompile(`^\[(.+)\]`)
	optionRe  = regexp.MustCompile(`^(.*?)\s*([=:])\s*(.*)$`)
)

// ParseINI reads a who.ini. here is the value of %(here)s (the file's
// directory). It follows configparser: '#' and ';' start whole-line
// comments, an indented line continues the value above it, keys are
// lower-cased, [DEFAULT] keys are inherited by every section, and a
// duplicate section or key, a key before any section, or a line that is
// neither is an error with its line number.
func ParseINI(data []byte, here string) (*INI, error) {
	f := &INI{Defaults: newSection("DEFAULT", 0)}
	f.Defaults.set("here", here, 0)
	var (
		cur         *Section
		opt         string
		vals        []string // the current option's lines
		optLine     int
		indentLevel int
		errs        []error
		seenSection = map[string]bool{}
	)
	flush := func() {
		if cur != nil && opt != "" {
			cur.set(opt, strings.TrimRight(strings.Join(vals, "\n"), " \t\r\n\v\f"), optLine)
		}
		opt, vals = "", nil
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i, line := range lines {
		lineno := i + 1
		trimmed := strings.TrimSpace(line)
		comment := strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";")
		value := trimmed
		if comment {
			value = ""
		}
		if value == "" {
			if !comment && cur != nil && opt != "" {
				vals = append(vals, "")
			}
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t\v\f\r"))
		if cur != nil && opt != "" && indent > indentLevel {
			vals = append(vals, value)
			continue
		}
		flush()
		indentLevel = indent
		if m := sectionRe.FindStringSubmatch(value); m != nil {
			name := m[1]
			if name == "DEFAULT" {
				cur = f.Defaults
				continue
			}
			if seenSection[name] {
				errs = append(errs, syntaxErr(lineno, "section [%s] appears twice (configparser refused that, and so repoze.who)", name))
				cur = f.Section(name)
				continue
			}
			seenSection[name] = true
			cur = newSection(name, lineno)
			f.Sections = append(f.Sections, cur)
			continue
		}
		if cur == nil {
			return nil, syntaxErr(lineno, "%q comes before any [section] header", trimmed)
		}
		m := optionRe.FindStringSubmatch(value)
		if m == nil || strings.TrimSpace(m[1]) == "" {
			errs = append(errs, syntaxErr(lineno, "%q is not a \"key = value\" line", trimmed))
			continue
		}
		key := strings.ToLower(strings.TrimRight(m[1], " \t"))
		// The parser's own default ("here", line 0) may be overridden.
		if _, dup := cur.raw[key]; dup && (cur != f.Defaults || cur.line[key] != 0) {
			errs = append(errs, syntaxErr(lineno, "key %q appears twice in [%s] (configparser refused that, and so repoze.who; keep one)", key, cur.Name))
		}
		opt, vals, optLine = key, []string{strings.TrimSpace(m[3])}, lineno
	}
	flush()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}
