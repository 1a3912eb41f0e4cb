package form

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/who"
)

// Form field names.
const (
	FieldLogin    = "login"
	FieldPassword = "password"
	FieldCameFrom = "came_from"
	FieldRemember = "remember" // seconds, becomes who.KeyMaxAge
	FieldCSRF     = "_csrf"
)

// Messages shown on the form.
const (
	MsgFailed    = "Wrong login or password."
	MsgMalformed = "The login request was malformed; please try again."
	MsgCSRF      = "The form expired or was not sent by this site; please try again."
	MsgTooLarge  = "The login request was too large."
)

var errNoFormURL = errors.New("form: login_form_url is required by make_redirecting_plugin")

// Defaults of the options bounding what a login POST may hold.
const (
	// DefaultMaxBodyBytes is the default of max_body_bytes.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultMaxRemember is the default of max_remember.
	DefaultMaxRemember = 30 * 24 * time.Hour
)

// Options configures the form plugin. Each field names its who.toml key
// and default.
type Options struct {
	// RemembererName names the declared plugin (an auth_tkt one, say)
	// that remembers and forgets logins (key "rememberer_name", required
	// unless Rememberer is set).
	RemembererName string `toml:"rememberer_name"`
	// LoginFormQS is the query flag of the form-on-challenge mode: the
	// challenge shows the form, which posts to the same URL with
	// ?LoginFormQS=true (key "login_form_qs", default "__do_login").
	LoginFormQS string `toml:"login_form_qs"`
	// LoginFormURL switches to the redirecting mode: challenges redirect
	// there with came_from (key "login_form_url", default "": the
	// form-on-challenge mode).
	LoginFormURL string `toml:"login_form_url"`
	// ServeForm makes the plugin answer GET login_form_url itself with the
	// form, when login_form_url is a path (key "serve_form", default
	// true). Set false when the application has its own login page.
	ServeForm *bool `toml:"serve_form"`
	// LoginHandlerPath receives the form's POST (key "login_handler_path",
	// default "/login_handler").
	LoginHandlerPath string `toml:"login_handler_path"`
	// LogoutHandlerPath logs out and redirects (key
	// "logout_handler_path", default "/logout_handler").
	LogoutHandlerPath string `toml:"logout_handler_path"`
	// PostLoginURL is where a successful login goes when came_from is
	// absent or unsafe (key "post_login_url", default "/").
	PostLoginURL string `toml:"post_login_url"`
	// PostLogoutURL is where a logout goes when came_from is absent or
	// unsafe (key "post_logout_url", default "/").
	PostLogoutURL string `toml:"post_logout_url"`
	// LoginCounterName is the form and query field counting failed
	// attempts, shown to the template as .Logins (key
	// "login_counter_name", default "__logins").
	LoginCounterName string `toml:"login_counter_name"`
	// AllowedHosts are hosts, besides the request's own, that came_from
	// may point to (key "allowed_hosts", default none).
	AllowedHosts []string `toml:"allowed_hosts"`
	// Form is an html/template file replacing the built-in page (key
	// "form", relative to who.toml). It receives a Page.
	Form string `toml:"form"`
	// CSRFCookieName names the per-browser CSRF cookie (key
	// "csrf_cookie_name", default "who_csrf").
	CSRFCookieName string `toml:"csrf_cookie_name"`
	// CSRFSecret keys the CSRF token HMAC (key "csrf_secret", default: a
	// random key per process, so forms shown before a restart must be
	// submitted again).
	CSRFSecret string `toml:"csrf_secret"`
	// Secure decides the CSRF cookie's Secure attribute (key "secure",
	// default "auto": Secure whenever the request is https as the client
	// saw it, who.RequestOrigin, so behind a proxy listed in [general]
	// trusted_proxies too; true forces it). A request that came over TLS
	// to gowho itself gets a Secure one even with false.
	Secure who.Secure `toml:"secure"`
	// HTMLOnly makes the plugin challenge only requests whose Accept
	// header lists text/html (browsers), leaving the others (API clients,
	// curl) to the next challenger, such as basicauth (key "html_only",
	// default false).
	HTMLOnly bool `toml:"html_only"`
	// MaxBodyBytes bounds the login and logout POST bodies the plugin
	// reads; a longer one is answered 413 with the form (key
	// "max_body_bytes", default 65536).
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// MaxPasswordBytes bounds the password of a login POST: a longer one
	// is "Wrong login or password." without being passed to any
	// authenticator (key "max_password_bytes", default
	// who.DefaultMaxPasswordBytes, 1024).
	MaxPasswordBytes int `toml:"max_password_bytes"`
	// MaxRemember caps the form's remember field, the Max-Age the
	// browser asks for (key "max_remember", default "720h", 30 days).
	MaxRemember who.Duration `toml:"max_remember"`

	// Rememberer is used instead of RemembererName (Go only).
	Rememberer who.Rememberer `toml:"-"`
	// Logger receives the one error a misconfigured chain causes (the
	// plugin not among its identifiers); nil: slog.Default() (Go only;
	// the loader passes the plugin's own logger).
	Logger *slog.Logger `toml:"-"`
}

