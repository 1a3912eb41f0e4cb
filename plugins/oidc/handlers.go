package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/who"
)

// FieldCameFrom is the query field of login_path and logout_path naming
// where to go afterwards.
const FieldCameFrom = "came_from"

// Messages of the pages the plugin answers with.
const (
	MsgUnavailable = "The login provider cannot be reached just now. Please try again in a moment."
	MsgNoFlow      = "This login reply does not belong to a login under way in this browser (it expired, was already used, or was started elsewhere). Please log in again."
	MsgBadReply    = "The login reply was malformed. Please log in again."
	MsgDenied      = "The login provider did not log you in."
	MsgRefused     = "The login could not be verified. Please log in again."
	MsgNotAllowed  = "The login provider vouched for you, but this site does not accept your account."
	MsgMisconfig   = "The login is misconfigured on the server."
)

// Challenge sends the browser to the provider (a new flow, came_from the
// request's URL), or, with choose, shows the chooser page; with the
// forget headers and the application's Set-Cookie headers. With html_only
// it leaves requests that do not accept HTML to the next challenger.
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
	cameFrom := origin.RequestURL(r)
	if len(p.chooseOf) > 0 {
		return chooser(cameFrom, extra, p.chooseOf)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addHeaders(w.Header(), extra)
		p.startFlow(w, r, cameFrom)
	})
}

// serveLogin starts a flow: GET login_path?came_from=URL.
func (p *Plugin) serveLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		p.page(w, r, http.StatusMethodNotAllowed, "Method not allowed", "Start a login with a GET.", "")
		return
	}
	p.startFlow(w, r, r.URL.Query().Get(FieldCameFrom))
}

// startFlow sets a flow cookie for a fresh state and redirects to the
// provider's authorization endpoint with PKCE (S256) and a nonce.
func (p *Plugin) startFlow(w http.ResponseWriter, r *http.Request, cameFrom string) {
	d, err := p.provider(r.Context())
	if err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(p.o.RetryInterval.D()/time.Second))))
		p.page(w, r, http.StatusServiceUnavailable, "Login unavailable", MsgUnavailable, cameFrom)
		return
	}
	state, nonce, verifier := newState(), newState(), oauth2.GenerateVerifier()
	f := flow{
		Nonce:    nonce,
		Verifier: verifier,
		CameFrom: origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, ""),
		Redirect: p.redirectURL(r),
		Expires:  p.now().Add(p.o.FlowTimeout.D()).Unix(),
	}
	http.SetCookie(w, p.flowCookie(r, state, p.encodeFlow(state, f), int(p.o.FlowTimeout.D()/time.Second)))
	dest := p.oauth2Config(d, f.Redirect).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	redirect(w, dest, nil)
}

// redirectURL is redirect_url, or the request's scheme and host with
// callback_path.
func (p *Plugin) redirectURL(r *http.Request) string {
	if p.o.RedirectURL != "" {
		return p.o.RedirectURL
	}
	return p.absolute(r, p.o.CallbackPath)
}

// absolute makes path absolute on the request's site (scheme as
// origin.RequestURL sees it, behind a TLS proxy too).
func (p *Plugin) absolute(r *http.Request, path string) string {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return path
	}
	u, err := url.Parse(origin.RequestURL(r))
	if err != nil || u.Host == "" {
		return path
	}
	return u.Scheme + "://" + u.Host + path
}

