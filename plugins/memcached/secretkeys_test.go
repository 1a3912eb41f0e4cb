package memcached

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

// keyedBackend is a wrapped plugin that declares identity keys secret.
type keyedBackend struct {
	*backend
	keys []string
}

func (k keyedBackend) SecretKeys() []string { return k.keys }

// keyedMD is a wrapped metadata provider only, declaring keys.
type keyedMD []string

func (keyedMD) AddMetadata(*http.Request, who.Identity) error { return nil }
func (k keyedMD) SecretKeys() []string                        { return k }

// TestSecretKeysForwarded (issue 12 item 16): the wrapper declares what
// the plugins it wraps declare, so a chain listing the wrapper instead of
// them masks the same keys.
func TestSecretKeysForwarded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		auth    any
		md      any
		want    []string
		resolve bool
	}{
		{"before Resolve", nil, nil, []string{who.KeyPassword}, false},
		{"authenticator and provider", keyedBackend{newBackend(), []string{"otp"}}, keyedMD{"md.token", "otp"}, []string{who.KeyPassword, "otp", "md.token"}, true},
		{"plain wrapped plugins", newBackend(), newBackend(), []string{who.KeyPassword}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(Options{MemcachedURLs: who.Words{"127.0.0.1:1"}, AuthenticatorName: "auth", MDProviderName: "md", Secret: "s"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if tc.resolve {
				if err := c.Resolve(map[string]any{"auth": tc.auth, "md": tc.md}); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.want, c.SecretKeys()); diff != "" {
				t.Errorf("SecretKeys (-want +got):\n%s", diff)
			}
			if !tc.resolve {
				return
			}
			m, err := who.New(who.Config{Authenticators: []who.Entry{{Name: "cache", Plugin: c}}, MetadataProviders: []who.Entry{{Name: "cache", Plugin: c}}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, m.SecretKeys()); diff != "" {
				t.Errorf("the chain's SecretKeys (-want +got):\n%s", diff)
			}
		})
	}
}