// Page is what the form template receives.
type Page struct {
	Action      string // where the form posts
	CameFrom    string // hidden came_from value
	Login       string // the login typed before a failure
	Message     string // why the form is shown again; "" the first time
	CSRFField   string // the hidden CSRF field's name
	CSRFToken   string // its value
	CounterName string // the login counter field's name
	Logins      int    // failed attempts so far
}

// Plugin is the login form: an identifier (it reads the login POST),
// a challenger (it shows or redirects to the form) and a rememberer that
// delegates to rememberer_name.
type Plugin struct {
	o         Options
	rem       who.Rememberer
	tmpl      *template.Template
	key       []byte
	formPath  string // login_form_url's path when served here
	redirects bool
	cop       *http.CrossOriginProtection
}

var (
	_ who.Identifier = (*Plugin)(nil)
	_ who.Rememberer = (*Plugin)(nil)
	_ who.Challenger = (*Plugin)(nil)
	_ who.Resolver   = (*Plugin)(nil)
	_ who.Validator  = (*Plugin)(nil)
)

// New checks o and returns the plugin. With RemembererName, the
// rememberer is found when the configuration loader calls Resolve.
func New(o Options) (*Plugin, error) {
	// The key leads the message; the loader adds the file, line and
	// plugin, so no "form:" prefix (it doubled as "form: form: ...").
	optErr := func(key string, err error) error {
		return &who.OptionError{Key: key, Err: err}
	}
	if o.RemembererName == "" && o.Rememberer == nil {
		return nil, optErr("rememberer_name", errors.New("is required: name the plugin that sets the login cookie (an auth_tkt one)"))
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.LoginFormQS, "__do_login")
	def(&o.LoginHandlerPath, "/login_handler")
	def(&o.LogoutHandlerPath, "/logout_handler")
	def(&o.PostLoginURL, "/")
	def(&o.PostLogoutURL, "/")
	def(&o.LoginCounterName, "__logins")
	def(&o.CSRFCookieName, "who_csrf")
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for key, v := range map[string]string{"login_handler_path": o.LoginHandlerPath, "logout_handler_path": o.LogoutHandlerPath} {
		if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || !origin.PlainBytes(v) {
			return nil, optErr(key, fmt.Errorf("%q must be a path starting with one /, without spaces, controls or backslashes", v))
		}
	}
	if o.MaxBodyBytes < 0 {
		return nil, optErr("max_body_bytes", fmt.Errorf("%d is negative; give a size in bytes (0: the default, %d)", o.MaxBodyBytes, DefaultMaxBodyBytes))
	}
	if o.MaxPasswordBytes < 0 {
		return nil, optErr("max_password_bytes", fmt.Errorf("%d is negative; give a length in bytes (0: the default, %d)", o.MaxPasswordBytes, who.DefaultMaxPasswordBytes))
	}
	if o.MaxRemember < 0 {
		return nil, optErr("max_remember", fmt.Errorf("%s is negative; give a duration such as \"720h\" (0: the default)", o.MaxRemember))
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxPasswordBytes == 0 {
		o.MaxPasswordBytes = who.DefaultMaxPasswordBytes
	}
	if o.MaxRemember == 0 {
		o.MaxRemember = who.Duration(DefaultMaxRemember)
	}
	if o.MaxRemember.D() < time.Second {
		return nil, optErr("max_remember", fmt.Errorf("%s is under a second; give a duration such as \"720h\"", o.MaxRemember))
	}
	p := &Plugin{o: o, rem: o.Rememberer, redirects: o.LoginFormURL != "", cop: http.NewCrossOriginProtection()}
	if p.redirects {
		u, err := origin.ParseLoginURL(o.LoginFormURL)
		if err != nil {
			return nil, optErr("login_form_url", fmt.Errorf("%q %w", o.LoginFormURL, err))
		}
		if u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && (o.ServeForm == nil || *o.ServeForm) {
			p.formPath = u.Path
		}
	}
	src := builtinForm
	if o.Form != "" {
		b, err := os.ReadFile(o.Form)
		if err != nil {
			return nil, optErr("form", err)
		}
		src = string(b)
	}
	t, err := template.New("form").Parse(src)
	if err != nil {
		return nil, optErr("form", err)
	}
	p.tmpl = t
	if o.CSRFSecret != "" {
		p.key = []byte(o.CSRFSecret)
	} else {
		p.key = make([]byte, 32)
		rand.Read(p.key)
	}
	return p, nil
}

// References names the rememberer.
func (p *Plugin) References() []who.Reference {
	if p.o.RemembererName == "" {
		return nil
	}
	return []who.Reference{{Key: "rememberer_name", Name: p.o.RemembererName}}
}

// Resolve finds the rememberer among the declared plugins.
func (p *Plugin) Resolve(plugins map[string]any) error {
	refs := p.References()
	if len(refs) == 0 {
		return nil
	}
	rem, err := who.Lookup[who.Rememberer](plugins, refs[0])
	if err != nil {
		return err
	}
	p.rem = rem
	return nil
}

// Validate checks the rememberer was resolved.
func (p *Plugin) Validate() error {
	if p.rem == nil {
		return &who.OptionError{Key: "rememberer_name", Err: fmt.Errorf("form: rememberer %q was not resolved", p.o.RemembererName)}
	}
	return nil
}

// Remember delegates to the rememberer.
func (p *Plugin) Remember(r *http.Request, id who.Identity) http.Header {
	if p.rem == nil {
		return nil
	}
	return p.rem.Remember(r, id)
}

// Forget delegates to the rememberer.
func (p *Plugin) Forget(r *http.Request, id who.Identity) http.Header {
	if p.rem == nil {
		return nil
	}
	return p.rem.Forget(r, id)
}

// Identify answers a login POST (login_handler_path, or any URL with the
// login_form_qs flag in the form-on-challenge mode) itself with
// who.ReplaceHandler: the replacement authenticates the posted
// credentials with who.API.LoginAs, as found by this plugin,
// whoever the request's other identifiers (a ticket) name, and answers a
// redirect with the rememberer's headers after a successful login, the
// form again with a message otherwise. So Identify returns no identity
// for a login POST: the credentials are checked once, by Login, and a
// ticket of another user (or of the same one) cannot outrank them. It
// also answers the logout path and, in the redirecting mode, GET
// login_form_url; and it makes the plugin the one CSRFToken and CSRFField
// find for the request.
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	if who.RequestValue(r, requestKey{}) == nil {
		who.SetRequestValue(r, requestKey{}, p)
	}
	path := r.URL.Path
	switch {
	case p.redirects && path == p.o.LoginHandlerPath:
		return p.login(r, p.o.LoginHandlerPath)
	case p.redirects && path == p.o.LogoutHandlerPath:
		who.ReplaceHandler(r, http.HandlerFunc(p.logout))
		return nil, nil
	case p.redirects && p.formPath != "" && path == p.formPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		q := r.URL.Query()
		n, _ := strconv.Atoi(q.Get(p.o.LoginCounterName))
		cameFrom := q.Get(FieldCameFrom)
		if cameFrom == "" {
			cameFrom = q.Get("back") // Apache mod_auth_tkt's TKTAuthLoginURL parameter
		}
		who.ReplaceHandler(r, p.formHandler(p.o.LoginHandlerPath, cameFrom, "", "", max(n, 0), http.StatusOK, nil))
		return nil, nil
	case !p.redirects && r.URL.Query().Get(p.o.LoginFormQS) != "":
		return p.login(r, selfAction(r.URL, p.o.LoginFormQS))
	}
	return nil, nil
}

