package apikey_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/examples/apikey"
	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
)

// TestFromWhoToml loads who.toml, which uses the custom plugin next to the
// built-in basicauth, and sends requests through it.
func TestFromWhoToml(t *testing.T) {
	chain, err := config.Load("who.toml", config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	h := chain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who.UserID(r.Context()) == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, who.UserID(r.Context()))
	}))
	tests := []struct {
		key        string
		wantStatus int
		wantBody   string
	}{
		{"k-3f9a", 200, "alice"},
		{"k-77c1", 200, "bob"},
		{"k-wrong", 401, ""},
		{"", 401, ""},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.key != "" {
			req.Header.Set("X-API-Key", tc.key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.wantStatus || tc.wantStatus == 200 && rec.Body.String() != tc.wantBody {
			t.Errorf("key %q: %d %q, want %d %q", tc.key, rec.Code, rec.Body, tc.wantStatus, tc.wantBody)
		}
		if tc.wantStatus == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic") {
			t.Errorf("key %q: no Basic challenge", tc.key)
		}
	}
}

func TestMissingKeysIsALoadError(t *testing.T) {
	_, err := config.Parse("bad.toml", []byte("[plugin.apikey]\nuse = \"apikey\"\n[authenticators]\nplugins = [\"apikey\"]\n"), config.Options{})
	if err == nil || !strings.Contains(err.Error(), `bad.toml:1: [plugin.apikey] (use = "apikey"): keys: is required`) {
		t.Errorf("err = %v", err)
	}
}

// TestDeclaresItsSecretAndKind: the chain masks the client's API key (who
// explain, the debug log and /whoami print identities through the same
// list), and listing apikey as a challenger is named as a mistake even when
// its options fail to build.
func TestDeclaresItsSecretAndKind(t *testing.T) {
	chain, err := config.Load("who.toml", config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	p, _ := chain.Plugin("apikey")
	if keys := who.SecretKeysOf(p); !slices.Contains(keys, "apikey.key") {
		t.Errorf("SecretKeysOf(apikey) = %q, want apikey.key among them", keys)
	}

	_, err = config.Parse("bad.toml", []byte("[plugin.apikey]\nuse = \"apikey\"\n[challengers]\nplugins = [\"apikey\"]\n"), config.Options{})
	if err == nil || !strings.Contains(err.Error(), "keys: is required") || !strings.Contains(err.Error(), "Challenger") {
		t.Errorf("err = %v, want both the missing keys and that apikey is no Challenger", err)
	}
}