// serveCallback ends a flow: the state names the flow cookie, which must
// be valid, unexpired and unused; the code is exchanged with the PKCE
// verifier; the ID token is verified (signature, issuer, audience, expiry)
// and must carry the flow's nonce. The user is then logged in through the
// rememberer and sent to came_from.
func (p *Plugin) serveCallback(w http.ResponseWriter, r *http.Request) {
	// GET only: a HEAD (a link checker) must not spend the flow.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		p.page(w, r, http.StatusMethodNotAllowed, "Method not allowed", MsgBadReply, "")
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if !validState(state) {
		p.page(w, r, http.StatusBadRequest, "Login failed", MsgBadReply, "")
		return
	}
	c, err := r.Cookie(p.o.CookiePrefix + state)
	if err != nil {
		p.log.Info("oidc: callback without its flow cookie (expired, replayed, or another browser)", "provider", p.name)
		p.page(w, r, http.StatusBadRequest, "Login failed", MsgNoFlow, "")
		return
	}
	// The flow ends here whatever happens next: its cookie goes.
	http.SetCookie(w, p.flowCookie(r, state, "", -1))
	now := p.now()
	f, err := p.decodeFlow(state, c.Value, now)
	if err != nil {
		p.log.Warn("oidc: flow cookie refused", "provider", p.name, "err", err)
		p.page(w, r, http.StatusBadRequest, "Login failed", MsgNoFlow, "")
		return
	}
	if !p.used.add(state, now, time.Unix(f.Expires, 0), now) {
		p.log.Warn("oidc: callback replayed", "provider", p.name)
		p.page(w, r, http.StatusBadRequest, "Login failed", MsgNoFlow, f.CameFrom)
		return
	}
	// RFC 9207: a provider that names itself in the reply must be this
	// one (a mix-up between two providers is refused).
	if iss := q.Get("iss"); iss != "" && iss != p.o.Issuer {
		p.log.Warn("oidc: the reply names another issuer", "provider", p.name)
		p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
		return
	}
	if e := q.Get("error"); e != "" {
		p.log.Info("oidc: the provider answered an error", "provider", p.name, "error", safeCode(e))
		p.page(w, r, http.StatusForbidden, "Login failed", MsgDenied+" ("+safeCode(e)+")", f.CameFrom)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		p.page(w, r, http.StatusBadRequest, "Login failed", MsgBadReply, f.CameFrom)
		return
	}
	d, err := p.provider(r.Context())
	if err != nil {
		p.page(w, r, http.StatusServiceUnavailable, "Login unavailable", MsgUnavailable, f.CameFrom)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.o.HTTPTimeout.D())
	defer cancel()
	tok, err := p.oauth2Config(d, f.Redirect).Exchange(p.clientContext(ctx), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		if _, refused := errors.AsType[*oauth2.RetrieveError](err); refused {
			p.log.Warn("oidc: the provider refused the code", "provider", p.name, "err", err)
			p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
			return
		}
		p.log.Error("oidc: token exchange failed", "provider", p.name, "err", err)
		p.page(w, r, http.StatusServiceUnavailable, "Login unavailable", MsgUnavailable, f.CameFrom)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		p.log.Warn("oidc: the token response has no id_token (is \"openid\" among the client's scopes?)", "provider", p.name)
		p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
		return
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		p.log.Warn("oidc: ID token refused", "provider", p.name, "err", err)
		p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		p.log.Warn("oidc: ID token refused: its nonce is not the flow's", "provider", p.name)
		p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
		return
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			p.log.Warn("oidc: ID token refused: at_hash does not match the access token", "provider", p.name)
			p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
			return
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
		return
	}
	uid := claimString(claims[p.o.UserIDClaim])
	if uid == "" {
		p.log.Error("oidc: the ID token has no string claim named by userid_claim", "provider", p.name, "userid_claim", p.o.UserIDClaim)
		p.page(w, r, http.StatusForbidden, "Login failed", MsgRefused, f.CameFrom)
		return
	}
	id := who.Identity{KeyUserID: uid, KeyProof: p.proof(uid), KeyIssuer: p.o.Issuer}
	for _, name := range p.claims {
		if v, ok := claims[name]; ok && v != nil {
			id[name] = dataValue(v)
		}
	}
	res, headers := who.APIFrom(r).LoginAs(p, id)
	if headers == nil {
		p.log.Error("oidc: the chain does not list this oidc plugin among its identifiers, so no login can succeed; list the same *oidc.Plugin under who.Config.Identifiers", "provider", p.name)
		p.page(w, r, http.StatusInternalServerError, "Login failed", MsgMisconfig, "")
		return
	}
	if res == nil {
		p.log.Warn("oidc: no authenticator accepted the provider's user (list the oidc plugin under [authenticators])", "provider", p.name)
		addHeaders(w.Header(), headers)
		p.page(w, r, http.StatusForbidden, "Login refused", MsgNotAllowed, "")
		return
	}
	p.keepTokens(w, r, tok, raw, idt.Subject, claimString(claims["sid"]), id)
	redirect(w, origin.SafeRedirect(r, f.CameFrom, p.o.AllowedHosts, p.o.PostLoginURL), headers)
}

// serveLogout logs out here (the rememberer forgets, the session's tokens
// go) and then at the provider: a redirect to its end_session_endpoint
// with id_token_hint, client_id and post_logout_redirect_uri, or, when the
// provider has none or cannot be reached, to a safe came_from or
// post_logout_url. A GET from another site gets a page with a button
// instead; another method from another origin is refused.
func (p *Plugin) serveLogout(w http.ResponseWriter, r *http.Request) {
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
			r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
			if err := r.ParseForm(); err == nil && r.PostForm.Get(FieldCameFrom) != "" {
				cameFrom = r.PostForm.Get(FieldCameFrom)
			}
		}
	}
	hint := p.dropTokens(w, r)
	headers := http.Header{}
	if p.rem != nil {
		addNew(headers, p.rem.Forget(r, nil))
	}
	addNew(headers, who.APIFrom(r).Logout(p.o.RemembererName))
	dest := origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, p.o.PostLogoutURL)
	if d, err := p.provider(r.Context()); err == nil && d.endSession != "" {
		u, _ := url.Parse(d.endSession)
		v := u.Query()
		if hint != "" {
			v.Set("id_token_hint", hint)
		}
		v.Set("client_id", p.o.ClientID)
		v.Set("post_logout_redirect_uri", p.absolute(r, p.o.PostLogoutURL))
		u.RawQuery = v.Encode()
		dest = u.String()
	} else if err != nil {
		p.log.Warn("oidc: logged out here only: the provider cannot be reached", "provider", p.name, "err", err)
	}
	redirect(w, dest, headers)
}

