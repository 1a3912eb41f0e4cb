package authtkt

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// passwords is a test authenticator of login and password.
type passwords map[string]string

func (pw passwords) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	if login := id.Str(who.KeyLogin); login != "" && pw[login] != "" && pw[login] == id.Str(who.KeyPassword) {
		return login, nil
	}
	return "", nil
}

// clock is a test clock the plugin reads and the test moves.
type clock struct{ now atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.now.Store(t.Unix())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(c.now.Load(), 0) }
func (c *clock) Advance(d time.Duration) { c.now.Add(int64(d / time.Second)) }

// loginApp is p behind a chain with a password authenticator. POST /login
// logs in with the form values login, password and remember (seconds, as
// who.KeyMaxAge), as a form login does; any other request shows the user,
// the tokens and the max_age of the request's identity.
func loginApp(t testing.TB, p *Plugin) http.Handler {
	t.Helper()
	m, err := who.New(who.Config{
		Identifiers: []who.Entry{{Name: "auth_tkt", Plugin: p}},
		Authenticators: []who.Entry{
			{Name: "auth_tkt", Plugin: p},
			{Name: "passwords", Plugin: passwords{"alice": "wonderland", "bob": "builder"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/login" {
			creds := who.Identity{who.KeyLogin: r.FormValue("login"), who.KeyPassword: r.FormValue("password")}
			if s := r.FormValue("remember"); s != "" {
				n, _ := strconv.ParseInt(s, 10, 64)
				creds[who.KeyMaxAge] = n
			}
			if who.APIFrom(r).WriteLogin(w, creds, "") == nil {
				http.Error(w, "wrong login", http.StatusForbidden)
				return
			}
			_, _ = w.Write([]byte("logged in"))
			return
		}
		res := who.ResultFrom(r.Context())
		if res == nil {
			_, _ = w.Write([]byte("anonymous"))
			return
		}
		_, _ = w.Write([]byte(res.UserID + " tokens=" + strings.Join(tokenList(res.Identity[who.KeyTokens]), ",") +
			" max_age=" + strconv.FormatInt(func() int64 { n, _ := maxAgeOf(res.Identity[who.KeyMaxAge]); return n }(), 10)))
	}))
}

// cookieJar is the one ticket cookie a browser keeps: its value (quoted,
// as sent) and the Max-Age of the Set-Cookie that set it ("" for a
// browser-session cookie).
type cookieJar struct{ value, maxAge, expires string }

// send runs r through h with the jar's cookie, stores a Set-Cookie it gets
// and returns the response.
func (j *cookieJar) send(t testing.TB, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	if j.value != "" {
		r.Header.Set("Cookie", "auth_tkt="+j.value)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if set := rec.Header()["Set-Cookie"]; len(set) > 0 {
		*j = cookieJar{}
		for i, attr := range strings.Split(set[0], "; ") {
			k, v, _ := strings.Cut(attr, "=")
			switch {
			case i == 0:
				j.value = v
			case k == "Max-Age":
				j.maxAge = v
			case k == "Expires":
				j.expires = v
			}
		}
	}
	return rec
}

func loginReq(login, password, remember string) *http.Request {
	f := url.Values{"login": {login}, "password": {password}}
	if remember != "" {
		f.Set("remember", remember)
	}
	r := httptest.NewRequest(http.MethodPost, "http://h/login", strings.NewReader(f.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "192.0.2.1:5000"
	return r
}

func getReq() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
	r.RemoteAddr = "192.0.2.1:5000"
	return r
}

// TestRememberMeSurvivesReissue (issue 12 item 1): a login with
// remember=2592000 sets Max-Age=2592000, and every ticket reissued after
// reissue_time is again a cookie of the full 30 days (not a
// browser-session cookie, as before), with Expires counted from the
// reissue; the application never sees the lifetime token among the
// tokens. A login without remember stays a session cookie. Cached
// (default) and uncached (include_ip) tickets alike.
func TestRememberMeSurvivesReissue(t *testing.T) {
	t.Parallel()
	const month = "2592000"
	for _, includeIP := range []bool{false, true} {
		for _, remember := range []string{month, ""} {
			t.Run("include_ip="+strconv.FormatBool(includeIP)+"/remember="+remember, func(t *testing.T) {
				t.Parallel()
				c := newClock(t1700)
				p := mustNew(t, Options{Timeout: who.Duration(time.Hour), ReissueTime: who.Duration(10 * time.Minute), IncludeIP: includeIP, Now: c.Now})
				h := loginApp(t, p)
				var jar cookieJar
				if rec := jar.send(t, h, loginReq("alice", "wonderland", remember)); rec.Code != http.StatusOK || jar.value == "" {
					t.Fatalf("login: %d %q, cookie %q", rec.Code, rec.Body, jar.value)
				}
				if jar.maxAge != remember {
					t.Fatalf("login cookie Max-Age %q, want %q", jar.maxAge, remember)
				}
				wantBody := "alice tokens= max_age=0"
				if remember != "" {
					wantBody = "alice tokens= max_age=" + remember
				}
				for round := 1; round <= 3; round++ {
					c.Advance(11 * time.Minute)
					before := jar.value
					rec := jar.send(t, h, getReq())
					if jar.value == before {
						t.Fatalf("round %d: not reissued after reissue_time", round)
					}
					if jar.maxAge != remember {
						t.Fatalf("round %d: reissued cookie Max-Age %q, want %q (remember-me lost at reissue)", round, jar.maxAge, remember)
					}
					if rec.Body.String() != wantBody {
						t.Fatalf("round %d: body %q, want %q", round, rec.Body, wantBody)
					}
					if remember != "" {
						want := c.Now().Add(30 * 24 * time.Hour).UTC().Format(http.TimeFormat)
						if jar.expires != want {
							t.Fatalf("round %d: Expires %q, want %q", round, jar.expires, want)
						}
					}
					// Not reissued again within reissue_time.
					if rec := jar.send(t, h, getReq()); rec.Header()["Set-Cookie"] != nil {
						t.Fatalf("round %d: reissued twice: %q", round, rec.Header()["Set-Cookie"])
					}
				}
			})
		}
	}
}

// TestLoginSendsFreshTicket (issue 12 item 3, the authtkt half): a login
// by a user who already holds a ticket for the same identity gets a new
// ticket, so a fixed-expiry ticket (timeout, no reissue_time) starts a new
// lifetime; before, Remember saw no change and sent nothing, and the user
// was logged out at the old ticket's expiry. A request that only carries
// the ticket still gets no cookie.
func TestLoginSendsFreshTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		after    time.Duration // from the first login to the second
		remember string
	}{
		{"same second", 0, ""},
		{"half the timeout later", 30 * time.Minute, ""},
		{"half the timeout later, now remembered", 30 * time.Minute, "3600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock(t1700)
			p := mustNew(t, Options{Timeout: who.Duration(time.Hour), Now: c.Now})
			h := loginApp(t, p)
			var jar cookieJar
			jar.send(t, h, loginReq("alice", "wonderland", ""))
			first := jar.value
			if first == "" {
				t.Fatal("first login: no cookie")
			}
			c.Advance(tc.after)
			if rec := jar.send(t, h, getReq()); rec.Header()["Set-Cookie"] != nil || rec.Body.String() != "alice tokens= max_age=0" {
				t.Fatalf("identified request: %q, cookie %q", rec.Body, rec.Header()["Set-Cookie"])
			}
			rec := jar.send(t, h, loginReq("alice", "wonderland", tc.remember))
			if rec.Header()["Set-Cookie"] == nil {
				t.Fatalf("second login sent no cookie (%d %q)", rec.Code, rec.Body)
			}
			tk, err := p.Ticket(jar.value, nil)
			if err != nil || !tk.Time.Equal(c.Now()) {
				t.Fatalf("new ticket %+v, %v; want one issued now", tk, err)
			}
			if jar.maxAge != tc.remember {
				t.Fatalf("Max-Age %q, want %q", jar.maxAge, tc.remember)
			}
			if tc.after == 0 {
				return // the same ticket, sent again
			}
			// The new ticket outlives the old one's expiry.
			c.Advance(time.Hour - tc.after + time.Minute)
			if rec := jar.send(t, h, getReq()); !strings.HasPrefix(rec.Body.String(), "alice ") {
				t.Fatalf("logged out at the first ticket's expiry: %q", rec.Body)
			}
		})
	}
	t.Run("another user", func(t *testing.T) {
		t.Parallel()
		p := mustNew(t, Options{Timeout: who.Duration(time.Hour), Now: fixed})
		h := loginApp(t, p)
		var jar cookieJar
		jar.send(t, h, loginReq("alice", "wonderland", ""))
		jar.send(t, h, loginReq("bob", "builder", ""))
		if rec := jar.send(t, h, getReq()); rec.Body.String() != "bob tokens= max_age=0" {
			t.Fatalf("after bob's login: %q", rec.Body)
		}
	})
}

