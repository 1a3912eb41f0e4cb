package config

import (
	"slices"
	"strings"
	"unicode"

	"github.com/gowho/gowho/who"
)

// parseEntry parses one stage-list entry: "name", "name;cls" or
// "name;a,b". "name;unused" declares the plugin without running it.
func parseEntry(s string) (name string, classes []string, err error) {
	if s == "" {
		return "", nil, tagged(ErrBadEntry, "empty entry \"\"")
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", nil, tagged(ErrBadEntry,
			"entry %q contains a space: write one plugin per array element, as [\"a\", \"b;browser,dav\"]", s)
	}
	name, cls, hasCls := strings.Cut(s, ";")
	if name == "" {
		return "", nil, tagged(ErrBadEntry, "entry %q has no plugin name before \";\"", s)
	}
	if !hasCls {
		return name, nil, nil
	}
	if strings.Contains(cls, ";") {
		return "", nil, tagged(ErrBadEntry,
			"entry %q has more than one \";\": write \"name;a,b\" for several classifications", s)
	}
	if cls == "" {
		return "", nil, tagged(ErrBadEntry,
			"entry %q has \";\" but no classification: write %q to run it for every request", s, name)
	}
	classes = strings.Split(cls, ",")
	for i, c := range classes {
		if c == "" {
			return "", nil, tagged(ErrBadEntry, "entry %q has an empty classification", s)
		}
		if slices.Contains(classes[:i], c) {
			return "", nil, tagged(ErrBadEntry, "entry %q lists classification %q twice", s, c)
		}
	}
	if len(classes) > 1 && slices.Contains(classes, who.Unused) {
		return "", nil, tagged(ErrBadEntry,
			"entry %q: %q means never run and cannot be combined with other classifications", s, who.Unused)
	}
	return name, classes, nil
}

// badPluginName reports why name cannot be written in a stage list, or "".
func badPluginName(name string) string {
	switch {
	case name == "":
		return "a plugin name must not be empty"
	case strings.ContainsAny(name, ";,") || strings.IndexFunc(name, unicode.IsSpace) >= 0:
		return "a plugin name must not contain \";\", \",\" or spaces (stage lists could not name it)"
	}
	return ""
}
