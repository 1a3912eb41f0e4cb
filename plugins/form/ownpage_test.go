package form

import (
	"bytes"
	"html"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
)

// templateMarker precedes the copy-paste login template in
// docs/plugins/form.md.
const templateMarker = "<!-- form:login-template -->\n```html\n"

// docTemplate returns the exact login template text of
// docs/plugins/form.md.
func docTemplate(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/plugins/form.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), templateMarker)
	if !ok {
		t.Fatalf("docs/plugins/form.md has no %q: the login template's marker", templateMarker)
	}
	tmpl, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatal("docs/plugins/form.md: the login template's ```html block does not end")
	}
	return tmpl + "\n"
}

// ownPageData is what the documented template receives.
type ownPageData struct {
	CSRF     template.HTML
	CameFrom string
}

// tokenlessPage is an application's own login page without a CSRF
// token: what a page gowho does not render (a static file, another
// framework) posts.
const tokenlessPage = `<!doctype html><title>Log in</title>
<form method="post" action="/login_handler">
<input type="hidden" name="came_from" value="{{.CameFrom}}">
<input name="login" id="login"> <input type="password" name="password" id="password">
<button type="submit" id="submit">Log in</button>
</form>`

// ownPageChain is the application of docs/plugins/form.md: serve_form =
// false, GET /login rendered by the application with page (the
// documented template, or tokenlessPage), testApp for the rest.
func ownPageChain(t testing.TB, page string) http.Handler {
	t.Helper()
	tmpl := template.Must(template.New("login").Parse(page))
	off := false
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		data := ownPageData{CSRF: CSRFField(w, r), CameFrom: r.URL.Query().Get("came_from")}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := tmpl.Execute(w, data); err != nil {
			t.Errorf("the login template: %v", err)
		}
	})
	mux.Handle("/", testApp)
	return chainWith(t, Options{LoginFormURL: "/login", ServeForm: &off}, nil, mux)
}

