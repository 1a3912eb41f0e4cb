// Package oidctest holds gowho's tests against a real OpenID provider
// (zitadel/oidc's op package, in process on loopback) and headless
// Chromium: the oidc plugin's login, logout and refusals, and the jwt
// plugin's bearer tokens. It is a module of its own so that gowho's users
// never download the provider; nothing here is imported by gowho.
package oidctest
