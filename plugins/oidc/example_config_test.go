package oidc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/plugins/basicauth"
)

// examples/oidc.toml loads without contacting its providers, masks its
// secrets, and its challenge is the chooser of both providers.
func TestExampleConfig(t *testing.T) {
	env := map[string]string{"OIDC_CORP_SECRET": "corp-s3cret", "OIDC_SOCIAL_SECRET": "social-s3cret", "OIDC_COOKIE_SECRET": "cookie-secret-0123456789abcdef"}
	chain, err := config.Load("../../examples/oidc.toml", config.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	if got := chain.Mask("corp-s3cret social-s3cret"); strings.Contains(got, "s3cret") {
		t.Errorf("secrets not masked: %q", got)
	}
	h := chain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	r := httptest.NewRequest("GET", "/protected", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Example Corp") || !strings.Contains(w.Body.String(), "/oidc/social/login?came_from=") {
		t.Fatalf("challenge: %d %q", w.Code, w.Body.String())
	}
}
