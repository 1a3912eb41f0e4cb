// Package oidc logs users in with an OpenID Connect provider: the
// authorization code flow with PKCE (S256), always, through
// golang.org/x/oauth2, the ID token verified by github.com/coreos/go-oidc/v3.
//
// One plugin serves one provider; declare one per provider. It is an
// identifier (it answers its paths itself), a challenger (it sends the
// browser to the provider, or shows a page to choose among providers), an
// authenticator of the identities it made at its callback (list it under
// [authenticators] too) and a rememberer that delegates to
// rememberer_name (an auth_tkt or sessionid plugin), which keeps the login
// from then on; with session_name, listed under [mdproviders], it gives
// the login's claims to every later request (AddMetadata):
//
//	[plugin.corp]
//	use = "oidc"
//	issuer = "https://login.example.com"
//	client_id = "gowho"
//	client_secret = "${OIDC_SECRET}"
//	rememberer_name = "auth_tkt"
//
//	[identifiers]
//	plugins = ["corp", "auth_tkt"]
//	[authenticators]
//	plugins = ["auth_tkt", "corp"]
//	[challengers]
//	plugins = ["corp"]
//
// The flow: a challenge (or GET login_path?came_from=URL) redirects to the
// provider with a fresh state, nonce and PKCE verifier, kept in a signed,
// short-lived cookie whose name ends with the state, so logins started in
// several tabs each complete. The provider sends the browser back to
// callback_path; the cookie must be there, valid and unused, the code is
// exchanged with the verifier, and the ID token must verify and carry the
// flow's nonce. userid_claim (default "sub") becomes the userid and the
// claims listed in claims are copied into the identity; the rememberer
// remembers it and the browser goes back to came_from when
// origin.SafeRedirect allows it, else post_login_url.
//
// Discovery (issuer/.well-known/openid-configuration) happens at the first
// login, not at start: a provider down when the site starts stops nothing,
// and a failed discovery is retried after retry_interval, logins getting a
// "provider unavailable" page (503) meanwhile. Check runs it at once, for
// `who check`. Every request to the provider is bounded by http_timeout
// and its response by 1 MiB.
//
// With session_name, the session keeps the ID token (the id_token_hint of
// the logout), the access and refresh tokens (TokenSource) and the
// provider's sid, for back-channel logout (backchannel_logout_path): a
// verified logout token destroys the sessions of its sid, or of its sub.
//
// logout_path logs out here, then redirects to the provider's
// end_session_endpoint with id_token_hint and post_logout_redirect_uri.
package oidc
