package htpasswd

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkAuthenticate measures one successful check per fixture scheme.
func BenchmarkAuthenticate(b *testing.B) {
	for _, file := range []string{"bcrypt", "apr1", "md5crypt", "sha", "sha256", "sha512", "crypt", "plain"} {
		b.Run(file, func(b *testing.B) {
			p, err := New(Options{Filename: filepath.Join("testdata", file+".htpasswd"), AllowPlain: true,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			id := creds("alice", "alicepw")
			for b.Loop() {
				if uid, _ := p.Authenticate(r, id); uid != "alice" {
					b.Fatal("no match")
				}
			}
		})
	}
}

// BenchmarkLoad measures reading and parsing a {SHA} file of 10,000
// distinct users. (The names were once 182 distinct ones, so the figure
// was mostly the logging of 9,818 duplicate-user warnings.)
func BenchmarkLoad(b *testing.B) {
	var sb strings.Builder
	h, _ := Hash(SchemeSHA, "pw")
	for i := range 10000 {
		sb.WriteString("user" + strconv.Itoa(i) + ":" + h + "\n")
	}
	path := filepath.Join(b.TempDir(), "big")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	p, err := New(Options{Filename: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if n := p.Len(); n != 10000 {
		b.Fatalf("%d users loaded, want 10000", n)
	}
	for b.Loop() {
		p.mu.Lock()
		_, _, err := p.load()
		p.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}
