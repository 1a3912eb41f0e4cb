package authtkt_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/apachetest"
	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
)

var algoOf = map[string]string{"MD5": "md5", "SHA256": "sha256", "SHA512": "sha512"}

// apacheGet fetches path with the cookie value, without following
// redirects, and returns the status, the whoami fields and the response.
func apacheGet(t *testing.T, url, cookie string) (int, map[string]string, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "auth_tkt="+cookie)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second,
		// No kept-alive connections: each would hold one of prefork Apache's few
		// workers for KeepAliveTimeout, and a loaded CI machine ran out of them.
		Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fields := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			fields[k] = v
		}
	}
	return resp.StatusCode, fields, resp
}

// TestApacheInterop runs Debian's Apache with mod_auth_tkt: tickets gowho
// makes open its protected URLs with the right REMOTE_USER and tokens,
// tampered ones do not, and tickets Apache makes are accepted by gowho.
func TestApacheInterop(t *testing.T) {
	srv := apachetest.Start(t, apachetest.Options{Secret: "s33kr1t-gowho-apache-interop-32b"})
	now := time.Now()
	for _, digest := range apachetest.Digests {
		base, algo := srv.URL[digest], algoOf[digest]
		mk := func(t *testing.T, tk authtkt.Ticket) string {
			t.Helper()
			if tk.Time.IsZero() {
				tk.Time = now
			}
			v, err := tk.Cookie(srv.Secret, algo)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		t.Run(digest, func(t *testing.T) {
			tests := []struct {
				name       string
				path       string
				cookie     func(t *testing.T) string
				wantStatus int
				wantUser   string
				wantTokens string
				wantData   string
			}{
				{"plain", "/protected-noip/", func(t *testing.T) string { return mk(t, authtkt.Ticket{UserID: "alice"}) }, 200, "alice", "", ""},
				{"quoted", "/protected-noip/", func(t *testing.T) string { return `"` + mk(t, authtkt.Ticket{UserID: "alice"}) + `"` }, 200, "alice", "", ""},
				{"percent21", "/protected-noip/", func(t *testing.T) string {
					return strings.ReplaceAll(mk(t, authtkt.Ticket{UserID: "alice"}), "!", "%21")
				}, 200, "alice", "", ""},
				{"base64", "/protected-noip/", func(t *testing.T) string {
					return base64.StdEncoding.EncodeToString([]byte(mk(t, authtkt.Ticket{UserID: "alice"})))
				}, 200, "alice", "", ""},
				{"tokens and data", "/protected-noip/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "bob", Tokens: []string{"admin", "dev"}, UserData: "userid_type=int&lang=fr"})
				}, 200, "bob", "admin,dev", "userid_type=int&lang=fr"},
				{"admin token", "/protected-admin/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "bob", Tokens: []string{"dev", "admin"}})
				}, 200, "bob", "dev,admin", ""},
				{"persistent login: the lifetime token is one more token", "/protected-admin/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "bob", Tokens: []string{"admin", authtkt.MaxAgeToken + "3600"}})
				}, 200, "bob", "admin,gowho.max_age=3600", ""},
				{"gowho's quoted Set-Cookie: spaces in a token, spaces and '!' in the user data", "/protected-noip/", func(t *testing.T) string {
					// What Remember writes (and so reissues) now that the
					// value is quoted: Apache must read the same fields.
					p, err := authtkt.New(authtkt.Options{Secret: srv.Secret, DigestAlgo: algo})
					if err != nil {
						t.Fatal(err)
					}
					h := p.Remember(httptest.NewRequest("GET", "/", nil), who.Identity{who.KeyUserID: "bob",
						who.KeyTokens: []string{"a b", "c"}, who.KeyUserData: "x y!z", who.KeyMaxAge: 3600})
					v, _, _ := strings.Cut(strings.TrimPrefix(h.Get("Set-Cookie"), "auth_tkt="), ";")
					return v
				}, 200, "bob", "a b,c,gowho.max_age=3600", "x y!z"},
				{"missing token", "/protected-admin/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "bob", Tokens: []string{"dev"}})
				}, 307, "", "", ""},
				{"include_ip 127.0.0.1", "/protected/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "alice", IP: []byte{127, 0, 0, 1}})
				}, 200, "alice", "", ""},
				{"ip mismatch", "/protected/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "alice", IP: []byte{10, 0, 0, 1}})
				}, 307, "", "", ""},
				{"ip ticket without ip binding", "/protected/", func(t *testing.T) string { return mk(t, authtkt.Ticket{UserID: "alice"}) }, 307, "", "", ""},
				{"tampered userid", "/protected-noip/", func(t *testing.T) string {
					return strings.Replace(mk(t, authtkt.Ticket{UserID: "alice"}), "alice", "admin", 1)
				}, 307, "", "", ""},
				{"tampered tokens", "/protected-admin/", func(t *testing.T) string {
					return strings.Replace(mk(t, authtkt.Ticket{UserID: "bob", Tokens: []string{"dev"}}), "!dev", "!admin", 1)
				}, 307, "", "", ""},
				{"wrong secret", "/protected-noip/", func(t *testing.T) string {
					v, _ := authtkt.Ticket{UserID: "alice", Time: now}.Cookie("other", algo)
					return v
				}, 307, "", "", ""},
				{"expired", "/protected-noip/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "alice", Time: now.Add(-3 * time.Hour)})
				}, 307, "", "", ""},
				{"mod_auth_tkt userid encoding", "/protected-noip/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "alice@example.com", Encoding: authtkt.EncodingModAuthTkt})
				}, 200, "alice@example.com", "", ""},
				{"repoze userid encoding of @ (documented incompatibility)", "/protected-noip/", func(t *testing.T) string {
					return mk(t, authtkt.Ticket{UserID: "alice@example.com"})
				}, 307, "", "", ""},
				{"no cookie", "/protected-noip/", func(*testing.T) string { return "" }, 307, "", "", ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					status, f, resp := apacheGet(t, base+tt.path, tt.cookie(t))
					if status != tt.wantStatus {
						t.Fatalf("status %d, want %d (Location %q)\n%s", status, tt.wantStatus, resp.Header.Get("Location"), srv.ErrorLog())
					}
					if status != 200 {
						return
					}
					if f["REMOTE_USER"] != tt.wantUser || f["REMOTE_USER_TOKENS"] != tt.wantTokens || f["REMOTE_USER_DATA"] != tt.wantData {
						t.Fatalf("got %q", f)
					}
				})
			}

			// Tickets made for Apache's configuration are accepted by gowho.
			p, err := authtkt.New(authtkt.Options{Secret: srv.Secret, DigestAlgo: algo, Timeout: who.Duration(2 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			identify := func(t *testing.T, v string) who.Identity {
				t.Helper()
				r, _ := http.NewRequest("GET", "/", nil)
				r.Header.Set("Cookie", "auth_tkt="+v)
				id, err := p.Identify(r)
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			t.Run("apache reissued ticket", func(t *testing.T) {
				old := mk(t, authtkt.Ticket{UserID: "carol", Tokens: []string{"admin"}, UserData: "k=v", Time: now.Add(-time.Hour)})
				status, f, resp := apacheGet(t, base+"/protected-refresh/", old)
				if status != 200 || f["REMOTE_USER"] != "carol" {
					t.Fatalf("status %d %q\n%s", status, f, srv.ErrorLog())
				}
				var fresh string
				for _, c := range resp.Cookies() {
					if c.Name == "auth_tkt" {
						fresh = c.Value
					}
				}
				if fresh == "" {
					t.Fatalf("Apache did not reissue: %q", resp.Header["Set-Cookie"])
				}
				id := identify(t, fresh)
				if id.Str(authtkt.KeyTicketUserID) != "carol" || id.Str(who.KeyUserData) != "k=v" {
					t.Fatalf("gowho read Apache's ticket %q as %v", fresh, map[string]any(id))
				}
				if ts, _ := id[authtkt.KeyTimestamp].(int64); ts < now.Add(-time.Minute).Unix() {
					t.Fatalf("Apache's ticket is not fresh: %d", ts)
				}
			})
			t.Run("apache reissued persistent ticket", func(t *testing.T) {
				// A persistent login's ticket keeps its lifetime through
				// Apache's refresh: gowho reads max_age back.
				old := mk(t, authtkt.Ticket{UserID: "carol", Tokens: []string{"admin", authtkt.MaxAgeToken + "3600"}, Time: now.Add(-time.Hour)})
				status, f, resp := apacheGet(t, base+"/protected-refresh/", old)
				if status != 200 || f["REMOTE_USER"] != "carol" {
					t.Fatalf("status %d %q\n%s", status, f, srv.ErrorLog())
				}
				var fresh string
				for _, c := range resp.Cookies() {
					if c.Name == "auth_tkt" {
						fresh = c.Value
					}
				}
				id := identify(t, fresh)
				if id == nil || id[who.KeyMaxAge] != int64(3600) || strings.Join(id[who.KeyTokens].([]string), ",") != "admin" {
					t.Fatalf("gowho read Apache's ticket %q as %v", fresh, map[string]any(id))
				}
			})
			t.Run("apache style, always tokens field, base64", func(t *testing.T) {
				// Built the way mod_auth_tkt's own scripts build it.
				raw := mk(t, authtkt.Ticket{UserID: "dave", UserData: "x=1"})
				raw = strings.Replace(raw, "dave!", "dave!!", 1) // the empty tokens field: the digest is the same
				status, f, _ := apacheGet(t, base+"/protected-noip/", base64.StdEncoding.EncodeToString([]byte(raw)))
				if status != 200 || f["REMOTE_USER"] != "dave" || f["REMOTE_USER_DATA"] != "x=1" {
					t.Fatalf("Apache: %d %q", status, f)
				}
				id := identify(t, base64.StdEncoding.EncodeToString([]byte(raw)))
				if id.Str(authtkt.KeyTicketUserID) != "dave" || id[who.KeyTokens] != nil && len(id[who.KeyTokens].([]string)) != 0 {
					t.Fatalf("gowho: %v", map[string]any(id))
				}
			})
		})
	}
}
