package who_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyStandardLibrary keeps the core free of dependencies: `go list
// -deps ./who` must list only standard-library packages and the module's
// own internal helpers (which this test lists too, so they cannot bring
// one in).
func TestOnlyStandardLibrary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/gowho/gowho/who" && !strings.HasPrefix(p, "github.com/gowho/gowho/internal/") {
			t.Errorf("who depends on non-standard package %s", p)
		}
	}
}