var (
	inputRE = regexp.MustCompile(`<input [^>]*>`)
	attrRE  = regexp.MustCompile(`(name|value)="([^"]*)"`)
	formRE  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// formFields reads a rendered page's form: its action and its named
// inputs' values.
func formFields(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no POST form in %s", page)
	}
	v := url.Values{}
	for _, in := range inputRE.FindAllString(page, -1) {
		var name, value string
		for _, a := range attrRE.FindAllStringSubmatch(in, -1) {
			if a[1] == "name" {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			v.Set(name, value)
		}
	}
	return html.UnescapeString(m[1]), v
}

// TestDocTemplate renders the exact login template of
// docs/plugins/form.md with CSRFField in an application's own /login
// (serve_form = false) and posts it as a client without Fetch Metadata
// or Origin (curl, an old browser), which only the token lets in: the
// challenge leads to the page, the page's POST logs alice in with the
// remember-me lifetime and goes back to came_from. The same POST without
// the token is refused (403).
func TestDocTemplate(t *testing.T) {
	t.Parallel()
	c := newClient(t, ownPageChain(t, docTemplate(t)))
	resp, _ := c.do("GET", "/protected?x=1", nil)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/login?came_from=%2Fprotected%3Fx%3D1" {
		t.Fatalf("challenge: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := c.do("GET", resp.Header.Get("Location"), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `<input type="hidden" name="_csrf" value="`) {
		t.Fatalf("the application's page: %d %s", resp.StatusCode, page)
	}
	action, f := formFields(t, page)
	if action != "/login_handler" || f.Get("came_from") != "/protected?x=1" || f.Get(FieldCSRF) == "" {
		t.Fatalf("the page posts %v to %q", f, action)
	}
	f.Set("login", "alice")
	f.Set("password", "wonderland")

	tokenless := url.Values{}
	for k, v := range f {
		if k != FieldCSRF {
			tokenless[k] = v
		}
	}
	if resp, _ := c.do("POST", action, tokenless); resp.StatusCode != 403 || ticketCookie(resp) != "" {
		t.Fatalf("without the token: %d, Set-Cookie %q; want 403 and no ticket", resp.StatusCode, resp.Header["Set-Cookie"])
	}

	resp, _ = c.do("POST", action, f)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/protected?x=1" || ticketCookie(resp) == "" {
		t.Fatalf("login: %d %q, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header["Set-Cookie"])
	}
	if !strings.Contains(strings.Join(resp.Header["Set-Cookie"], "\n"), "Max-Age=2592000") {
		t.Errorf("remember me: Set-Cookie %q, want Max-Age=2592000", resp.Header["Set-Cookie"])
	}
	if resp, page := c.do("GET", "/protected?x=1", nil); resp.StatusCode != 200 || page != "page /protected user=alice" {
		t.Fatalf("after the login: %d %q", resp.StatusCode, page)
	}
}

// TestCSRFExports: CSRFToken and CSRFField behind the chain give the
// token of the browser's CSRF cookie, setting one cookie when it has none
// (a second call in the same response reuses it, so the token matches the
// cookie the browser keeps), and nothing when no form plugin saw the
// request. The field is the token in the hidden FieldCSRF input, and
// Plugin's methods agree with the package's functions.
func TestCSRFExports(t *testing.T) {
	t.Parallel()
	tkt, err := authtkt.New(authtkt.Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{LoginFormURL: "/login", Rememberer: tkt, CSRFSecret: "k"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "form", Plugin: p}},
		Authenticators: []who.Entry{{Name: "passwords", Plugin: passwords{}}},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		tokens    []string
		field     template.HTML
		setCookie []string
	}
	run := func(h http.Handler, cookie *http.Cookie) answer {
		var a answer
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.tokens = []string{CSRFToken(w, r), CSRFToken(w, r), p.CSRFToken(w, r)}
			a.field = CSRFField(w, r)
			if f := p.CSRFField(w, r); h == nil && f != a.field {
				t.Errorf("Plugin.CSRFField %q, CSRFField %q", f, a.field)
			}
		})
		var serve http.Handler = app // not behind the chain
		if h == nil {
			serve = m.Wrap(app)
		}
		req := httptest.NewRequest("GET", "/page", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		serve.ServeHTTP(rec, req)
		a.setCookie = rec.Header()["Set-Cookie"]
		return a
	}

	fresh := run(nil, nil)
	if len(fresh.setCookie) != 1 || !strings.HasPrefix(fresh.setCookie[0], "who_csrf=") {
		t.Fatalf("without a cookie: Set-Cookie %q, want one who_csrf cookie", fresh.setCookie)
	}
	c, err := http.ParseSetCookie(fresh.setCookie[0])
	if err != nil {
		t.Fatal(err)
	}
	want := p.mac(c.Value)
	for i, tok := range fresh.tokens {
		if tok != want {
			t.Errorf("call %d: token %q, want the set cookie's %q", i, tok, want)
		}
	}
	if wantField := template.HTML(`<input type="hidden" name="_csrf" value="` + want + `">`); fresh.field != wantField {
		t.Errorf("field %q, want %q", fresh.field, wantField)
	}

	again := run(nil, &http.Cookie{Name: c.Name, Value: c.Value})
	if len(again.setCookie) != 0 || again.tokens[0] != want {
		t.Errorf("with the cookie: token %q, Set-Cookie %q; want %q and no new cookie", again.tokens[0], again.setCookie, want)
	}

	outside := run(http.NotFoundHandler(), nil) // not behind the chain
	if outside.tokens[0] != "" || outside.field != "" {
		t.Errorf("outside the chain: token %q, field %q; want none", outside.tokens[0], outside.field)
	}
}

// TestSecretKeys: the form's identities hold no secret beyond the
// password: SecretKeys declares none, and the credentials a login passes
// to the authenticators hold only login, password and max_age.
func TestSecretKeys(t *testing.T) {
	t.Parallel()
	p, err := New(Options{Rememberer: recordingRememberer{}})
	if err != nil {
		t.Fatal(err)
	}
	if k := p.SecretKeys(); len(k) != 0 {
		t.Errorf("SecretKeys() = %q, want none", k)
	}
	if k := who.SecretKeysOf(p); len(k) != 1 || k[0] != who.KeyPassword {
		t.Errorf("SecretKeysOf = %q, want [password]", k)
	}
	var mu sync.Mutex
	var keys []string
	auth := authFunc(func(_ *http.Request, id who.Identity) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		for k := range id {
			keys = append(keys, k)
		}
		return "", nil
	})
	c := newClient(t, chainWith(t, Options{LoginFormURL: "/login"}, auth, testApp))
	_, page := c.do("GET", "/login", nil)
	c.do("POST", "/login_handler", url.Values{"login": {"alice"}, "password": {"pw"}, "remember": {"60"}, FieldCSRF: {token(t, page)}})
	mu.Lock()
	defer mu.Unlock()
	if len(keys) == 0 {
		t.Fatal("the login reached no authenticator")
	}
	for _, k := range keys {
		switch k {
		case who.KeyLogin, who.KeyPassword, who.KeyMaxAge:
		default:
			t.Errorf("a login identity holds %q, not declared by SecretKeys nor known to be public", k)
		}
	}
}

// authFunc is an Authenticator of a function.
type authFunc func(*http.Request, who.Identity) (string, error)

func (f authFunc) Authenticate(r *http.Request, id who.Identity) (string, error) { return f(r, id) }

// ticketID is a stand-in for a ticket identifier: a request with the
// cookie "tkt=USER" is USER, authenticated by ticketAuth (listed first,
// so it outranks the form, as auth_tkt does).
type ticketID struct{}

func (ticketID) Identify(r *http.Request) (who.Identity, error) {
	if c, err := r.Cookie("tkt"); err == nil {
		return who.Identity{"tkt": c.Value}, nil
	}
	return nil, nil
}

var ticketAuth = authFunc(func(_ *http.Request, id who.Identity) (string, error) {
	return id.Str("tkt"), nil
})

// TestLoginRemembersPosted: with another identifier's identity outranking
// the form's (a ticket for alice), a login POST authenticates the posted
// credentials and remembers them through the form's rememberer: bob's
// login is remembered as bob, alice's as alice, a wrong password is not
// remembered and alice stays. Without the fix nothing was remembered and
// the form answered "Wrong login or password.".
func TestLoginRemembersPosted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, login, password string
		status                int
		remembered            string // "": nothing
	}{
		{"as bob", "bob", "builder", 302, "bob"},
		{"as alice again", "alice", "wonderland", 302, "alice"},
		{"wrong password", "bob", "nope", 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rem := recordingRememberer{got: make(chan who.Identity, 4)}
			off := false
			f, err := New(Options{LoginFormURL: "/login", ServeForm: &off, Rememberer: rem})
			if err != nil {
				t.Fatal(err)
			}
			m, err := who.New(who.Config{
				Identifiers:    []who.Entry{{Name: "form", Plugin: f}, {Name: "tkt", Plugin: ticketID{}}},
				Authenticators: []who.Entry{{Name: "tkt", Plugin: ticketAuth}, {Name: "passwords", Plugin: passwords{"alice": "wonderland", "bob": "builder"}}},
				Logger:         slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			var user string
			h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { user = who.UserID(r.Context()) }))
			post := func(path string) *httptest.ResponseRecorder {
				req := httptest.NewRequest("POST", path, strings.NewReader(url.Values{"login": {tt.login}, "password": {tt.password}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.AddCookie(&http.Cookie{Name: "tkt", Value: "alice"})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			rec := post("/login_handler")
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			select {
			case id := <-rem.got:
				if id.Str(who.KeyUserID) != tt.remembered || id.Str(who.KeyLogin) != tt.login {
					t.Errorf("remembered %q (login %q), want %q", id.Str(who.KeyUserID), id.Str(who.KeyLogin), tt.remembered)
				}
				if got := rec.Header().Values("Set-Cookie"); len(got) != 1 || got[0] != "rem="+tt.remembered {
					t.Errorf("Set-Cookie %q, want the rememberer's one", got)
				}
			default:
				if tt.remembered != "" {
					t.Errorf("nothing remembered, want %q", tt.remembered)
				}
			}
			if tt.remembered == "" && strings.Contains(strings.Join(rec.Header().Values("Set-Cookie"), "\n"), "rem=") {
				t.Errorf("a failed login sent Set-Cookie %q (alice's login must stay)", rec.Header().Values("Set-Cookie"))
			}
			post("/elsewhere")
			if user != "alice" {
				t.Errorf("the ticket's user after the login: %q", user)
			}
		})
	}
}

// TestLoginUnderAnyName: a form plugin logs in under whatever name the
// chain lists it (who.API.LoginAs finds the plugin itself). A chain that
// runs its Identify through another value (a wrapper) cannot log in: the
// login is answered 500 and logged with what to fix, never "Wrong login
// or password." for good credentials.
func TestLoginUnderAnyName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		wrapped bool
		status  int
	}{
		{"listed under a name of its own", false, 302},
		{"Identify reached through a wrapper", true, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logged bytes.Buffer
			var mu sync.Mutex
			log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))
			tkt, err := authtkt.New(authtkt.Options{Secret: testSecret})
			if err != nil {
				t.Fatal(err)
			}
			off := false
			f, err := New(Options{LoginFormURL: "/login", ServeForm: &off, Rememberer: tkt, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			var listed who.Identifier = f
			if tt.wrapped {
				listed = struct{ who.Identifier }{f}
			}
			m, err := who.New(who.Config{
				Identifiers:    []who.Entry{{Name: "login-form", Plugin: listed}},
				Authenticators: []who.Entry{{Name: "passwords", Plugin: passwords{"alice": "wonderland"}}},
				Logger:         slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("POST", "/login_handler", strings.NewReader("login=alice&password=wonderland"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			rec := httptest.NewRecorder()
			m.Wrap(http.NotFoundHandler()).ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			if l := logged.String(); (tt.status == 500) != strings.Contains(l, "does not list this form plugin") {
				t.Errorf("log %q", l)
			}
			if tt.status == 500 && strings.Contains(rec.Body.String(), "wonderland") {
				t.Errorf("the answer shows the password: %s", rec.Body)
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestCSRFCookieSecure: the CSRF cookie CSRFField sets is HttpOnly and
// SameSite=Lax, and Secure when the option says so, the request came over
// TLS (before, a TLS request got a cookie a plain-HTTP answer from a
// network attacker could overwrite, unless secure was set), or, with
// secure = "auto", a trusted proxy says the client used https (before,
// only secure = true gave that).
func TestCSRFCookieSecure(t *testing.T) {
	t.Parallel()
	tkt, err := authtkt.New(authtkt.Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := who.ParseTrustedProxies([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		secure     who.Secure
		url        string
		remote     string // with X-Forwarded-Proto: https, resolved with tp
		wantSecure bool
	}{
		{"plain HTTP", who.SecureAuto, "http://site.example/login", "", false},
		{"TLS", who.SecureAuto, "https://site.example/login", "", true},
		{"plain HTTP, secure option", who.SecureAlways, "http://site.example/login", "", true},
		{"TLS, secure option", who.SecureAlways, "https://site.example/login", "", true},
		{"TLS, secure = false: still Secure", who.SecureNever, "https://site.example/login", "", true},
		{"trusted TLS proxy, auto", who.SecureAuto, "http://site.example/login", "127.0.0.1:4000", true},
		{"trusted TLS proxy, secure = false", who.SecureNever, "http://site.example/login", "127.0.0.1:4000", false},
		{"untrusted peer claiming https, auto", who.SecureAuto, "http://site.example/login", "192.0.2.9:4000", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Options{LoginFormURL: "/login", Rememberer: tkt, CSRFSecret: "k", Secure: tt.secure})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("GET", tt.url, nil)
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
				r.Header.Set("X-Forwarded-Proto", "https")
				r = r.WithContext(who.WithOrigin(r.Context(), tp.Resolve(r)))
			}
			p.CSRFField(rec, r)
			cookies := rec.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("Set-Cookie %q, want one CSRF cookie", rec.Header().Values("Set-Cookie"))
			}
			c := cookies[0]
			if c.Secure != tt.wantSecure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Fatalf("CSRF cookie %q: Secure %v (want %v), HttpOnly %v, SameSite %v, Path %q",
					rec.Header().Get("Set-Cookie"), c.Secure, tt.wantSecure, c.HttpOnly, c.SameSite, c.Path)
			}
		})
	}
}

// wrapped is an Identifier that delegates to the form plugin it holds:
// a chain built around it never lists the *Plugin itself.
type wrapped struct{ p *Plugin }

func (w wrapped) Identify(r *http.Request) (who.Identity, error) { return w.p.Identify(r) }

// TestLoginNotInChain: a chain that runs the form's Identify through
// another value (not the *Plugin) cannot log in through LoginAs: the
// login answers 500 with a fixed message and logs, once per login, what to
// change, instead of a "Wrong login or password." that would send the
// user to retype a right password.
func TestLoginNotInChain(t *testing.T) {
	t.Parallel()
	tkt, err := authtkt.New(authtkt.Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	off := false
	p, err := New(Options{LoginFormURL: "/login", ServeForm: &off, Rememberer: tkt,
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "form", Plugin: wrapped{p}}},
		Authenticators: []who.Entry{{Name: "passwords", Plugin: passwords{"alice": "wonderland"}}},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	r := httptest.NewRequest("POST", "http://site.example/login_handler", strings.NewReader("login=alice&password=wonderland"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "wonderland") {
		t.Fatalf("login through a wrapped plugin: %d %q, want 500 without the password", rec.Code, rec.Body.String())
	}
	if s := logged.String(); !strings.Contains(s, "does not list this form plugin") || strings.Contains(s, "wonderland") {
		t.Fatalf("log %q: want the misconfiguration named, without the password", s)
	}
}
