package proxytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/docstest"
)

// TestDocConfigs: the nginx and Caddy configurations of docs/gateway.md
// are, byte for byte, the ones TestNginx and TestCaddy run
// (testdata/nginx.conf, testdata/Caddyfile), and each page block of their
// language is one of them (a changed copy elsewhere on the page would be
// untested).
func TestDocConfigs(t *testing.T) {
	t.Parallel()
	page := filepath.Join("..", "..", "docs", "gateway.md")
	blocks, err := docstest.Read(page)
	if err != nil {
		t.Fatal(err)
	}
	for lang, file := range map[string]string{"nginx": "nginx.conf", "caddyfile": "Caddyfile"} {
		want, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, b := range blocks {
			if b.Lang != lang {
				continue
			}
			found++
			if strings.TrimRight(b.Code, "\n") != strings.TrimRight(string(want), "\n") {
				t.Errorf("%s:%d: the ```%s block is not testdata/%s (the configuration the tests run): copy the file into the page",
					page, b.Line, lang, file)
			}
		}
		if found != 1 {
			t.Errorf("%s: %d ```%s blocks, want exactly 1 (testdata/%s)", page, found, lang, file)
		}
	}
}
