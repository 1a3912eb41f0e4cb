package who

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
)

// An Identifier extracts credentials from a request. It returns a nil
// Identity when the request carries none of its credentials; an empty,
// non-nil Identity counts as found. An error means a backend failed: it is
// logged and the chain goes on.
//
// Concurrency: one plugin value serves every request, so Identify is
// called concurrently from many requests and must be safe for concurrent
// use; what it keeps between requests (a cache) needs its own locking.
// It may read r but must not modify it (headers, URL, body it has not
// consumed for itself) beyond what its own protocol needs. The returned
// Identity belongs to the chain: it may be modified (the winner gets
// KeyUserID and the metadata providers' keys, a handler may change it), so
// return a fresh map on every call, never a cached or shared one, and do
// not keep it; values in it that a caller could change in place (a slice,
// a map) must not be shared with other requests either.
//
// During Identify an identifier may install a handler that answers the
// request instead of the downstream handler, with ReplaceHandler, and keep
// what a later stage of the same request needs with SetRequestValue.
type Identifier interface {
	Identify(r *http.Request) (Identity, error)
}

// A Rememberer is an Identifier that can set and clear its credentials
// (a cookie, a session key). Both return the headers to add to the
// response; nil means none. Forget may receive a nil identity (Logout).
//
// Concurrency: Remember and Forget are called concurrently from many
// requests (at the start of each response, and from Login, Logout and the
// API) and must be safe for concurrent use. They must not modify id, which
// is the request's result, nor keep it; the returned header is the
// caller's to add to the response: return a fresh one per call.
type Rememberer interface {
	Remember(r *http.Request, id Identity) http.Header
	Forget(r *http.Request, id Identity) http.Header
}

// An Authenticator checks one identity. It returns the userid, or "" when
// the identity is not one it recognises or the credentials are wrong. An
// error means a backend failed (a directory down): it is logged and the
// next authenticator is tried; it is never a "wrong password".
//
// Concurrency: Authenticate is called concurrently from many requests and
// must be safe for concurrent use. id is shared with the other
// authenticators of the request: Authenticate must not modify it (unless
// the plugin is also the identifier that produced it) nor keep it after it
// returns; r is read-only.
type Authenticator interface {
	Authenticate(r *http.Request, id Identity) (userID string, err error)
}

// A MetadataProvider adds keys to the winning identity, which already holds
// KeyUserID. An error is logged; the request goes on.
//
// Concurrency: AddMetadata is called concurrently from many requests and
// must be safe for concurrent use. It may add and replace keys of id (the
// request's own identity) but must not keep id or r after it returns; the
// values it adds belong to the request, so a value shared between requests
// (a cached slice or map) is added as a copy.
type MetadataProvider interface {
	AddMetadata(r *http.Request, id Identity) error
}

// A Challenger answers a request the ChallengeDecider called a challenge.
// It receives the downstream status and headers and the forget headers of
// the identifier that identified the request, and returns the handler that
// answers instead of the downstream response, or nil when it cannot.
//
// Concurrency: Challenge is called concurrently from many requests and
// must be safe for concurrent use. appHeaders and forgetHeaders are the
// request's own copies: it may read them and hand them to the handler it
// returns, which runs once, on that request; it must not keep them for
// another request.
type Challenger interface {
	Challenge(r *http.Request, status int, appHeaders, forgetHeaders http.Header) http.Handler
}

// A RequestClassifier names the kind of a request ("browser", "dav",
// "xmlpost" or a word of its own); plugins listed with ";word" run only for
// requests of that kind. It is called once per request, concurrently from
// many, and must only read r.
type RequestClassifier func(r *http.Request) string

// A ChallengeDecider says whether a downstream response (its status and
// headers) is a challenge. It is called once per response, concurrently
// from many requests, and must only read r and h (the response headers
// the downstream handler set) and keep neither.
type ChallengeDecider func(r *http.Request, status int, h http.Header) bool

