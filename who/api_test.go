package who_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/who"
)

// withAPI runs fn inside the middleware and returns the recorder.
func withAPI(t *testing.T, cfg who.Config, req *http.Request, fn func(w http.ResponseWriter, r *http.Request, api *who.API)) *httptest.ResponseRecorder {
	t.Helper()
	m := mustNew(t, cfg)
	return do(m, func(w http.ResponseWriter, r *http.Request) { fn(w, r, who.APIFrom(r)) }, req)
}

func TestAPIWithoutMiddlewareIsSafe(t *testing.T) {
	t.Parallel()
	r := get("/")
	api := who.APIFrom(r)
	if api != nil {
		t.Fatal("APIFrom without middleware is not nil")
	}
	if api.Authenticate() != nil || api.Challenge(401, nil) != nil || api.Remember(nil) != nil ||
		api.Forget(nil) != nil || api.Logout("") != nil || api.Result() != nil || api.Classification() != "" {
		t.Error("nil API returned non-zero values")
	}
	if res, h := api.Login(who.Identity{}, ""); res != nil || h != nil {
		t.Error("nil API Login returned values")
	}
	if who.ResultFrom(r.Context()) != nil || who.UserID(r.Context()) != "" || who.Classification(r.Context()) != "" {
		t.Error("context accessors without middleware returned values")
	}
}

func TestAPILogin(t *testing.T) {
	t.Parallel()
	pw := &authFunc{fn: func(id who.Identity) (string, error) {
		if id.Str(who.KeyLogin) == "alice" && id.Str(who.KeyPassword) == "wonderland" {
			return "alice", nil
		}
		return "", nil
	}}
	tests := []struct {
		name       string
		creds      who.Identity
		identifier string
		wantUser   string
		wantCookie []string
	}{
		{"good login, all identifiers remember, each header once", who.Identity{who.KeyLogin: "alice", who.KeyPassword: "wonderland"}, "",
			"alice", []string{"tkt=alice"}},
		{"good login by name", who.Identity{who.KeyLogin: "alice", who.KeyPassword: "wonderland"}, "tkt2",
			"alice", []string{"tkt=alice"}},
		{"bad login: forget headers", who.Identity{who.KeyLogin: "alice", who.KeyPassword: "nope"}, "",
			"", []string{"tkt=INVALID; Max-Age=0"}},
		{"unknown identifier", who.Identity{who.KeyLogin: "alice", who.KeyPassword: "wonderland"}, "nosuch", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := who.Config{
				Identifiers:       entries("tkt", cookieID(), "basic", plainIdentifier{}, "tkt2", cookieID()),
				Authenticators:    entries("pw", pw),
				MetadataProviders: entries("md", &mdFunc{key: "mail", val: "a@example.org"}),
			}
			rec := withAPI(t, cfg, httptest.NewRequest("POST", "/login", nil), func(w http.ResponseWriter, r *http.Request, api *who.API) {
				res, h := api.Login(tc.creds, tc.identifier)
				if got := who.UserID(r.Context()); got != tc.wantUser {
					t.Errorf("request user after Login = %q, want %q", got, tc.wantUser)
				}
				if res != nil && res.Identity["mail"] != "a@example.org" {
					t.Errorf("metadata not added on Login: %v", res.Identity.Public())
				}
				if diff := cmp.Diff(tc.wantCookie, h["Set-Cookie"]); diff != "" {
					t.Errorf("Login headers (-want +got):\n%s", diff)
				}
			})
			if got := rec.Header()["Set-Cookie"]; got != nil {
				t.Errorf("the middleware added %v after Login: the caller sends Login's headers", got)
			}
		})
	}
}

