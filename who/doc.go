// Package who is the core of gowho: a chain of small identity plugins
// (identifiers, authenticators, metadata providers and challengers) run in
// configured order for every request, as net/http middleware.
//
// The flow is repoze.who's. For each request the middleware
//
//  1. classifies the request (RequestClassifier: "browser", "dav", "xmlpost"
//     or a custom word);
//  2. runs every Identifier whose classifications match, keeping every
//     Identity found;
//  3. tries every matching Authenticator on every identity and ranks the
//     successes by (authenticator position, identifier position): the lowest
//     wins, and each success keeps its own userid;
//  4. lets every matching MetadataProvider add to the winning identity;
//  5. runs the downstream handler, or the handler an identifier installed
//     with ReplaceHandler;
//  6. when the ChallengeDecider calls the response a challenge (default: a
//     401), discards the downstream response and lets the first matching
//     Challenger answer, passing it the identifier's forget headers; the
//     headers set on the ResponseWriter before the chain ran (an outer
//     middleware's Strict-Transport-Security, X-Request-Id) are kept, the
//     downstream handler's are dropped, as repoze.who replaces the
//     application's response;
//  7. otherwise adds the winning identifier's remember headers.
//
// A response carrying a Set-Cookie from gowho (remember or forget headers,
// those Login and Logout return) gets "Cache-Control: private" and "Vary:
// Cookie" (PreventSharedCaching). The identity header the middleware sets
// for the handler (Config.RemoteUserKey) is first removed in every spelling
// a client may send (DeleteHeaderFolded), and a trusted header
// (Config.TrustedUserHeader) is trusted only in its one configured
// spelling.
//
// The decision in steps 6 and 7 is taken when the handler first calls
// WriteHeader, Write or Flush, or hijacks the connection, so nothing leaves
// before it; http.ResponseController keeps working through the wrapper.
//
// "No" is a value and an error means a backend failed: a plugin error is
// logged with the plugin's name and the chain goes on with the next plugin.
// A plugin's first failure is logged at once and its repeats are counted
// and summarised once per Config.FailureLogInterval. A challenge is logged
// at INFO with the request's method and escaped path (never its query).
//
// # Optional interfaces
//
// A plugin implements the stage interfaces it can serve; the configuration
// decides where it is used. Further abilities are optional interfaces found
// by type assertion, as with database/sql drivers:
//
//   - Rememberer: an Identifier that can set and clear credentials. Without
//     it, Remember and Forget add nothing for that identifier.
//   - Resolver: a plugin that refers to other plugins by name; its
//     references are checked (missing names, cycles) and resolved at load.
//   - Validator: checked once after resolution.
//   - Checker: reaches the outside systems the plugin needs (a provider,
//     a key set); `who check` calls it, never a request.
//   - OuterMiddleware: a declared plugin (a session manager) that wraps the
//     whole chain.
//   - SecretKeyer: a plugin naming the identity keys that hold secrets;
//     debug logs and plugin error messages mask their values (Mask), as
//     they always mask KeyPassword, and Middleware.SecretKeys and
//     Identity.Masked let a Trace consumer (who explain) do the same.
//   - io.Closer: closed when the configuration is closed, in reverse order.
//
// Plugins register a Factory by name with Register, usually from init; the
// config package builds a Middleware from who.toml with them.
package who
