package filestore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReplace: both ways of replacing a record put the new one in place
// of a file that is there, and create nothing when it is gone.
func TestReplace(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replace func(tmp, dst string) (bool, error)
	}{
		{"existing", replaceExisting}, // RENAME_EXCHANGE on Linux
		{"checked", replaceChecked},   // the fallback
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tmp, dst := filepath.Join(dir, tmpPrefix+"1"), filepath.Join(dir, "dst")
			write := func(p, s string) {
				if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(dst, "old")
			write(tmp, "new")
			if ok, err := tc.replace(tmp, dst); !ok || err != nil {
				t.Fatalf("over a file there: %v, %v; want true, nil", ok, err)
			}
			if b, _ := os.ReadFile(dst); string(b) != "new" {
				t.Fatalf("dst = %q; want new", b)
			}
			if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("tmp (the old record) left behind: %v", err)
			}
			if err := os.Remove(dst); err != nil {
				t.Fatal(err)
			}
			write(tmp, "back")
			if ok, err := tc.replace(tmp, dst); ok || err != nil {
				t.Fatalf("over no file: %v, %v; want false, nil", ok, err)
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("dst written back over no file: %v", err)
			}
		})
	}
}