// login handles the login POST posted to action. A POST from another
// origin (http.CrossOriginProtection) is refused before its body is read;
// then the CSRF token must match, except when the plugin does not serve
// the form (serve_form = false, or login_form_url not a path) and the
// browser says the POST is same-origin.
func (p *Plugin) login(r *http.Request, action string) (who.Identity, error) {
	if r.Method != http.MethodPost {
		// Credentials never come from a query string: show the form.
		who.ReplaceHandler(r, p.formHandler(action, r.URL.Query().Get(FieldCameFrom), "", "", 0, http.StatusOK, nil))
		return nil, nil
	}
	if err := p.cop.Check(r); err != nil {
		who.ReplaceHandler(r, p.formHandler(action, "", "", MsgCSRF, 0, http.StatusForbidden, nil))
		return nil, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, p.o.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		status, msg := http.StatusBadRequest, MsgMalformed
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			status, msg = http.StatusRequestEntityTooLarge, MsgTooLarge
		}
		who.ReplaceHandler(r, p.formHandler(action, "", "", msg, 0, status, nil))
		return nil, nil
	}
	f := r.PostForm
	cameFrom := f.Get(FieldCameFrom)
	n, _ := strconv.Atoi(f.Get(p.o.LoginCounterName))
	n = max(n, 0)
	login, password := f.Get(FieldLogin), f.Get(FieldPassword)
	if !p.checkCSRF(r, f.Get(FieldCSRF)) && (p.servesForm() || !origin.SameOrigin(r)) {
		who.ReplaceHandler(r, p.formHandler(action, cameFrom, login, MsgCSRF, n, http.StatusForbidden, nil))
		return nil, nil
	}
	if login == "" || password == "" || len(password) > p.o.MaxPasswordBytes {
		// An overlong password is "no" without reaching an authenticator.
		who.ReplaceHandler(r, p.formHandler(action, cameFrom, login, MsgFailed, n+1, http.StatusOK, nil))
		return nil, nil
	}
	id := who.Identity{who.KeyLogin: login, who.KeyPassword: password}
	if s := f.Get(FieldRemember); s != "" {
		if secs, err := strconv.ParseInt(s, 10, 64); err == nil && secs > 0 {
			id[who.KeyMaxAge] = min(secs, int64(p.o.MaxRemember.D()/time.Second))
		}
	}
	who.ReplaceHandler(r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The posted credentials are authenticated whoever the request's
		// ticket names (it ranks first, auth_tkt authenticating first),
		// and a success is remembered through this plugin: a fresh ticket.
		res, headers := who.APIFrom(r).LoginAs(p, id)
		if headers == nil {
			// LoginAs's answer when the chain does not list this plugin
			// among its identifiers (it then never runs Identify: a
			// plugin copy, or a chain built around another value).
			p.o.Logger.Error("form: the chain does not list this form plugin among its identifiers, so no login can succeed; list the same *form.Plugin under who.Config.Identifiers")
			http.Error(w, "The login is misconfigured on the server.", http.StatusInternalServerError)
			return
		}
		if res == nil {
			// A failed login forgets nothing: whoever was logged in stays.
			p.formHandler(action, cameFrom, login, MsgFailed, n+1, http.StatusOK, nil).ServeHTTP(w, r)
			return
		}
		var dest string
		if p.redirects {
			dest = origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, p.o.PostLoginURL)
		} else {
			u := *r.URL
			q := u.Query()
			q.Del(p.o.LoginFormQS)
			u.RawQuery = q.Encode()
			dest = origin.SafeRedirect(r, u.RequestURI(), nil, p.o.PostLoginURL)
		}
		redirect(w, dest, headers)
	}))
	return nil, nil
}

