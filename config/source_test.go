package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// keyLinesSample has every way of writing a key: multi-line basic and
// literal strings (whose value ends lines after the key), dotted keys,
// inline tables, multi-line arrays, arrays of tables and implicit tables.
const keyLinesSample = `# comment
[general]
request_classifier = "default"

[plugin.a]
use = "all"
secret = """
multi
line"""
header = """same line
x"""
tls.ca_file = '''
lit'''
tls.verify = true
attrs = { k1 = "v", k2 = { deep = 1 } }
users = [
  "a",
  """
b""",
]
after = "x"

[plugin.b]
use = "all"
  [[plugin.b.servers]]
  addr = "one"
  [[plugin.b.servers]]
  addr = """
two"""

[plugin.c.tls]
ca_file = "x"

[identifiers]
plugins = [
  "a",
  "b;browser",
]
`

// TestKeyLines pins the line of every key, with LF and CRLF line ends.
// The lines are those of the loader before issue 12, which found them
// from the library's ParseError (quadratic); the linear one must agree.
func TestKeyLines(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		"general": 2, "general.request_classifier": 3,
		"identifiers": 34, "identifiers.plugins": 35,
		"plugin.a":               5,
		"plugin.a.after":         21,
		"plugin.a.attrs":         15,
		"plugin.a.attrs.k1":      15,
		"plugin.a.attrs.k2":      15,
		"plugin.a.attrs.k2.deep": 15,
		"plugin.a.header":        10,
		"plugin.a.secret":        7,
		"plugin.a.tls.ca_file":   12,
		"plugin.a.tls.verify":    14,
		"plugin.a.use":           6,
		"plugin.a.users":         16,
		"plugin.b":               23,
		"plugin.b.servers":       27,
		"plugin.b.use":           24,
		"plugin.c.tls":           31,
		"plugin.c.tls.ca_file":   32,
	}
	for _, eol := range []string{"\n", "\r\n"} {
		s, err := parse("who.toml", []byte(strings.ReplaceAll(keyLinesSample, "\n", eol)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, s.lines); diff != "" {
			t.Errorf("%q line ends: lines (-want +got):\n%s", eol, diff)
		}
		for _, tc := range []struct {
			path []string
			line int
		}{
			{[]string{"plugin"}, 5},                          // implicit: its first key
			{[]string{"plugin", "a", "tls"}, 5},              // a dotted key's implicit table: its section
			{[]string{"plugin", "b", "servers", "addr"}, 27}, // in an array of tables: the array
		} {
			if got := s.line(tc.path...); got != tc.line {
				t.Errorf("%q line ends: line(%q) = %d, want %d", eol, tc.path, got, tc.line)
			}
		}
	}
}
