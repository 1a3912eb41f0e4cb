package whotest_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// headerOptions are the who.toml options of a plugin that takes the login
// from a header a proxy sets.
type headerOptions struct {
	Header string `toml:"header"`
}

// headerIdentifier is the plugin.
type headerIdentifier struct{ header string }

// Identify returns a fresh identity holding the header's value, or nil.
func (h *headerIdentifier) Identify(r *http.Request) (who.Identity, error) {
	v := r.Header.Get(h.header)
	if v == "" {
		return nil, nil
	}
	return who.Identity{who.KeyLogin: v}, nil
}

// headerFactory is what the plugin registers with who.Register.
func headerFactory(spec who.PluginSpec) (any, error) {
	var o headerOptions
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	if o.Header == "" {
		return nil, &who.OptionError{Key: "header", Err: errors.New("is required")}
	}
	return &headerIdentifier{header: o.Header}, nil
}

// testHeaderIdentifier is the test the plugin's author writes, called from
// a TestXxx function: build the plugin from who.toml options with the
// real loader, then check the Identifier contract.
func testHeaderIdentifier(t *testing.T) {
	p, err := whotest.Build(t, headerFactory, `header = "X-User"`)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-User", "alice")
	whotest.CheckIdentifier(t, p.(who.Identifier), r)

	// The loader's strict decoder refuses what it would refuse in who.toml.
	if _, err := whotest.Build(t, headerFactory, `heder = "X-User"`); err == nil {
		t.Error("a misspelt key was accepted")
	}
}

// Example shows a plugin's tests with whotest: testHeaderIdentifier runs
// from a TestXxx function.
func Example() {}
