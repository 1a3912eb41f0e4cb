package who_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// barkey is a custom identifier whose identity holds an API key under
// "barkey.key", which it declares secret.
type barkey struct{}

func (barkey) Identify(r *http.Request) (who.Identity, error) {
	k := r.Header.Get("X-Bar-Key")
	if k == "" {
		return nil, nil
	}
	return who.Identity{"barkey.key": k, who.KeyLogin: "bar", who.KeyPassword: "pw-" + k}, nil
}

func (barkey) SecretKeys() []string { return []string{"barkey.key"} }

// quotingAuth is an authenticator whose error message quotes the
// credential it was given, as a careless plugin's would.
type quotingAuth struct{ err error }

func (a quotingAuth) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	return "", fmt.Errorf("backend refused key %q (raw %s, password %q): %w", id.Str("barkey.key"), id.Str("barkey.key"), id.Str(who.KeyPassword), a.err)
}

const barSecret = "k3y-v4lue-42"

// TestDebugLogMasksDeclaredKeys (issue 12 item 16): the value under a key
// a custom identifier declares secret, and the password, never reach the
// debug log; the identity's other keys are shown.
func TestDebugLogMasksDeclaredKeys(t *testing.T) {
	t.Parallel()
	log, buf := whotest.Logger(t)
	m := mustNew(t, who.Config{
		Logger:         log,
		Identifiers:    entries("barkey", barkey{}),
		Authenticators: entries("a", acceptLogin("")),
	})
	do(m, func(http.ResponseWriter, *http.Request) {}, get("/", "X-Bar-Key", barSecret))
	out := buf.String()
	if strings.Contains(out, barSecret) {
		t.Errorf("the declared secret reached the debug log:\n%s", out)
	}
	for _, want := range []string{`msg="who: identifier answered" plugin=barkey found=true`, "identity.barkey.key=" + who.Mask,
		"identity.password=" + who.Mask, "identity.login=bar"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q:\n%s", want, out)
		}
	}
}

// TestPluginErrorMasksDeclaredKeys: an authenticator error that quotes
// the identity's secrets is logged and traced with them masked, and still
// unwraps to the plugin's error.
func TestPluginErrorMasksDeclaredKeys(t *testing.T) {
	t.Parallel()
	down := errors.New("backend down")
	log, buf := whotest.Logger(t)
	m := mustNew(t, who.Config{
		Logger:             log,
		Identifiers:        entries("barkey", barkey{}),
		Authenticators:     entries("q", quotingAuth{down}),
		FailureLogInterval: -1,
	})
	var traced error
	req := get("/", "X-Bar-Key", barSecret)
	req = req.WithContext(who.WithTrace(req.Context(), &who.Trace{
		Authenticated: func(_, _ string, _ [2]int, _ string, err error) { traced = err },
	}))
	do(m, func(http.ResponseWriter, *http.Request) {}, req)
	if out := buf.String(); strings.Contains(out, barSecret) || !strings.Contains(out, "who: authenticator failed") {
		t.Errorf("want the failure logged without the secret:\n%s", out)
	}
	if traced == nil || strings.Contains(traced.Error(), barSecret) || !errors.Is(traced, down) {
		t.Errorf("traced error %v: want the secret masked and errors.Is(err, down)", traced)
	}
	want := fmt.Sprintf("backend refused key %q (raw %s, password %q): backend down", who.Mask, who.Mask, who.Mask)
	if traced != nil && traced.Error() != want {
		t.Errorf("traced error %q, want %q", traced, want)
	}
}

func TestIdentityMasked(t *testing.T) {
	t.Parallel()
	id := who.Identity{"barkey.key": "k", who.KeyPassword: "pw", who.KeyLogin: "bob", "n": 1}
	tests := []struct {
		name string
		id   who.Identity
		keys []string
		want who.Identity
	}{
		{"password always", id, nil, who.Identity{"barkey.key": "k", who.KeyPassword: who.Mask, who.KeyLogin: "bob", "n": 1}},
		{"declared keys", id, []string{"barkey.key", "absent"}, who.Identity{"barkey.key": who.Mask, who.KeyPassword: who.Mask, who.KeyLogin: "bob", "n": 1}},
		{"nil", nil, []string{"x"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.id.Masked(tc.keys)); diff != "" {
				t.Errorf("Masked (-want +got):\n%s", diff)
			}
		})
	}
	if id["barkey.key"] != "k" || id[who.KeyPassword] != "pw" {
		t.Errorf("Masked changed its receiver: %v", map[string]any(id))
	}
}

// TestMiddlewareSecretKeys: the keys of every stage's plugins, each once,
// after KeyPassword; the slice is the caller's.
func TestMiddlewareSecretKeys(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		Identifiers:       entries("barkey", barkey{}, "x", fixedID(nil)),
		Authenticators:    entries("k", keyedAuth{"otp", "barkey.key"}),
		MetadataProviders: entries("md", keyedMD{"md.token"}),
	})
	want := []string{who.KeyPassword, "barkey.key", "otp", "md.token"}
	got := m.SecretKeys()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SecretKeys (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if m.SecretKeys()[0] != who.KeyPassword {
		t.Error("SecretKeys returned the middleware's own slice")
	}
}

type keyedAuth []string

func (keyedAuth) Authenticate(*http.Request, who.Identity) (string, error) { return "", nil }
func (k keyedAuth) SecretKeys() []string                                   { return k }

type keyedMD []string

func (keyedMD) AddMetadata(*http.Request, who.Identity) error { return nil }
func (k keyedMD) SecretKeys() []string                        { return k }

// TestAPISecretKeys: a handler reaches the chain's keys through the API,
// and a request without the middleware still masks the password.
func TestAPISecretKeys(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{Identifiers: entries("barkey", barkey{})})
	var got []string
	do(m, func(_ http.ResponseWriter, r *http.Request) { got = who.APIFrom(r).SecretKeys() }, get("/"))
	if diff := cmp.Diff([]string{who.KeyPassword, "barkey.key"}, got); diff != "" {
		t.Errorf("API.SecretKeys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{who.KeyPassword}, who.APIFrom(get("/")).SecretKeys()); diff != "" {
		t.Errorf("SecretKeys without the middleware (-want +got):\n%s", diff)
	}
}
