package htpasswd

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gowho/gowho/internal/testserver"
)

// TestApacheAcceptsOurHashes writes a file with Hash and asks Apache's
// own `htpasswd -vb FILE USER PASS` to verify each entry.
func TestApacheAcceptsOurHashes(t *testing.T) {
	t.Parallel()
	bin := testserver.Find(t, "htpasswd", "apache2-utils")
	const pw = "s3cret:p\u00e4ss word"
	tests := []struct {
		scheme string
		cost   int
		pw     string
	}{
		{SchemeBcrypt, 5, pw},
		{SchemeAPR1, 0, pw},
		{SchemeMD5Crypt, 0, pw},
		{SchemeSHA, 0, pw},
		{SchemeSHA256, 0, pw},
		{SchemeSHA256, 12000, pw},
		{SchemeSHA512, 0, pw},
		{SchemeSHA512, 1000, pw},
		{SchemeCrypt, 0, "des8char"},
		// Plain is not tested: on Unix, Apache never compares clear text.
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			t.Parallel()
			h, err := HashCost(tt.scheme, tt.pw, tt.cost)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "users")
			if err := os.WriteFile(path, []byte("user:"+h+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "-vb", path, "user", tt.pw).CombinedOutput()
			if err != nil {
				t.Errorf("htpasswd -vb rejected %s hash %q: %v\n%s", tt.scheme, h, err, out)
			}
			out, err = exec.Command(bin, "-vb", path, "user", wrong(tt.pw)).CombinedOutput()
			if err == nil {
				t.Errorf("htpasswd -vb accepted a wrong password for %q\n%s", h, out)
			}
		})
	}
}
