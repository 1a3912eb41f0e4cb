package form

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gowho/gowho/who"
)

// ticketCookie returns the auth_tkt value a response sets, or "".
func ticketCookie(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == "auth_tkt" && c.Value != "INVALID" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// TestLoginWhileLoggedIn: a login POST authenticates the posted
// credentials whoever the request's ticket names. alice, logged in with a
// valid ticket, logs in as bob (302 and a ticket for bob) and as alice
// again (302 and a fresh ticket); a wrong password while logged in shows
// the form and keeps alice logged in. Both with the form the plugin serves
// (token) and with the application's own page (serve_form = false, same
// origin). Without the fix the ticket's identity outranked the posted one
// (auth_tkt authenticates first) and every such login answered 200 "Wrong
// login or password".
func TestLoginWhileLoggedIn(t *testing.T) {
	t.Parallel()
	off := false
	for _, mode := range []struct {
		name string
		o    Options
	}{
		{"served form", Options{LoginFormURL: "/login"}},
		{"own page", Options{LoginFormURL: "/login", ServeForm: &off}},
		{"form on challenge", Options{}},
	} {
		for _, tt := range []struct {
			name, login, password string
			status                int
			ticket                bool   // a new ticket is sent
			user                  string // who the next request is
		}{
			{"alice to bob", "bob", "builder", 302, true, "bob"},
			{"alice again", "alice", "wonderland", 302, true, "alice"},
			{"alice wrong password", "bob", "nope", 200, false, "alice"},
		} {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				h := chainWith(t, mode.o, passwords{"alice": "wonderland", "bob": "builder"}, testApp)
				c := newClient(t, h)
				// The token belongs to the browser's CSRF cookie, not to one
				// page: the form of the first, anonymous, visit serves both.
				action, home, tok := "/login_handler", "/home", ""
				switch {
				case mode.o.LoginFormURL == "":
					action, home = "/home?__do_login=true", "/home"
					_, page := c.do("GET", "/protected", nil)
					tok = token(t, page)
				case mode.o.ServeForm == nil:
					_, page := c.do("GET", "/login", nil)
					tok = token(t, page)
				}
				login := func(login, password string) *http.Response {
					t.Helper()
					f := url.Values{"login": {login}, "password": {password}, "came_from": {"/home"}}
					if tok != "" {
						f.Set(FieldCSRF, tok)
					}
					req, _ := http.NewRequest("POST", c.srv.URL+action, strings.NewReader(f.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Sec-Fetch-Site", "same-origin")
					resp, err := c.c.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					return resp
				}
				if resp := login("alice", "wonderland"); resp.StatusCode != 302 || ticketCookie(resp) == "" {
					t.Fatalf("first login: %d, Set-Cookie %q", resp.StatusCode, resp.Header["Set-Cookie"])
				}
				if _, page := c.do("GET", "/", nil); page != "page / user=alice" {
					t.Fatalf("after the first login: %q", page)
				}
				resp := login(tt.login, tt.password)
				if resp.StatusCode != tt.status || (ticketCookie(resp) != "") != tt.ticket {
					t.Fatalf("second login: %d (want %d), Set-Cookie %q (want a ticket: %v)", resp.StatusCode, tt.status, resp.Header["Set-Cookie"], tt.ticket)
				}
				if tt.status == 302 && resp.Header.Get("Location") != home {
					t.Errorf("Location %q", resp.Header.Get("Location"))
				}
				if _, page := c.do("GET", "/", nil); page != "page / user="+tt.user {
					t.Fatalf("after the second login: %q, want user=%s", page, tt.user)
				}
			})
		}
	}
}

// recordingRememberer records the identities it is asked to remember.
type recordingRememberer struct {
	got chan who.Identity
}

func (r recordingRememberer) Remember(_ *http.Request, id who.Identity) http.Header {
	r.got <- id.Clone()
	return http.Header{"Set-Cookie": {"rem=" + id.Str(who.KeyUserID)}}
}

func (recordingRememberer) Forget(*http.Request, who.Identity) http.Header {
	return http.Header{"Set-Cookie": {"rem=; Max-Age=0"}}
}