// servesForm reports whether the plugin renders the login form itself
// (and so can give it a CSRF token): always in the form-on-challenge
// mode, and at login_form_url when that is a path and serve_form is on.
func (p *Plugin) servesForm() bool { return !p.redirects || p.formPath != "" }

// logout forgets the login and redirects to a safe came_from or
// post_logout_url. A GET or HEAD from another site (Fetch Metadata,
// Origin, Referer) does not log out: it gets a page with one button that
// posts here. Any other method is refused (403, with the same page) when
// it comes from another origin (http.CrossOriginProtection).
func (p *Plugin) logout(w http.ResponseWriter, r *http.Request) {
	cameFrom := r.URL.Query().Get(FieldCameFrom)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if origin.CrossSite(r) {
			p.logoutPage(w, r, cameFrom, http.StatusOK)
			return
		}
	default:
		if err := p.cop.Check(r); err != nil {
			p.logoutPage(w, r, cameFrom, http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(nil, r.Body, p.o.MaxBodyBytes)
			if err := r.ParseForm(); err == nil && r.PostForm.Get(FieldCameFrom) != "" {
				cameFrom = r.PostForm.Get(FieldCameFrom)
			}
		}
	}
	headers := http.Header{}
	seen := map[string]bool{}
	add := func(h http.Header) {
		for k, vs := range h {
			for _, v := range vs {
				if !seen[k+"\x00"+v] {
					seen[k+"\x00"+v] = true
					headers.Add(k, v)
				}
			}
		}
	}
	if p.rem != nil {
		add(p.rem.Forget(r, nil))
	}
	// Make the request anonymous, so nothing is remembered on the way out.
	add(who.APIFrom(r).Logout(p.o.RemembererName))
	redirect(w, origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, p.o.PostLogoutURL), headers)
}

