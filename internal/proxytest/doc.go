// Package proxytest runs the gateway (package gateway) behind the real
// proxies of docs/gateway.md, all on loopback ports started by the test:
// Debian's nginx with auth_request and Caddy 2.6 with forward_auth in front
// of the gateway, and a Python WSGI application served by Debian's waitress
// (testdata/app.py) as the upstream, which answers with the request headers
// it was given, as CGI and WSGI read them (HTTP_X_REMOTE_USER, REMOTE_USER).
//
// The nginx and Caddy configurations are testdata/nginx.conf and
// testdata/Caddyfile, and docs/gateway.md shows them verbatim
// (TestDocConfigs): the tests only replace the documented addresses
// (127.0.0.1:9091 for the gateway, 127.0.0.1:8000 for the application, the
// listen address and the site name) with their loopback ports.
//
// A missing nginx, caddy, python3-waitress or chromium skips the test that
// needs it, or fails it when GOWHO_REQUIRE_SERVERS=1.
package proxytest
