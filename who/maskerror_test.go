package who

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestMaskErrorForms: a secret is masked in every form a plugin's message
// can print it: quoted by %q, %+q (non-ASCII escaped) and %#q (backquoted)
// even when short, raw when at least minRawSecret bytes long, and whole
// when it holds another secret (an API key holding the password was masked
// around the password: "k********-rest").
func TestMaskErrorForms(t *testing.T) {
	t.Parallel()
	base := errors.New("backend down")
	tests := []struct {
		name    string
		id      Identity
		keys    []string
		err     error
		want    string
		secrets []string // none may remain in the message
	}{
		{"%q", Identity{KeyPassword: "pw"}, nil, fmt.Errorf("bad %q: %w", "pw", base), `bad "********": backend down`, []string{`"pw"`}},
		{"%+q non-ASCII", Identity{KeyPassword: "café"}, nil, fmt.Errorf("bad %+q: %w", "café", base), `bad "********": backend down`, []string{`caf\u00e9`}},
		{"%#q short", Identity{"otp": "123"}, []string{"otp"}, fmt.Errorf("bad code %#q: %w", "123", base), "bad code `********`: backend down", []string{"123"}},
		{"raw", Identity{"otp": "123456"}, []string{"otp"}, fmt.Errorf("bad code %s: %w", "123456", base), "bad code ********: backend down", []string{"123456"}},
		{"a secret holding the password", Identity{KeyPassword: "hunter2", "api.key": "key-hunter2-rest"}, []string{KeyPassword, "api.key"},
			fmt.Errorf("refused %s: %w", "key-hunter2-rest", base), "refused ********: backend down", []string{"key-", "-rest", "hunter2"}},
		{"short raw value kept", Identity{KeyPassword: "ab"}, nil, fmt.Errorf("about: %w", base), "about: backend down", nil},
		{"no secret shown", Identity{KeyPassword: "hunter2"}, nil, base, "backend down", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys := append([]string{KeyPassword}, tc.keys...)
			got := maskError(tc.err, tc.id, keys)
			if got.Error() != tc.want {
				t.Errorf("masked %q, want %q", got, tc.want)
			}
			for _, s := range tc.secrets {
				if strings.Contains(got.Error(), s) {
					t.Errorf("masked %q still shows %q", got, s)
				}
			}
			if !errors.Is(got, base) {
				t.Errorf("masked %v does not unwrap to the plugin's error", got)
			}
			if got.Error() == tc.err.Error() && got != tc.err {
				t.Errorf("nothing masked, yet a new error")
			}
		})
	}
}
