package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/who"
)

// Every spelling of an identity header goes: case, '_' for '-', and the
// front ends' Remote-User.
func TestStripIdentity(t *testing.T) {
	t.Parallel()
	c := &Config{PassIdentity: []string{"mail", "groups"}}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, k := range []string{"X-Remote-User", "X_Remote_User", "x-remote-user", "X-REMOTE_USER", "X_remote-User",
		"Remote-User", "Remote_User", "REMOTE-USER", "X-Forwarded-User", "X-Remote-Mail", "x_remote_mail", "X-Remote-Groups",
		"X-Who-Assertion", "x_who_assertion"} {
		h[k] = []string{"mallory"}
	}
	h["X-Remote-Users"] = []string{"kept"} // another name
	h["Cookie"] = []string{"kept"}
	stripIdentity(h, c.identityHeaders())
	if len(h) != 2 || h.Get("Cookie") != "kept" || h.Get("X-Remote-Users") != "kept" {
		t.Errorf("after stripping: %v", h)
	}
}

// A userid that cannot go in a header is refused (500, logged); a passed
// value that cannot is left out.
func TestIdentityValuesWithControlCharacters(t *testing.T) {
	t.Parallel()
	newGW := func(res *who.Result) *Gateway {
		g, err := New(Config{PassIdentity: []string{"mail", "groups"}}, Options{Wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(w, r.WithContext(who.NewContext(r.Context(), res)))
			})
		}})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	tests := []struct {
		name   string
		res    *who.Result
		status int
		want   http.Header
	}{
		{"CR LF userid", &who.Result{UserID: "alice\r\nX-Admin: 1"}, 500, http.Header{}},
		{"NUL userid", &who.Result{UserID: "alice\x00"}, 500, http.Header{}},
		{"CR LF mail", &who.Result{UserID: "alice", Identity: who.Identity{"mail": "a@x\r\nX-Admin: 1", "groups": []string{"g"}}}, 200,
			http.Header{"X-Remote-User": {"alice"}, "X-Remote-Groups": {"g"}}},
		{"comma in a group", &who.Result{UserID: "alice", Identity: who.Identity{"groups": []any{"a,b", "c"}, "mail": "a@x"}}, 200,
			http.Header{"X-Remote-User": {"alice"}, "X-Remote-Mail": {"a@x"}}},
		{"a map", &who.Result{UserID: "alice", Identity: who.Identity{"mail": map[string]any{"x": 1}}}, 200,
			http.Header{"X-Remote-User": {"alice"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			newGW(tt.res).ServeHTTP(rec, httptest.NewRequest("GET", "/_who/auth", nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			got := http.Header{}
			for _, k := range []string{"X-Remote-User", "X-Remote-Mail", "X-Remote-Groups"} {
				if v, ok := rec.Header()[k]; ok {
					got[k] = v
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("headers %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got.Get(k) != v[0] {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v[0])
				}
			}
		})
	}
}
