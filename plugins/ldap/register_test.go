package ldap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gowho/gowho/who/whotest"
)

// testCAPEM returns a throw-away self-signed CA certificate, PEM-encoded.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gowho ldap test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestFactoryCAFilePath: ca_file follows the one path rule
// (who.PluginSpec.Path): relative to who.toml's directory, "~/" the home
// directory (which it was not before), an absolute path kept.
func TestFactoryCAFilePath(t *testing.T) {
	home, dir, other := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	ca := testCAPEM(t)
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
