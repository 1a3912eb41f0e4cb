// Package jwt accepts bearer tokens: an identifier that finds a token in
// the Authorization header (scheme Bearer), another header or a cookie,
// and an authenticator that verifies it, a JWT against a key set or static
// keys, an opaque token by RFC 7662 introspection.
//
// In who.toml:
//
//	[plugin.bearer]
//	use = "jwt"
//	issuer = "https://login.example.com"   # keys from its discovery document
//	audience = ["https://api.example.com"]
//	claims = ["email", "groups"]
//
//	[identifiers]
//	plugins = ["bearer"]
//	[authenticators]
//	plugins = ["bearer"]
//
// In Go:
//
//	p, err := jwt.New(jwt.Options{JWKSURL: "https://login.example.com/keys", Audience: []string{"api"}})
//
// The identity is {KeyToken: token}; a verified token's userid_claim
// ("sub") is the userid and the listed claims are copied into the
// identity under their own names. A JWT must carry exp, is checked for
// iss (when issuer is set), aud (one of audience), exp, nbf and iat with
// leeway, and must be signed with an algorithm of the allow-list:
// never "none", and an HMAC algorithm only with hmac_secret, never with a
// public key. Keys from jwks_url (or the issuer's jwks_uri) are fetched
// when first needed and cached; a token whose kid is not in the set makes
// the plugin fetch it again, at most once per min_refresh, so a rotated
// key is accepted and a flood of made-up kids costs one fetch. A verified
// token (or an introspection answer) is cached by its SHA-256 for at most
// cache_ttl and never past its exp.
//
// A token that is refused is "no" (an empty userid, a nil error, the
// reason logged at debug level); an error means the provider could not be
// asked: the key set or introspection endpoint down, slow (every request
// is bounded by timeout) or answering something that is not what it
// should be. Discovery, key set and introspection bodies are bounded to
// 1 MiB, tokens to max_token_bytes.
package jwt
