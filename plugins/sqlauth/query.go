package sqlauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Placeholder styles for the positional parameters a query is rewritten
// to.
const (
	PlaceholderQuestion = "?"   // sqlite, MySQL
	PlaceholderDollar   = "$1"  // PostgreSQL
	PlaceholderAt       = "@p1" // SQL Server
	PlaceholderColon    = ":1"  // Oracle
)

// errQuery is wrapped by query parse errors.
var errQuery = errors.New("sqlauth: bad query")

// compiled is a query with its :name parameters replaced by positional
// placeholders, and the identity keys to pass, in order.
type compiled struct {
	sql    string
	params []string
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }

// compile rewrites :name parameters (outside quotes and comments; "::"
// casts are left alone) into the placeholder style.
func compile(q, style string) (compiled, error) {
	var b strings.Builder
	var params []string
	n := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(q); j++ {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= len(q) {
				return compiled{}, fmt.Errorf("%w: unterminated quote at byte %d", errQuery, i)
			}
			b.WriteString(q[i : j+1])
			i = j + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return compiled{}, fmt.Errorf("%w: unterminated comment at byte %d", errQuery, i)
			}
			b.WriteString(q[i : i+2+j+2])
			i += 2 + j + 2
		case c == ':' && i+1 < len(q) && q[i+1] == ':':
			b.WriteString("::")
			i += 2
		case c == ':' && i+1 < len(q) && isNameStart(q[i+1]):
			j := i + 1
			for j < len(q) && isNameByte(q[j]) {
				j++
			}
			params = append(params, q[i+1:j])
			n++
			switch style {
			case PlaceholderDollar:
				b.WriteString("$" + strconv.Itoa(n))
			case PlaceholderAt:
				b.WriteString("@p" + strconv.Itoa(n))
			case PlaceholderColon:
				b.WriteString(":" + strconv.Itoa(n))
			default:
				b.WriteByte('?')
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return compiled{sql: b.String(), params: params}, nil
}
