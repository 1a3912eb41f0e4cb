package oidc

import (
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/plugins/sessionid"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

const tktSecret = "oidc-test-secret-0123456789abcdef"

// clock is a test clock: the real time plus an offset the test moves.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// site is an application behind a chain with one or more oidc plugins,
// on a loopback httptest server.
type site struct {
	srv     *httptest.Server
	plugins []*Plugin
	store   *memstore.Store
	clock   *clock
	logs    *whotest.LogBuffer
}

// siteOptions choose how the site remembers the login.
type siteOptions struct {
	session bool // sessionid over a memstore session (else auth_tkt)
	// tokens: with auth_tkt, a memstore session for the plugins' record
	// (session_name) all the same.
	tokens bool
	// persist is sessionid's alsopersist (nil: email, name and groups).
	persist *[]string
	// md lists the oidc plugins under [mdproviders].
	md bool
}

// app answers /protected... (401 when anonymous) with the user and the
// identity's claims; /api with the token TokenSource gives; others public.
func app(ps []*Plugin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := who.UserID(r.Context())
		switch {
		case strings.HasPrefix(r.URL.Path, "/protected") && u == "":
			w.WriteHeader(http.StatusUnauthorized)
			return
		case r.URL.Path == "/api":
			ts, err := ps[0].TokenSource(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			t, err := ts.Token()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			fmt.Fprintf(w, "token=%s", t.AccessToken)
			return
		}
		var keys []string
		if res := who.ResultFrom(r.Context()); res != nil {
			for k, v := range res.Identity {
				if k == "email" || k == "name" || k == "groups" {
					keys = append(keys, fmt.Sprintf("%s=%v", k, v))
				}
			}
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "page %s user=%s %s", r.URL.RequestURI(), u, strings.Join(keys, " "))
	})
}

// newSite builds the site around plugins made from opts (one per
// provider), filling in the provider's issuer and client.
func newSite(t *testing.T, so siteOptions, opts ...Options) *site {
	t.Helper()
	s := &site{clock: &clock{}}
	logger, logs := whotest.Logger(t)
	s.logs = logs
	var rem who.Rememberer
	var ident, auth []who.Entry
	var sm *session.Manager
	if so.session || so.tokens {
		s.store = memstore.New(memstore.Options{})
		var err error
		sm, err = session.New(session.Options{Store: s.store, Logger: logger, Now: s.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
	}
	if so.session {
		persist := &[]string{"email", "name", "groups"}
		if so.persist != nil {
			persist = so.persist
		}
		sid, err := sessionid.New(sessionid.Options{Manager: sm, AlsoPersist: persist, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		rem = sid
		ident = append(ident, who.Entry{Name: "sessionid", Plugin: sid})
		auth = append(auth, who.Entry{Name: "sessionid", Plugin: sid})
	} else {
		tkt, err := authtkt.New(authtkt.Options{Secret: tktSecret})
		if err != nil {
			t.Fatal(err)
		}
		rem = tkt
		ident = append(ident, who.Entry{Name: "auth_tkt", Plugin: tkt})
		auth = append(auth, who.Entry{Name: "auth_tkt", Plugin: tkt})
	}
	var chall, md []who.Entry
	all := map[string]any{}
	for i, o := range opts {
		o.Rememberer = rem
		if sm != nil {
			o.SessionManager = sm
		}
		if o.Logger == nil {
			o.Logger = logger
		}
		if o.Now == nil {
			o.Now = s.clock.Now
		}
		if o.Name == "" {
			o.Name = fmt.Sprintf("oidc%d", i)
		}
		p, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		s.plugins = append(s.plugins, p)
		all[o.Name] = p
		e := who.Entry{Name: o.Name, Plugin: p}
		ident = append([]who.Entry{e}, ident...)
		auth = append(auth, e)
		chall = append(chall, e)
		if so.md {
			md = append(md, e)
		}
	}
	for _, p := range s.plugins {
		if err := p.Resolve(all); err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	m, err := who.New(who.Config{Identifiers: ident, Authenticators: auth, Challengers: chall, MetadataProviders: md, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = m.Wrap(app(s.plugins))
	if sm != nil {
		h = sm.Wrap(h)
	}
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// opts returns the plugin options for fp.
func (fp *fakeProvider) opts() Options {
	return Options{Issuer: fp.url, ClientID: fakeClientID, ClientSecret: fakeClientSecret}
}

// browser is a cookie-keeping client that does not follow redirects by
// itself (step does one hop; follow all of them).
type browser struct {
	t   *testing.T
	c   *http.Client
	jar *cookiejar.Jar
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, jar: jar, c: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	status int
	loc    string
	body   string
	header http.Header
}

func (b *browser) do(method, u string, form url.Values, hdr ...string) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	bs, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc != "" {
		lu, err := req.URL.Parse(loc)
		if err == nil {
			loc = lu.String()
		}
	}
	return page{status: resp.StatusCode, loc: loc, body: string(bs), header: resp.Header}
}

func (b *browser) get(u string) page { b.t.Helper(); return b.do("GET", u, nil) }

// follow GETs u and follows redirects (at most 10), returning the last page.
func (b *browser) follow(u string) page {
	b.t.Helper()
	for range 10 {
		p := b.get(u)
		if p.status/100 != 3 {
			return p
		}
		u = p.loc
	}
	b.t.Fatalf("more than 10 redirects, last to %s", u)
	return page{}
}

// login logs the browser in at s (from /protected/start) and checks it
// landed back there.
func (b *browser) login(s *site) {
	b.t.Helper()
	p := b.follow(s.srv.URL + "/protected/start")
	if p.status != 200 || !strings.Contains(p.body, "user=alice") {
		b.t.Fatalf("login: %d %q\nlogs:\n%s", p.status, p.body, "see log")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustQuery(t *testing.T, s string) url.Values { t.Helper(); return mustURL(t, s).Query() }

// setParam sets (or, with "", removes) the query parameter k of s.
func setParam(t *testing.T, s, k, v string) string {
	t.Helper()
	u := mustURL(t, s)
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// flip changes one character in the middle of s, keeping it base64url.
func flip(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func htmlEscape(s string) string { return template.HTMLEscapeString(s) }

// nopRem remembers nothing.
type nopRem struct{}

func (nopRem) Remember(*http.Request, who.Identity) http.Header { return nil }
func (nopRem) Forget(*http.Request, who.Identity) http.Header   { return nil }

// withRem gives o a rememberer that does nothing.
func withRem(o Options) Options {
	o.Rememberer = nopRem{}
	o.Logger = slog.New(slog.DiscardHandler)
	return o
}

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}
