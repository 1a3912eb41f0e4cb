package form

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/gowho/gowho/who"
)

// The CSRF defence is an HMAC of a per-browser cookie: the form carries
// HMAC(csrf_secret, cookie) in a hidden field, and a POST is accepted only
// when the field matches the cookie the browser sends. Another site can
// neither read the cookie nor compute the HMAC.

// requestKey keeps, for a request, the form plugin CSRFToken and
// CSRFField use (who.SetRequestValue).
type requestKey struct{}

// CSRFToken returns the CSRF token for an application that renders its
// own login page posting to the form plugin of r's chain: the page
// carries it in the hidden field FieldCSRF ("_csrf"), or uses CSRFField.
// The plugin is the first form plugin that saw r, so the page's handler
// must be behind the chain (its path under a classification the plugin
// runs for). When the browser has no CSRF cookie yet, CSRFToken sets one
// on w, whose headers must not have been written; a second call for the
// same response reuses it. It returns "" when no form plugin saw r (the
// handler is not behind the chain).
//
// With serve_form = false a login POST the browser marks same-origin
// needs no token (Fetch Metadata or Origin); the token makes the page
// work for browsers and clients that send neither header.
func CSRFToken(w http.ResponseWriter, r *http.Request) string {
	p, _ := who.RequestValue(r, requestKey{}).(*Plugin)
	if p == nil {
		return ""
	}
	return p.CSRFToken(w, r)
}

// CSRFField is CSRFToken as a hidden input ready for an html/template:
// `<input type="hidden" name="_csrf" value="TOKEN">`, or "" when no form
// plugin saw r.
func CSRFField(w http.ResponseWriter, r *http.Request) template.HTML {
	p, _ := who.RequestValue(r, requestKey{}).(*Plugin)
	if p == nil {
		return ""
	}
	return p.CSRFField(w, r)
}

// CSRFToken returns the token a login POST to p must carry in FieldCSRF,
// for the browser of r, setting the CSRF cookie on w when r has none (see
// the package-level CSRFToken, which finds p from the request).
func (p *Plugin) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	return p.csrfToken(w, r)
}

// CSRFField returns p's hidden CSRF input for the browser of r (see
// CSRFToken).
func (p *Plugin) CSRFField(w http.ResponseWriter, r *http.Request) template.HTML {
	return template.HTML(`<input type="hidden" name="` + FieldCSRF + `" value="` +
		template.HTMLEscapeString(p.csrfToken(w, r)) + `">`)
}

func (p *Plugin) mac(cookie string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func validNonce(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// csrfToken returns the token for the browser's CSRF cookie, setting a new
// cookie when it has none, or reusing the one already set on w for this
// response (two calls must not hand out two cookies and a token for the
// first).
func (p *Plugin) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.o.CSRFCookieName); err == nil && validNonce(c.Value) {
		return p.mac(c.Value)
	}
	for _, line := range w.Header().Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == p.o.CSRFCookieName && validNonce(c.Value) {
			return p.mac(c.Value)
		}
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	// secure = "auto" (the default) gives a Secure cookie whenever the
	// client's request is https (who.RequestOrigin: behind a trusted
	// TLS proxy too), so that a plain-HTTP answer (a network attacker)
	// cannot overwrite it; a request that came over TLS to gowho gets one
	// even with secure = false.
	http.SetCookie(w, &http.Cookie{Name: p.o.CSRFCookieName, Value: v, Path: "/", HttpOnly: true,
		Secure: p.o.Secure.For(r) || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return p.mac(v)
}

func (p *Plugin) checkCSRF(r *http.Request, token string) bool {
	c, err := r.Cookie(p.o.CSRFCookieName)
	if err != nil || !validNonce(c.Value) || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(p.mac(c.Value)), []byte(token)) == 1
}

// SecretKeys reports the identity keys of the plugin's identities that
// hold secrets beyond who.KeyPassword (always masked): none. A login's
// identity holds who.KeyLogin, who.KeyPassword and, with remember,
// who.KeyMaxAge; the CSRF token never enters an identity.
func (p *Plugin) SecretKeys() []string { return nil }

var _ who.SecretKeyer = (*Plugin)(nil)
