package whocmd

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
)

// TestDescribeGolden checks what `who check` prints for each
// testdata/describe/NAME.toml against NAME.golden, both from describeChain
// and through the command. The goldens were first written by
// config.Chain.Describe, which describeChain replaces byte for byte; after
// an intended change run `go test ./cmd -run TestDescribeGolden -update`
// and review the diff.
func TestDescribeGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/describe/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs in testdata/describe: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			chain, err := config.Load(file, config.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer chain.Close()
			var b strings.Builder
			describeChain(&b, chain)
			got := b.String()
			want := checkGolden(t, strings.TrimSuffix(file, ".toml")+".golden", got)
			code, out, errs := runCmd("", "check", file)
			if code != 0 || out != want {
				t.Errorf("who check %s: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", file, code, errs, out, want)
			}
		})
	}
}

// apiClassifier is the request classifier of testdata/describe/full.toml:
// "api" for a path under /api/, else what the default classifier says.
// It declares its words (who.ClassifierWords), as config requires for a
// stage entry's classification.
type apiClassifier struct{}

func (apiClassifier) Classify(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return "api"
	}
	return who.DefaultClassifier(r)
}

func (apiClassifier) ClassificationWords() []string {
	return append([]string{"api"}, who.DefaultClassifierWords()...)
}

func init() {
	who.Register("cmdtest-apiclassifier", func(spec who.PluginSpec) (any, error) {
		return apiClassifier{}, spec.Decode(&struct{}{})
	})
}
