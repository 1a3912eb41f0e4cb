package sessionplugin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/sessionplugin"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// TestSecureOption: secure in who.toml is a TOML boolean or "auto" (the
// default): "auto" marks the session cookie Secure when the request is
// https as the client saw it (here: a trusted proxy's X-Forwarded-Proto),
// true and false force it. Before, secure was a bool only, and unset it
// followed r.TLS, never a TLS-terminating proxy.
func TestSecureOption(t *testing.T) {
	t.Parallel()
	f, _, err := who.DefaultRegistry.Factory("session")
	if err != nil {
		t.Fatal(err)
	}
	tp, err := who.ParseTrustedProxies([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		option              string
		plain, proxiedHTTPS bool
	}{
		{"", false, true},
		{`secure = "auto"`, false, true},
		{"secure = true", true, true},
		{"secure = false", false, false},
	} {
		v, err := f(whotest.Spec(t, "store = \"memory\"\n"+tc.option))
		if err != nil {
			t.Fatalf("%q: %v", tc.option, err)
		}
		p := v.(*sessionplugin.Plugin)
		chain, err := who.New(who.Config{TrustedProxies: tp})
		if err != nil {
			t.Fatal(err)
		}
		h := chain.Wrap(p.SessionManager().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = session.From(r).Set("k", "v")
		})))
		for _, proxied := range []bool{false, true} {
			r := httptest.NewRequest("GET", "/", nil)
			if proxied {
				r.RemoteAddr = "127.0.0.1:4000"
				r.Header.Set("X-Forwarded-Proto", "https")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			sc := rec.Header().Get("Set-Cookie")
			want := tc.plain
			if proxied {
				want = tc.proxiedHTTPS
			}
			if got := strings.Contains(sc, "; Secure"); got != want {
				t.Errorf("%q, proxied %v: Set-Cookie %q, Secure %v, want %v", tc.option, proxied, sc, got, want)
			}
		}
		_ = p.Close()
	}
	if _, err := f(whotest.Spec(t, "store = \"memory\"\nsecure = \"sometimes\"")); err == nil || !strings.Contains(err.Error(), `"auto"`) {
		t.Errorf(`secure = "sometimes": err = %v`, err)
	}
}
