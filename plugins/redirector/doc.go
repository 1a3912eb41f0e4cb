// Package redirector is a challenger that redirects browsers to a login
// page, passing where they came from and why (repoze.who's redirector).
//
// In who.toml:
//
//	[plugin.redirector]
//	use = "redirector"
//	login_url = "/login"
//	# came_from_param = "came_from"  (default; "" leaves it out)
//	# reason_param = "reason"         (default; "" leaves it out)
//
//	[challengers]
//	plugins = ["redirector;browser", "basicauth"]
//
// In Go:
//
//	rd, err := redirector.New(redirector.Options{LoginURL: "/login"})
//	m, err := who.New(who.Config{Challengers: []who.Entry{{Name: "redirector", Plugin: rd, Classifications: []string{"browser"}}}})
//
// The challenge is a 302 whose Location is login_url with its own query
// parameters, then reason_param=<the X-Authorization-Failure-Reason header
// the handler set, when non-empty>, then came_from_param=<the absolute URL
// of the refused request> (origin.RequestURL: https when the request came
// over HTTPS to this server or, by X-Forwarded-Proto or Forwarded from a
// proxy listed in [general] trusted_proxies, to that proxy, on the host it
// forwarded; the server's own address for an HTTP/1.0 request without Host). The forget headers of the identifier and the
// handler's own Set-Cookie headers are kept. A relative login_url is
// resolved against the request path and stays a path (repoze.who's WebOb
// made it absolute with the request's scheme and host, which is wrong
// behind a TLS-terminating proxy). A query-only or fragment-only login_url
// ("?login=1") keeps the request's path with dot segments resolved and
// leading slashes collapsed, so no Location is ever "//host/...".
//
// came_from is not validated here: the login page must check it before it
// redirects there, with the same rule as the form plugin and `who serve`'s
// demo login page (internal/origin.SafeRedirect, which keeps a URL on the
// request's own host).
package redirector
