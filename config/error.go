package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one mistake in a configuration file. Load and Parse return every
// mistake of a file at once, as errors.Join of *Error sorted by line; use
// errors.As to reach the first one, or range over
// err.(interface{ Unwrap() []error }).Unwrap() for all of them.
//
// It prints as
//
//	who.toml:12: [plugin.ldap] (use = "ldap"): unknown key "bsae_dn" (did you mean "base_dn"?)
//	who.toml:30: [identifiers]: unknown plugin "basicuath" (did you mean "basicauth"?)
type Error struct {
	File    string // the file name as given to Load or Parse
	Line    int    // 1-based; 0 when the mistake has no line (a plugin built without a section)
	Section string // "general", "plugin.ldap", "identifiers", ...; "" for the whole file
	Plugin  string // the plugin's name, for mistakes about one plugin
	Use     string // the plugin's use, when known
	Key     string // the option key, relative to the section, when there is one
	Err     error  // what is wrong
}

// Error formats the mistake on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Section != "" {
		b.WriteString("[")
		b.WriteString(e.Section)
		b.WriteString("]")
		if e.Use != "" {
			fmt.Fprintf(&b, " (use = %q)", e.Use)
		}
		b.WriteString(": ")
	}
	msg := "unknown error"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	// One mistake, one line: `who check` and editors read file:line: text.
	msg = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(msg)
	b.WriteString(msg)
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Sentinel errors, for callers that test what kind of mistake a file has
// with errors.Is.
var (
	// ErrUnknownKey: a key no option, section or [general] setting has.
	ErrUnknownKey = errors.New("unknown key")
	// ErrWrongType: a value of the wrong TOML type.
	ErrWrongType = errors.New("wrong type")
	// ErrUnsetVariable: ${NAME} names an environment variable that is not set.
	ErrUnsetVariable = errors.New("environment variable is not set")
	// ErrBadEntry: a stage-list entry that is not name, name;cls or name;a,b.
	ErrBadEntry = errors.New("bad stage entry")
	// ErrReference: a reference to a missing plugin, to itself, or a cycle.
	ErrReference = errors.New("bad plugin reference")
	// ErrSyntax: the file is not valid TOML.
	ErrSyntax = errors.New("toml syntax error")
)

// errorList collects the mistakes of one load.
type errorList []*Error

func (l *errorList) add(e *Error) { *l = append(*l, e) }

// err returns the mistakes as errors.Join of *Error, sorted by line (then
// in the order found), or nil.
func (l errorList) err() error {
	if len(l) == 0 {
		return nil
	}
	s := slices.Clone(l)
	slices.SortStableFunc(s, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, len(s))
	for i, e := range s {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// keyError is a mistake about one key found by the strict decoder, before
// the section it belongs to is known.
type keyError struct {
	path []string // relative to the decoded value
	err  error
}

// pathString prints a key path as TOML would write it (quoting pieces
// that need it), for messages.
func pathString(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return toml.Key(path).String()
}

// sectionName is the bracketed name of a [plugin.NAME] section.
func sectionName(plugin string) string {
	return toml.Key{"plugin", plugin}.String()
}
