package basicauth

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gowho/gowho/who"
)

// FuzzParse checks that Parse never panics, returns valid UTF-8, accepts
// no over-long header, and that what it accepts round-trips through a
// canonical header.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "Basic", "Basic ", "basic Zm9vOmJhcg==", "Basic Zm9vOmJhcg", "Basic Zm9v",
		"Basic Zm9vOmJhcg===", "Digest x", "Basic  Zm9vOmJhcg== ", "Basic \xff",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("b\xf6ss:p\xe4ss")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("\u00e9:\u20ac:x")),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		login, password, ok := Parse(header)
		if !ok {
			if login != "" || password != "" {
				t.Fatalf("Parse(%q) = %q, %q, false: want empty strings", header, login, password)
			}
			return
		}
		for i := 0; i < len(header); i++ {
			if header[i] >= 0x80 {
				t.Fatalf("Parse(%q) accepted a non-ASCII header", header)
			}
		}
		if !utf8.ValidString(login) || !utf8.ValidString(password) {
			t.Fatalf("Parse(%q) returned invalid UTF-8", header)
		}
		if len(header) > base64.StdEncoding.EncodedLen(2*who.DefaultMaxPasswordBytes+1)+headerSlack {
			t.Fatalf("Parse accepted a header of %d bytes", len(header))
		}
		if strings.Contains(login, ":") {
			t.Fatalf("Parse(%q): login %q holds a colon", header, login)
		}
		if max := who.DefaultMaxPasswordBytes; len(login) > max || len(password) > max {
			return // Latin-1 read as UTF-8 grew past the bound: not canonical
		}
		canon := "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
		l2, p2, ok2 := Parse(canon)
		if !ok2 || l2 != login || p2 != password {
			t.Fatalf("round trip of %q: got %q %q %v, want %q %q", header, l2, p2, ok2, login, password)
		}
	})
}
