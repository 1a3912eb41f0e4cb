// Package gateway serves a gowho chain without an application: a
// forward-auth endpoint for nginx, Caddy, Traefik and Envoy, or a reverse proxy.
//
// In who.toml, beside the chain's plugins:
//
//	[gateway]
//	auth_path = "/_who/auth"             # the forward-auth endpoint
//	prefix = "/_who/"                     # the form's login and logout paths, the JWKS
//	upstream = "http://127.0.0.1:8000"    # reverse-proxy mode; without it, forward-auth only
//	user_header = "X-Remote-User"
//	pass_identity = ["mail", "groups"]    # X-Remote-Mail, X-Remote-Groups
//	assertion = true                      # X-Who-Assertion, keys at /_who/jwks.json
//
//	[[gateway.rule]]
//	path = "/public"
//	access = "public"
//	[[gateway.rule]]
//	path = "/admin"
//	groups = ["admins"]
//
// In Go (`who gateway` does this):
//
//	chain, err := config.Load("who.toml", config.Options{})
//	g, err := gateway.FromChain(chain, logger)
//	http.ListenAndServe(addr, g)
//
// Every incoming header that names user_header, a pass_identity header or
// X-Who-Assertion after case folding and '_'/'-' folding is removed
// before anything else, in both modes. The forward-auth endpoint rebuilds
// the original request from X-Forwarded-Method/-Proto/-Host/-Uri (Traefik,
// Caddy), X-Original-URI/-Method (nginx) or its own path below auth_path
// (Envoy), but only when the peer is a trusted proxy ([general]
// trusted_proxies); from anyone else those headers are ignored and the
// request is judged as it came. Rules match the path after dot segments
// are resolved, on the raw and on the decoded path, both of which must
// allow. docs/gateway.md is the full reference.
package gateway
