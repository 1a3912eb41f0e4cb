// Package form is the login form: an identifier that reads the form's POST
// and answers it, a challenger that shows or redirects to the form, and a
// rememberer that delegates to another plugin (auth_tkt, usually).
//
// In who.toml (the redirecting mode, repoze.who's redirectingform and
// friendlyform):
//
//	[plugin.form]
//	use = "form"
//	login_form_url = "/login"        # served by the plugin (serve_form = true)
//	login_handler_path = "/login_handler"
//	logout_handler_path = "/logout_handler"
//	post_login_url = "/"
//	post_logout_url = "/"
//	rememberer_name = "auth_tkt"
//
//	[identifiers]
//	plugins = ["form;browser", "auth_tkt"]
//	[challengers]
//	plugins = ["form;browser", "basicauth"]
//
// In Go:
//
//	f, err := form.New(form.Options{LoginFormURL: "/login", Rememberer: tkt})
//
// Without login_form_url the plugin works in repoze.who's form mode: the
// challenge itself is the form (200), posting to the same URL with
// ?__do_login=true (login_form_qs); a successful login redirects to the URL
// without the flag.
//
// Credentials are read only from a POST body (never a query string), and
// a POST must carry the CSRF token: an HMAC-SHA256, keyed by csrf_secret,
// of a random per-browser cookie (csrf_cookie_name, HttpOnly,
// SameSite=Lax, Secure when the request is https as the client saw it or
// with secure = true) that the form page sets.
// Another site can neither read the cookie nor compute the token. When the
// plugin does not serve the form (serve_form = false), a POST the browser
// marks same-origin is accepted without the token; an application
// rendering its own page can also put the token in it with CSRFField (or
// CSRFToken). A login authenticates the posted credentials with
// who.API.LoginAs, whoever is logged in, so a new login always gets a
// fresh ticket. A failed, malformed, oversized (max_body_bytes) or forged
// login shows the form again with a message (status 200, 400, 413 or
// 403), never a 500 (only a chain that does not list the plugin among its
// identifiers answers a login with 500, and logs why); a password over
// max_password_bytes is refused without reaching an authenticator, and
// remember is capped at max_remember.
//
// The login and logout endpoints refuse requests from another origin
// (http.CrossOriginProtection); a cross-site GET of logout_handler_path
// does not log out but gets a page with one button that posts there. In
// the form-on-challenge mode the form's action is the request path made
// safe (controls and backslashes encoded, dot segments resolved, leading
// slashes collapsed), so it always resolves to the page's own origin.
//
// came_from (from the form, or the logout query) is followed only when it
// is a path on this site or an http(s) URL on this host or one of
// allowed_hosts (the redirect rule of docs/security.md); anything else goes to post_login_url or
// post_logout_url.
//
// The built-in page is an html/template; form = "login.html" replaces it
// with a file receiving a Page.
package form
