package convert

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parsedItems is what both readers print: section -> key -> interpolated
// value, defaults included, as configparser's items(section).
type parsedItems map[string]map[string]string

func goItems(t *testing.T, data []byte) parsedItems {
	t.Helper()
	f, err := ParseINI(data, "/etc/who")
	if err != nil {
		t.Fatalf("ParseINI: %v", err)
	}
	out := parsedItems{}
	for _, s := range f.Sections {
		m := map[string]string{}
		for _, k := range f.Items(s) {
			v, _, err := f.Get(s, k)
			if err != nil {
				t.Fatalf("Get(%s, %s): %v", s.Name, k, err)
			}
			m[k] = v
		}
		out[s.Name] = m
	}
	return out
}

const pyReader = `
import configparser, json, sys
p = configparser.ConfigParser(defaults={'here': '/etc/who'})
p.read_string(open(sys.argv[1]).read())
print(json.dumps({s: dict(p.items(s)) for s in p.sections()}))
`

// TestINIMatchesConfigparser reads each testdata/ini file with Python's own
// configparser (Debian's /usr/bin/python3) and with ParseINI, and compares.
func TestINIMatchesConfigparser(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH: the configparser comparison needs it")
	}
	files, _ := filepath.Glob("testdata/ini/*.ini")
	files = append(files, mustGlob(t, "../config/testdata/convert/*.ini")...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(py, "-c", pyReader, f).CombinedOutput()
			if err != nil {
				t.Fatalf("python configparser: %v\n%s", err, out)
			}
			var want parsedItems
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(f)
			if diff := cmp.Diff(want, goItems(t, data)); diff != "" {
				t.Errorf("configparser (-) vs ParseINI (+):\n%s", diff)
			}
		})
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestINIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ini, want string
	}{
		{"no section", "use = x\n", "who.ini:1: \"use = x\" comes before any [section] header"},
		{"duplicate section", "[a]\nx=1\n[a]\ny=2\n", "who.ini:3: section [a] appears twice"},
		{"duplicate key", "[a]\nx=1\nX=2\n", `who.ini:3: key "x" appears twice in [a]`},
		{"not a key", "[a]\njust words\n", `who.ini:2: "just words" is not a "key = value" line`},
		{"empty key", "[a]\n= value\n", `who.ini:2: "= value" is not a "key = value" line`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseINI([]byte(tc.ini), "/x")
			if !errors.Is(err, ErrINI) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			// `who convert` prints the real file's name from the line.
			if se, ok := errors.AsType[*SyntaxError](err); !ok || se.Line == 0 || strings.Contains(se.Msg, "who.ini") {
				t.Errorf("err = %#v: want a *SyntaxError with the line and a message naming no file", err)
			}
		})
	}
	f, err := ParseINI([]byte("[a]\nq = 100%\nr = %(nope)s\ns = %(s)s\n"), "/x")
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section("a")
	for key, want := range map[string]string{"q": "who.ini:2: [a] q: a '%' (byte 4 of the value) not followed by", "r": `no key "nope"`, "s": "nested more than 10"} {
		if _, _, err := f.Get(s, key); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Get(%s) err = %v, want %q", key, err, want)
		}
	}
}

func FuzzParseINI(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/ini/*.ini")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	f.Add([]byte("[a]\nx = %(y)s\ny = %(x)s\n"))
	f.Add([]byte("[DEFAULT]\nhere=1\n[b]\n  k=v\n   cont\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ini, err := ParseINI(data, "/here")
		if err != nil {
			if !errors.Is(err, ErrINI) {
				t.Fatalf("error without ErrINI: %v", err)
			}
			return
		}
		for _, s := range ini.Sections {
			for _, k := range ini.Items(s) {
				_, _, _ = ini.Get(s, k)
			}
		}
	})
}