// serveBackchannel receives a back-channel logout: a POST with a
// logout_token, verified as the spec says (signature, issuer, audience,
// expiry, the logout event, no nonce, a sid or sub, a jti not seen
// before). The sessions of that sid (or, without one, of that sub) are
// destroyed: those this process indexed at once, any other at its next
// request.
func (p *Plugin) serveBackchannel(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	fail := func(status int, desc string) {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":%q}`, desc)
	}
	if r.Method != http.MethodPost {
		h.Set("Allow", "POST")
		fail(http.StatusMethodNotAllowed, "POST a logout_token")
		return
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "malformed form")
		return
	}
	raw := r.PostForm.Get("logout_token")
	if raw == "" {
		fail(http.StatusBadRequest, "no logout_token")
		return
	}
	d, err := p.provider(r.Context())
	if err != nil {
		fail(http.StatusServiceUnavailable, "provider discovery failed")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.o.HTTPTimeout.D())
	defer cancel()
	lt, err := d.verifier.VerifyLogout(ctx, raw)
	if err != nil {
		p.log.Warn("oidc: logout token refused", "provider", p.name, "err", err)
		fail(http.StatusBadRequest, "logout token refused")
		return
	}
	now := p.now()
	if !p.jtis.add(lt.TokenID, now, lt.Expiry.Add(time.Minute), now) {
		p.log.Warn("oidc: logout token replayed", "provider", p.name)
		fail(http.StatusBadRequest, "logout token replayed")
		return
	}
	p.revoke(ctx, lt.SessionID, lt.Subject)
	w.WriteHeader(http.StatusOK)
}

// logoutPage answers a cross-site logout with a button that posts to
// logout_path from this site.
func (p *Plugin) logoutPage(w http.ResponseWriter, r *http.Request, cameFrom string, status int) {
	pageHeaders(w.Header())
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = logoutTmpl.Execute(w, struct{ Action, CameFrom string }{
		p.o.LogoutPath, origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, ""),
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

// page answers a message page, with a link to log in again. Its status
// is never 401: the chain would take a 401 from the callback for a
// challenge and send the browser to the provider again, in a loop when the
// failure lasts (an ID token always expired by a skewed clock).
func (p *Plugin) page(w http.ResponseWriter, r *http.Request, status int, title, msg, cameFrom string) {
	pageHeaders(w.Header())
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	again := ""
	if cameFrom != "" || status != http.StatusInternalServerError {
		again = p.o.LoginPath + "?" + url.Values{FieldCameFrom: {origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, p.o.PostLoginURL)}}.Encode()
	}
	_ = pageTmpl.Execute(w, struct{ Title, Message, Again string }{title, msg, again})
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title>
</head>
<body>
<h1>{{.Title}}</h1>
<p id="message" role="alert">{{.Message}}</p>
{{if .Again}}<p><a id="again" href="{{.Again}}">Log in again</a></p>{{end}}
</body>
</html>
`))

// pageHeaders sets the headers of a page the plugin renders itself.
func pageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
}

func redirect(w http.ResponseWriter, dest string, extra http.Header) {
	h := w.Header()
	addHeaders(h, extra)
	h.Set("Location", dest)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

func addHeaders(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

// addNew adds the values of src that dst does not hold yet.
func addNew(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dup := false
			for _, have := range dst.Values(k) {
				dup = dup || have == v
			}
			if !dup {
				dst.Add(k, v)
			}
		}
	}
}

// safeCode keeps an OAuth error code printable: the letters, digits and
// "_" it is made of, at most 64 of them.
func safeCode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "error"
	}
	return b.String()
}

// claimString is a claim as a userid: a string, or an integer number.
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
	}
	return ""
}

// dataValue is a JSON claim as identity data: a list of strings becomes a
// []string (as auth_tkt's tokens), everything else stays as decoded.
func dataValue(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	ss := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return v
		}
		ss = append(ss, s)
	}
	return ss
}

// acceptsHTML reports whether the request's Accept header lists text/html
// (or application/xhtml+xml) with a non-zero quality.
func acceptsHTML(r *http.Request) bool {
	for _, line := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(line, ",") {
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
