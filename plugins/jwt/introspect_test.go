package jwt

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gowho/gowho/who"
)

// introspectionServer answers RFC 7662 requests from answers (by token),
// for the client "rs" with secret "s&cret" only.
func introspectionServer(t *testing.T, answers map[string]map[string]any) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		id, secret, ok := r.BasicAuth()
		if !ok || id != "rs" || secret != "s%26cret" { // form-encoded (RFC 6749 2.3.1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		a, ok := answers[r.PostFormValue("token")]
		if !ok {
			a = map[string]any{"active": false}
		}
		_ = json.NewEncoder(w).Encode(a)
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

func TestIntrospection(t *testing.T) {
	active := func(mod func(map[string]any)) map[string]any {
		a := map[string]any{"active": true, "sub": "bob", "iss": testIssuer, "aud": []string{testAud},
			"exp": t0.Add(time.Hour).Unix(), "email": "bob@example.com", "client_id": "app"}
		if mod != nil {
			mod(a)
		}
		return a
	}
	srv, calls := introspectionServer(t, map[string]map[string]any{
		"good":      active(nil),
		"noaud":     active(func(a map[string]any) { delete(a, "aud") }),
		"otheraud":  active(func(a map[string]any) { a["aud"] = "other" }),
		"otheriss":  active(func(a map[string]any) { a["iss"] = "https://evil.test" }),
		"noiss":     active(func(a map[string]any) { delete(a, "iss") }),
		"expired":   active(func(a map[string]any) { a["exp"] = t0.Add(-time.Hour).Unix() }),
		"nbf":       active(func(a map[string]any) { a["nbf"] = t0.Add(time.Hour).Unix() }),
		"nosub":     active(func(a map[string]any) { delete(a, "sub") }),
		"activestr": active(func(a map[string]any) { a["active"] = "true" }),
		"a.b.c":     active(nil), // a JWT-shaped token goes to the endpoint when no key is configured
		"inactive":  {"active": false, "sub": "bob"},
	})
	clk := &clock{t: t0}
	p, err := New(Options{IntrospectionURL: srv.URL, ClientID: "rs", ClientSecret: "s&cret",
		Issuer: testIssuer, Audience: []string{testAud}, Claims: []string{"email"}, Now: clk.Now, Timeout: who.Duration(2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ tok, want string }{
		{"good", "bob"}, {"a.b.c", "bob"}, {"noiss", "bob"},
		{"noaud", ""}, {"otheraud", ""}, {"otheriss", ""}, {"expired", ""}, {"nbf", ""},
		{"nosub", ""}, {"activestr", ""}, {"inactive", ""}, {"unknown", ""},
	} {
		t.Run(tc.tok, func(t *testing.T) {
			r := bearerRequest(tc.tok)
			id, _ := p.Identify(r)
			uid, err := p.Authenticate(r, id)
			if tc.tok == "activestr" {
				// "active": "true" is not an RFC 7662 answer: an error, not a yes.
				if uid != "" {
					t.Fatalf("got %q", uid)
				}
				return
			}
			if uid != tc.want || err != nil {
				t.Fatalf("got %q, %v; want %q", uid, err, tc.want)
			}
			if tc.want != "" && id.Str("email") != "bob@example.com" {
				t.Errorf("email = %v", id["email"])
			}
		})
	}

	// An active answer is cached; an inactive one is not.
	before := calls.Load()
	auth(t, p, "good")
	auth(t, p, "inactive")
	if n := calls.Load() - before; n != 1 {
		t.Errorf("%d calls, want 1 (good is cached)", n)
	}

	// Wrong client credentials: the endpoint says 401, an error.
	p2, _ := New(Options{IntrospectionURL: srv.URL, ClientID: "rs", ClientSecret: "wrong", AnyAudience: true})
	if uid, err := auth(t, p2, "good"); uid != "" || err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong secret: %q, %v", uid, err)
	}
}

// TestIntrospectionWithKeys: with keys configured, a JWT is verified
// locally and only an opaque token is introspected.
func TestIntrospectionWithKeys(t *testing.T) {
	prov := stdProvider(t)
	srv, calls := introspectionServer(t, map[string]map[string]any{
		"opaque": {"active": true, "sub": "bob", "aud": testAud, "exp": t0.Add(time.Hour).Unix()},
	})
	clk := &clock{t: t0}
	p := newTestPlugin(t, prov, clk, func(o *Options) { o.IntrospectionURL = srv.URL; o.ClientID = "rs"; o.ClientSecret = "s&cret" })
	if uid, err := auth(t, p, "opaque"); uid != "bob" || err != nil {
		t.Fatalf("opaque: %q, %v", uid, err)
	}
	if uid, err := auth(t, p, sign(t, jose.RS256, rsaKey, "k1", claims())); uid != "alice" || err != nil {
		t.Fatalf("jwt: %q, %v", uid, err)
	}
	// A forged JWT is refused locally, not sent to the endpoint.
	if uid, _ := auth(t, p, sign(t, jose.RS256, rsaKey2, "k1", claims())); uid != "" {
		t.Fatal("forged JWT accepted")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d introspection calls, want 1", n)
	}
}

func TestIntrospectionFaults(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server sees the client go only once the body is read
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"active": tr`))
	}))
	t.Cleanup(bad.Close)
	for _, u := range []string{slow.URL, bad.URL} {
		p, err := New(Options{IntrospectionURL: u, AnyAudience: true, Timeout: who.Duration(200 * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		if uid, err := auth(t, p, "opaque"); uid != "" || err == nil || strings.Contains(err.Error(), "opaque") {
			t.Errorf("%s: %q, %v; want an error not quoting the token", u, uid, err)
		}
	}
}

// TestHugeToken: a token over max_token_bytes is no identity and is not
// verified; Verify bounds it too.
func TestHugeToken(t *testing.T) {
	srv, calls := introspectionServer(t, nil)
	p, err := New(Options{IntrospectionURL: srv.URL, AnyAudience: true})
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("A", DefaultMaxTokenBytes+1)
	if id, _ := p.Identify(bearerRequest(huge)); id != nil {
		t.Fatal("a huge token is an identity")
	}
	if _, err := p.Verify(t.Context(), huge); err == nil {
		t.Fatal("Verify accepted a huge token")
	}
	big := strings.Repeat("A.", 1<<20)
	if uid, err := p.Authenticate(bearerRequest(""), who.Identity{KeyToken: big}); uid != "" || err != nil {
		t.Fatalf("got %q, %v", uid, err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d introspection calls for oversized tokens", n)
	}
}