// logoutPage answers a cross-site logout with a button that posts to
// logout_handler_path from this site, keeping a safe came_from.
func (p *Plugin) logoutPage(w http.ResponseWriter, r *http.Request, cameFrom string, status int) {
	h := w.Header()
	pageHeaders(h)
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = logoutTmpl.Execute(w, struct{ Action, CameFrom string }{
		p.o.LogoutHandlerPath, origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, ""),
	})
}

var logoutTmpl = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Log out</title>
</head>
<body>
<form method="post" action="{{.Action}}">
{{if .CameFrom}}<input type="hidden" name="came_from" value="{{.CameFrom}}">{{end}}
<button type="submit" id="logout">Log out</button>
</form>
</body>
</html>
`))

// pageHeaders sets the headers of a page the plugin renders itself (the
// login form, the logout button): HTML, never stored, never framed.
func pageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
}

func redirect(w http.ResponseWriter, dest string, extra http.Header) {
	h := w.Header()
	for k, vs := range extra {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Location", dest)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// Challenge redirects to login_form_url (redirecting mode) or shows the
// form (form-on-challenge mode), with the forget headers and the
// application's Set-Cookie headers. A handler response carrying its own
// Location is passed on as a 302.
func (p *Plugin) Challenge(r *http.Request, _ int, appHeaders, forgetHeaders http.Header) http.Handler {
	if p.o.HTMLOnly && !acceptsHTML(r) {
		return nil
	}
	extra := forgetHeaders.Clone()
	if extra == nil {
		extra = http.Header{}
	}
	for _, v := range appHeaders.Values("Set-Cookie") {
		extra.Add("Set-Cookie", v)
	}
	if loc := appHeaders.Get("Location"); loc != "" {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { redirect(w, loc, extra) })
	}
	if p.redirects {
		u, _ := url.Parse(p.o.LoginFormURL)
		q := u.Query()
		q.Set(FieldCameFrom, r.URL.RequestURI())
		u.RawQuery = q.Encode()
		dest := u.String()
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { redirect(w, dest, extra) })
	}
	return p.formHandler(selfAction(r.URL, p.o.LoginFormQS), "", "", "", 0, http.StatusOK, extra)
}

// acceptsHTML reports whether the request's Accept header lists text/html
// (or application/xhtml+xml) with a non-zero quality, as browsers'
// navigation requests do.
func acceptsHTML(r *http.Request) bool {
	for _, line := range r.Header.Values("Accept") {
		for _, part := range strings.Split(line, ",") {
			mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if mt != "text/html" && mt != "application/xhtml+xml" {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// formHandler renders the form page.
func (p *Plugin) formHandler(action, cameFrom, login, msg string, logins, status int, extra http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, vs := range extra {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		token := p.csrfToken(w, r)
		pageHeaders(h)
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return
		}
		_ = p.tmpl.Execute(w, Page{
			Action: action, CameFrom: cameFrom, Login: login, Message: msg,
			CSRFField: FieldCSRF, CSRFToken: token, CounterName: p.o.LoginCounterName, Logins: logins,
		})
	})
}

const builtinForm = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Log in</title>
<style>body{font-family:sans-serif;max-width:22em;margin:4em auto}label{display:block;margin:.6em 0}input[type=text],input[type=password]{width:100%}.msg{color:#a00}</style>
</head>
<body>
<h1>Log in</h1>
{{if .Message}}<p class="msg" id="message" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="{{.CSRFField}}" value="{{.CSRFToken}}">
<input type="hidden" name="came_from" value="{{.CameFrom}}">
<input type="hidden" name="{{.CounterName}}" value="{{.Logins}}">
<label>Login <input type="text" name="login" id="login" value="{{.Login}}" autocomplete="username" autofocus required></label>
<label>Password <input type="password" name="password" id="password" autocomplete="current-password" required></label>
<button type="submit" id="submit">Log in</button>
</form>
</body>
</html>
`