func TestAPILogoutToleratesNilForget(t *testing.T) {
	t.Parallel()
	cfg := who.Config{
		Identifiers:    entries("plain", plainIdentifier{id: who.Identity{who.KeyLogin: "x"}}, "nilforget", &idFunc{identify: func(*http.Request) (who.Identity, error) { return nil, nil }}, "tkt", cookieID()),
		Authenticators: entries("a", acceptLogin("")),
	}
	withAPI(t, cfg, get("/"), func(w http.ResponseWriter, r *http.Request, api *who.API) {
		if who.UserID(r.Context()) != "x" {
			t.Fatal("not authenticated")
		}
		h := api.Logout("")
		if diff := cmp.Diff(http.Header{"Set-Cookie": {"tkt=INVALID; Max-Age=0"}}, h); diff != "" {
			t.Errorf("Logout headers (-want +got):\n%s", diff)
		}
		if api.Result() != nil {
			t.Error("Logout left a result")
		}
		if h := api.Logout("nosuch"); len(h) != 0 {
			t.Errorf("Logout of an unknown identifier: %v", h)
		}
	})
}

func TestAPIRememberForgetChallenge(t *testing.T) {
	t.Parallel()
	ch := &challenger{name: "basic"}
	cfg := who.Config{
		Identifiers:    entries("tkt", cookieID()),
		Authenticators: entries("a", acceptLogin("")),
		Challengers:    []who.Entry{{Name: "dav", Plugin: &challenger{name: "dav"}, Classifications: []string{"dav"}}, {Name: "basic", Plugin: ch}},
	}
	withAPI(t, cfg, get("/", "X-Login", "bob"), func(w http.ResponseWriter, r *http.Request, api *who.API) {
		if got := api.Remember(nil).Get("Set-Cookie"); got != "tkt=bob" {
			t.Errorf("Remember(nil) = %q", got)
		}
		if got := api.Forget(nil).Get("Set-Cookie"); got != "tkt=INVALID; Max-Age=0" {
			t.Errorf("Forget(nil) = %q", got)
		}
		if h := api.Challenge(0, nil); h == nil {
			t.Fatal("no challenge handler")
		}
		if ch.seen.status != http.StatusForbidden {
			t.Errorf("default challenge status %d, want 403", ch.seen.status)
		}
		if ch.seen.forgeted.Get("Set-Cookie") == "" {
			t.Error("challenger got no forget headers")
		}
		res := api.Authenticate()
		if res == nil || res.UserID != "bob" {
			t.Errorf("Authenticate() = %+v", res)
		}
	})
	// Anonymous: Remember and Forget add nothing.
	withAPI(t, cfg, get("/"), func(w http.ResponseWriter, r *http.Request, api *who.API) {
		if api.Remember(nil) != nil || api.Forget(nil) != nil {
			t.Error("headers for an anonymous request")
		}
	})
}

// WriteLogin and WriteLogout put Login's and Logout's headers on the
// response, so no caller copies them by hand.
func TestAPIWriteLoginLogout(t *testing.T) {
	t.Parallel()
	pw := &authFunc{fn: func(id who.Identity) (string, error) {
		if id.Str(who.KeyPassword) == "wonderland" {
			return id.Str(who.KeyLogin), nil
		}
		return "", nil
	}}
	cfg := who.Config{Identifiers: entries("tkt", cookieID()), Authenticators: entries("pw", pw)}
	tests := []struct {
		name     string
		do       func(w http.ResponseWriter, api *who.API)
		wantUser string
		want     []string
	}{
		{"good login", func(w http.ResponseWriter, api *who.API) {
			api.WriteLogin(w, who.Identity{who.KeyLogin: "alice", who.KeyPassword: "wonderland"}, "")
		}, "alice", []string{"tkt=alice"}},
		{"wrong password", func(w http.ResponseWriter, api *who.API) {
			if res := api.WriteLogin(w, who.Identity{who.KeyLogin: "alice", who.KeyPassword: "x"}, ""); res != nil {
				t.Errorf("WriteLogin with a wrong password = %+v", res)
			}
		}, "", []string{"tkt=INVALID; Max-Age=0"}},
		{"logout", func(w http.ResponseWriter, api *who.API) { api.WriteLogout(w, "") }, "", []string{"tkt=INVALID; Max-Age=0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := withAPI(t, cfg, httptest.NewRequest("POST", "/login", nil), func(w http.ResponseWriter, r *http.Request, api *who.API) {
				w.Header().Set("X-Before", "kept")
				tc.do(w, api)
				if got := who.UserID(r.Context()); got != tc.wantUser {
					t.Errorf("user after the call = %q, want %q", got, tc.wantUser)
				}
			})
			if diff := cmp.Diff(tc.want, rec.Header()["Set-Cookie"]); diff != "" {
				t.Errorf("Set-Cookie on the response (-want +got):\n%s", diff)
			}
			if rec.Header().Get("X-Before") != "kept" {
				t.Error("a header set before the call is gone")
			}
		})
	}
	var api *who.API // no middleware: nothing written, no panic
	rec := httptest.NewRecorder()
	if api.WriteLogin(rec, who.Identity{}, "") != nil || len(rec.Header()) != 0 {
		t.Error("a nil API wrote headers")
	}
	api.WriteLogout(rec, "")
}

