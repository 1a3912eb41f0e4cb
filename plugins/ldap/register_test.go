package ldap

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who/whotest"
)

// TestFactoryCAFilePath: ca_file follows the one path rule
// (who.PluginSpec.Path): relative to who.toml's directory, "~/" the home
// directory (which it was not before), an absolute path kept.
func TestFactoryCAFilePath(t *testing.T) {
	home, dir, other := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	caFile, _, _ := testserver.WriteTLS(t, t.TempDir())
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{home, dir, other} {
		if err := os.WriteFile(filepath.Join(d, "ca.pem"), ca, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ name, caFile, want string }{
		{"home", "~/ca.pem", filepath.Join(home, "ca.pem")},
		{"relative", "ca.pem", filepath.Join(dir, "ca.pem")},
		{"relative, cleaned", "./x/../ca.pem", filepath.Join(dir, "ca.pem")},
		{"absolute", filepath.Join(other, "ca.pem"), filepath.Join(other, "ca.pem")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := whotest.Spec(t, fmt.Sprintf("url = \"ldaps://ldap.example\"\nbase_dn = \"dc=example\"\nca_file = %q", tt.caFile))
			spec.Dir = dir
			v, err := factory(spec)
			if err != nil {
				t.Fatal(err)
			}
			p := v.(*Plugin)
			defer p.Close()
			if p.o.CAFile != tt.want {
				t.Errorf("ca_file %q read from %q, want %q", tt.caFile, p.o.CAFile, tt.want)
			}
		})
	}
}
