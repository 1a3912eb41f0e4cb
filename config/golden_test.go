package config_test

import (
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/plugins/all"
)

var update = flag.Bool("update", false, "rewrite testdata/errors/*.golden from the current messages")

// TestGoldenErrors loads every testdata/errors/NAME.toml with the real
// plugins (who.DefaultRegistry, as `who check` does) and compares the
// error text with NAME.golden. Run `go test ./config -run TestGoldenErrors
// -update` after an intended change of a message, and review the diff.
func TestGoldenErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			c, err := config.Load(file, config.Options{Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				c.Close()
				t.Fatalf("%s loaded without an error", file)
			}
			got := err.Error() + "\n"
			for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				if !strings.HasPrefix(line, file+":") {
					t.Errorf("line does not start with %q: %s", file+":", line)
				}
			}
			golden := strings.TrimSuffix(file, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s: error text differs from %s\n got:\n%s\nwant:\n%s", file, golden, got, want)
			}
		})
	}
}
