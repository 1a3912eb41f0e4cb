package convert

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tomlString quotes s as a TOML basic string. "${" is written "$${" so
// that gowho's ${NAME} expansion leaves the value as it was.
func tomlString(s string) string {
	return quote(strings.ReplaceAll(s, "${", "$${"))
}

// tomlEnv quotes s as a TOML basic string whose ${NAME} references are
// meant to be expanded by gowho.
func tomlEnv(s string) string { return quote(s) }

func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlList writes a one-line array of strings.
func tomlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// tomlKey writes a key bare when TOML allows it, quoted otherwise.
func tomlKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return quote(k)
}

// commentText makes s safe inside a TOML comment: one line, no control
// characters, valid UTF-8.
func commentText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			b.WriteString(strconv.QuoteRune(r))
		case unicode.Is(unicode.Cs, r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