// TestMaxAgeToken: the lifetime token is taken out of the identity's
// tokens wherever it is, only when it is one (a positive number of
// seconds up to 400 days), and Remember never writes two.
func TestMaxAgeToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tokens     string
		wantTokens []string
		wantMaxAge int64
	}{
		{"", nil, 0},
		{"admin", []string{"admin"}, 0},
		{"gowho.max_age=60", nil, 60},
		{"admin,gowho.max_age=60", []string{"admin"}, 60},
		{"gowho.max_age=60,admin,dev", []string{"admin", "dev"}, 60},
		{"a,gowho.max_age=60,gowho.max_age=120", []string{"a"}, 120},
		{"gowho.max_age=0", []string{"gowho.max_age=0"}, 0},
		{"gowho.max_age=+5", []string{"gowho.max_age=+5"}, 0},
		{"gowho.max_age=05", []string{"gowho.max_age=05"}, 0},
		{"gowho.max_age=x", []string{"gowho.max_age=x"}, 0},
		{"gowho.max_age=34560001", []string{"gowho.max_age=34560001"}, 0},
		{"gowho.max_age=34560000", nil, 34560000},
		{"gowho.max_age=99999999999999999999", []string{"gowho.max_age=99999999999999999999"}, 0}, // overflows int64
		{"gowho.max_age=", []string{"gowho.max_age="}, 0},
		{"gowho.max_age=-60", []string{"gowho.max_age=-60"}, 0},
		{"x.gowho.max_age=60", []string{"x.gowho.max_age=60"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.tokens, func(t *testing.T) {
			p := mustNew(t, Options{})
			raw := "auth_tkt=" + mustCookie(Ticket{UserID: "alice", Tokens: tokenList(tc.tokens), Time: t1700}, "md5")
			for _, o := range []Options{{}, {IncludeIP: true}} {
				p := mustNew(t, o)
				id := identifiedAs(t, p, req("h", "0.0.0.0:1", raw))
				if got := id[who.KeyTokens].([]string); !slices.Equal(got, tc.wantTokens) {
					t.Errorf("include_ip=%v: tokens %q, want %q", o.IncludeIP, got, tc.wantTokens)
				}
				if got, _ := maxAgeOf(id[who.KeyMaxAge]); got != tc.wantMaxAge {
					t.Errorf("include_ip=%v: max_age %d, want %d", o.IncludeIP, got, tc.wantMaxAge)
				}
			}
			// A login that passes the token among its tokens gets only
			// its own lifetime.
			h := p.Remember(req("h", ""), who.Identity{who.KeyUserID: "alice", who.KeyTokens: tokenList(tc.tokens), who.KeyMaxAge: 30})
			v := strings.Trim(strings.TrimPrefix(strings.SplitN(h.Get("Set-Cookie"), ";", 2)[0], "auth_tkt="), `"`)
			tk, err := p.Ticket(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := append(slices.Clone(tc.wantTokens), "gowho.max_age=30"); !slices.Equal(tk.Tokens, want) {
				t.Errorf("written tokens %q, want %q", tk.Tokens, want)
			}
		})
	}
}

// TestMaxAgeTokenReserved: an application cannot make a session login
// persistent by putting the lifetime token among its own tokens: Remember
// drops it, and the cookie stays a browser-session one (the lifetime is
// who.KeyMaxAge's only, as docs/plugins/authtkt.md says).
func TestMaxAgeTokenReserved(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	h := p.Remember(req("h", ""), who.Identity{who.KeyUserID: "alice", who.KeyTokens: []string{"admin", MaxAgeToken + "60"}})
	line := h.Get("Set-Cookie")
	if strings.Contains(line, "Max-Age") || strings.Contains(line, "Expires") {
		t.Fatalf("a session login with the token among its tokens became persistent: %s", line)
	}
	back := identifiedAs(t, p, req("h", "", strings.SplitN(line, ";", 2)[0]))
	if back == nil || back[who.KeyMaxAge] != nil || !slices.Equal(back[who.KeyTokens].([]string), []string{"admin"}) {
		t.Fatalf("ticket %s read as %v, want tokens [admin] and no max_age", line, back)
	}
}