// A Classifier is a plugin that classifies requests; [general]
// request_classifier may name one. Classify is a RequestClassifier: called
// once per request, concurrently from many, it must be safe for
// concurrent use and only read r.
type Classifier interface {
	Classify(r *http.Request) string
}

// A Decider is a plugin that decides challenges; [general]
// challenge_decider may name one. IsChallenge is a ChallengeDecider:
// called once per response, concurrently from many requests, it must be
// safe for concurrent use and only read r and h.
type Decider interface {
	IsChallenge(r *http.Request, status int, h http.Header) bool
}

// A Validator is checked once, after references are resolved, while the
// configuration loads: never concurrently, and before any request.
type Validator interface {
	Validate() error
}

// A Checker reaches the outside systems a plugin depends on (an OpenID
// provider's discovery, a key set, a directory) and reports whether they
// answer. It is for `who check` and health checks only: the chain never
// calls it on a request, and a plugin must work (retrying lazily) when its
// Check failed at start. The error names what failed (an URL, a host),
// never a secret; ctx bounds the time. Check may be called concurrently
// with other plugins' Check and with requests.
type Checker interface {
	Check(ctx context.Context) error
}

// A Reference is one by-name reference from a plugin's options to another
// declared plugin.
type Reference struct {
	Key  string // the option key that holds the name, e.g. "authenticator_name"
	Name string // the plugin name it refers to
}

// A Resolver refers to other declared plugins by name. The loader checks
// every reference (a missing name or a cycle is a load error), then calls
// Resolve on referred plugins before their referrers. Resolve receives
// every declared plugin by name, including ";unused" ones. Both are called
// once while the configuration loads, never concurrently; the map is the
// loader's and must not be kept.
type Resolver interface {
	References() []Reference
	Resolve(plugins map[string]any) error
}

// Lookup returns the plugin ref names from the plugins a Resolve receives,
// as T: the one lookup every Resolver does. The loader has already checked
// that the name exists; Lookup's error, an *OptionError on ref.Key, says
// when the plugin is missing or is no T ("plugin "x" (*pkg.Type) is not a
// who.Rememberer").
func Lookup[T any](plugins map[string]any, ref Reference) (T, error) {
	var zero T
	p, ok := plugins[ref.Name]
	if !ok {
		return zero, &OptionError{Key: ref.Key, Err: fmt.Errorf("no plugin named %q", ref.Name)}
	}
	v, ok := p.(T)
	if !ok {
		return zero, &OptionError{Key: ref.Key, Err: fmt.Errorf("plugin %q (%T) is not a %v", ref.Name, p, reflect.TypeFor[T]())}
	}
	return v, nil
}

// An OuterMiddleware is a declared plugin that wraps the whole chain, such
// as a session manager, so that the plugins of the chain can reach what it
// puts in the request context.
//
// Concurrency: Wrap is called once, when the chain is built; the handler
// it returns serves every request concurrently and must be safe for
// concurrent use, as any http.Handler. It passes each request on with its
// own context (r.WithContext) rather than changing a request another
// goroutine may hold.
type OuterMiddleware interface {
	Wrap(next http.Handler) http.Handler
}

// A SecretKeyer is a plugin whose identities hold secrets under keys of
// its own (an API key, a one-time code): SecretKeys names them, and who
// explain, debug logs and error messages mask their values. KeyPassword is
// always masked and need not be listed. Every built-in identifier
// declares its keys, even when it has none beyond KeyPassword.
//
// Concurrency: SecretKeys is called while the chain is built and may be
// called concurrently afterwards; it returns the same keys every time.
type SecretKeyer interface {
	SecretKeys() []string
}

// SecretKeysOf returns KeyPassword and the keys every plugin of plugins
// that is a SecretKeyer declares, each once, in the order first seen.
func SecretKeysOf(plugins ...any) []string {
	keys := []string{KeyPassword}
	for _, p := range plugins {
		sk, ok := p.(SecretKeyer)
		if !ok {
			continue
		}
		for _, k := range sk.SecretKeys() {
			if k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}
