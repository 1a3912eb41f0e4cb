package who

import (
	"fmt"
	"strings"
)

// Words is a list of names in plugin options that reads a TOML array of
// strings or one string of names separated by spaces or commas (as
// repoze.who's ini options were written), so both
// `memcached_urls = ["a:11211", "b:11211"]` and
// `memcached_urls = "a:11211 b:11211"` mean the same.
type Words []string

// UnmarshalTOML reads ["a", "b"], "a b" or "a, b".
func (w *Words) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*w = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	case []any:
		out := make(Words, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("want a list of strings, found a %T", e)
			}
			out = append(out, s)
		}
		*w = out
	default:
		return fmt.Errorf("want a list of strings or one string of names separated by spaces or commas, found a %T", v)
	}
	return nil
}