type keyer []string

func (k keyer) SecretKeys() []string { return k }

func TestSecretKeysOf(t *testing.T) {
	t.Parallel()
	got := who.SecretKeysOf(keyer{"apikey.key", ""}, struct{}{}, keyer{"apikey.key", "otp"}, nil)
	if diff := cmp.Diff([]string{who.KeyPassword, "apikey.key", "otp"}, got); diff != "" {
		t.Errorf("SecretKeysOf (-want +got):\n%s", diff)
	}
}

// LoginAs finds the identifier by the plugin value, whatever its entry's
// name; a plugin the chain does not list logs nobody in.
func TestAPILoginAs(t *testing.T) {
	t.Parallel()
	pw := &authFunc{fn: func(id who.Identity) (string, error) { return id.Str(who.KeyLogin), nil }}
	tkt, other := cookieID(), cookieID()
	cfg := who.Config{Identifiers: entries("any-name", tkt), Authenticators: entries("pw", pw)}
	tests := []struct {
		name     string
		plugin   who.Identifier
		wantUser string
		want     []string
	}{
		{"listed plugin", tkt, "alice", []string{"tkt=alice"}},
		{"unlisted plugin of the same type", other, "", nil},
		{"nil", nil, "", nil},
		{"non-comparable type", idMap{}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			withAPI(t, cfg, httptest.NewRequest("POST", "/login", nil), func(w http.ResponseWriter, r *http.Request, api *who.API) {
				res, h := api.LoginAs(tc.plugin, who.Identity{who.KeyLogin: "alice"})
				if got := who.UserID(r.Context()); got != tc.wantUser || (res != nil) != (tc.wantUser != "") {
					t.Errorf("user after LoginAs = %q (result %v), want %q", got, res, tc.wantUser)
				}
				if diff := cmp.Diff(tc.want, h["Set-Cookie"]); diff != "" {
					t.Errorf("LoginAs headers (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// idMap is an Identifier of a type that cannot be compared.
type idMap map[string]string

func (idMap) Identify(*http.Request) (who.Identity, error) { return nil, nil }

// wrappedID is an Identifier whose type is comparable but whose value may
// not be: its interface field can hold a map.
type wrappedID struct{ who.Identifier }

// TestAPILoginAsIncomparableValue: LoginAs with a plugin of a comparable
// type holding an incomparable value (an interface field holding a map)
// logs nobody in instead of panicking ("comparing uncomparable type
// idMap": the check looked at the type only).
func TestAPILoginAsIncomparableValue(t *testing.T) {
	t.Parallel()
	pw := &authFunc{fn: func(id who.Identity) (string, error) { return id.Str(who.KeyLogin), nil }}
	plugin := wrappedID{idMap{}}
	cfg := who.Config{Identifiers: entries("w", plugin), Authenticators: entries("pw", pw)}
	withAPI(t, cfg, httptest.NewRequest("POST", "/login", nil), func(w http.ResponseWriter, r *http.Request, api *who.API) {
		if res, h := api.LoginAs(plugin, who.Identity{who.KeyLogin: "alice"}); res != nil || h != nil {
			t.Errorf("LoginAs = %v, %v, want nil, nil", res, h)
		}
	})
}
