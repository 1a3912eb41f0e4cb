package who

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
)

// ErrNoMiddleware is returned by API methods when the request did not go
// through the who middleware.
var ErrNoMiddleware = errors.New("who: the request did not go through the who middleware")

// API is the per-request API of repoze.who: authenticate, challenge,
// remember, forget, login and logout. Get it with APIFrom. A nil *API (no
// middleware) is safe to use: every method returns zero values.
type API struct {
	st *state
}

// APIFrom returns the request's API, or nil when the middleware is absent
// (also under a context from NewContext, which holds a result but no
// chain).
func APIFrom(r *http.Request) *API {
	st := stateFrom(r.Context())
	if st == nil || st.m == nil {
		return nil // no middleware, or a NewContext result
	}
	return &API{st: st}
}

// Classification returns the request's classification.
func (a *API) Classification() string {
	if a == nil {
		return ""
	}
	return a.st.classification
}

// Result returns the request's current result, or nil when anonymous.
func (a *API) Result() *Result {
	if a == nil {
		return nil
	}
	return a.st.result
}

// Authenticate runs identification, authentication and metadata again (it
// is not memoised), makes the outcome the request's result, and returns
// it; nil when nobody authenticated.
func (a *API) Authenticate() *Result {
	if a == nil {
		return nil
	}
	return a.st.authenticate()
}

// Challenge returns the handler of the first matching challenger for
// status (0 means 403, as repoze.who), passing it appHeaders and the
// current identifier's forget headers; nil when no challenger answers.
func (a *API) Challenge(status int, appHeaders http.Header) http.Handler {
	if a == nil {
		return nil
	}
	if status == 0 {
		status = http.StatusForbidden
	}
	return a.st.challenge(status, appHeaders)
}

// Remember returns the headers that the identifier which produced res
// (nil: the current result) sends to remember it; nil when none.
func (a *API) Remember(res *Result) http.Header {
	if a == nil {
		return nil
	}
	if res == nil {
		res = a.st.result
	}
	return a.st.remember(res)
}

// Forget returns the headers that the identifier which produced res (nil:
// the current result) sends to forget it; nil when none.
func (a *API) Forget(res *Result) http.Header {
	if a == nil {
		return nil
	}
	if res == nil {
		res = a.st.result
	}
	return a.st.forget(res)
}

// Login authenticates credentials (typically KeyLogin and KeyPassword, and
// KeyMaxAge for a cookie lifetime) with the matching authenticators, as if
// identifierName (or, when "", the first identifier) had found them. Each
// authenticator sees the credentials once, however many identifiers are
// selected, so a wrong password costs one check (one hash, one directory
// bind, one lockout strike).
//
// On success every selected identifier remembers the new identity; the
// returned headers are theirs, for the caller to send. The result becomes
// the request's result (metadata added), so the rest of the handler sees
// the user; the middleware then adds no remember headers of its own.
// On failure Login returns nil and every selected identifier's forget
// headers. Unknown identifierName: nil, nil. A response that carries
// Login's, Logout's, Remember's or Forget's Set-Cookie headers gets
// "Cache-Control: private" and "Vary: Cookie" from the middleware when it
// starts (PreventSharedCaching).
func (a *API) Login(credentials Identity, identifierName string) (*Result, http.Header) {
	if a == nil {
		return nil, nil
	}
	return a.st.login(credentials, a.st.select_(identifierName))
}

// LoginAs is Login as found by the identifier plugin itself (a form
// plugin logging in the credentials it was posted), whatever name the
// chain lists it under: only the chain's entries holding that very plugin
// remember the result. A plugin the chain does not list, or one whose
// value cannot be compared (a struct holding a map in an interface
// field): nil, nil.
func (a *API) LoginAs(identifier Identifier, credentials Identity) (*Result, http.Header) {
	if a == nil || identifier == nil {
		return nil, nil
	}
	var sel []*stageEntry[Identifier]
	// The value, not only its type, must be comparable: a struct holding
	// an interface field that holds a map makes == panic.
	if v := reflect.ValueOf(identifier); v.Comparable() {
		for i := range a.st.m.identifiers {
			if e := &a.st.m.identifiers[i]; reflect.TypeOf(e.p) == v.Type() && e.p == identifier {
				sel = append(sel, e)
			}
		}
	}
	return a.st.login(credentials, sel)
}

// login authenticates credentials as found by sel[0] and lets every
// identifier of sel remember the result (or forget, on failure).
func (st *state) login(credentials Identity, sel []*stageEntry[Identifier]) (*Result, http.Header) {
	if len(sel) == 0 {
		return nil, nil
	}
	// The credentials are the same whichever identifier is said to have
	// found them, so they are checked once (one bcrypt, one LDAP bind, one
	// lockout strike), as found by the first selected identifier.
	res := st.rank([]identified{{entry: sel[0], rank: 0, identity: credentials}}, false, true, nil)
	headers := http.Header{}
	for _, e := range sel {
		rem, ok := e.p.(Rememberer)
		if !ok {
			continue
		}
		if res != nil {
			addNewHeaders(headers, rem.Remember(st.r, res.Identity))
		} else {
			addNewHeaders(headers, rem.Forget(st.r, nil))
		}
	}
	if res != nil {
		st.result = res
	}
	st.noteCookies(headers)
	if st.m.obs != nil {
		st.observeLogin(sel[0].Name, credentials, res)
	}
	return res, headers
}

// observeLogin reports a Login (EventLogin) as found by identifier.
func (st *state) observeLogin(identifier string, credentials Identity, res *Result) {
	e := Event{Kind: EventLogin, Identifier: identifier, Outcome: OutcomeOK, Classification: st.classification, Request: st.r}
	if res != nil {
		e.UserID, e.Plugin = res.UserID, res.Authenticator
	} else {
		e.Outcome, e.Login = OutcomeFail, loginName(credentials)
		switch {
		case !st.authRan:
			e.Reason = ReasonNoAuthenticator
		case st.authErr:
			e.Reason = ReasonError
		default:
			e.Reason = ReasonRejected
		}
	}
	st.m.obs.observe(st, e)
}

// Logout returns the forget headers of identifierName (or, when "", of
// every identifier), tolerating identifiers that forget nothing, and makes
// the request anonymous, so the middleware remembers nothing for it.
func (a *API) Logout(identifierName string) http.Header {
	if a == nil {
		return nil
	}
	st := a.st
	if st.m.obs != nil {
		uid := ""
		if st.result != nil {
			uid = st.result.UserID
		}
		st.m.obs.observe(st, Event{Kind: EventLogout, Identifier: identifierName, UserID: uid,
			Classification: st.classification, Request: st.r})
	}
	headers := http.Header{}
	for _, e := range st.select_(identifierName) {
		if rem, ok := e.p.(Rememberer); ok {
			var id Identity
			if st.result != nil && st.result.identifier == e.p {
				id = st.result.Identity
			}
			addNewHeaders(headers, rem.Forget(st.r, id))
		}
	}
	st.result = nil
	st.noteCookies(headers)
	return headers
}

// WriteLogin is Login for a handler: it adds the returned headers (the
// new ticket or session cookie on success, the forget headers on failure)
// to w's headers, which must not have been written yet, and returns the
// result, nil when the credentials are wrong.
func (a *API) WriteLogin(w http.ResponseWriter, credentials Identity, identifierName string) *Result {
	res, headers := a.Login(credentials, identifierName)
	addHeaders(w.Header(), headers)
	return res
}

// WriteLogout is Logout for a handler: it adds the forget headers to w's
// headers, which must not have been written yet.
func (a *API) WriteLogout(w http.ResponseWriter, identifierName string) {
	addHeaders(w.Header(), a.Logout(identifierName))
}

// SecretKeys returns the identity keys the request's chain masks
// (Middleware.SecretKeys), for a handler that shows an identity without a
// reference to the middleware:
//
//	res.Identity.Masked(who.APIFrom(r).SecretKeys())
//
// Without the middleware (a nil API) it is KeyPassword alone. The slice is
// the caller's.
func (a *API) SecretKeys() []string {
	if a == nil {
		return []string{KeyPassword}
	}
	return a.st.m.SecretKeys()
}

// select_ returns the identifiers named name (all when ""), regardless of
// classification, as repoze.who's login and logout.
func (st *state) select_(name string) []*stageEntry[Identifier] {
	var out []*stageEntry[Identifier]
	for i := range st.m.identifiers {
		if name == "" || st.m.identifiers[i].Name == name {
			out = append(out, &st.m.identifiers[i])
		}
	}
	return out
}

// addNewHeaders adds the values of src that dst does not hold yet: two
// identifiers that share a rememberer (a form plugin remembering through
// auth_tkt, and auth_tkt itself) send each cookie once.
func addNewHeaders(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			if !slices.Contains(dst[k], v) {
				dst.Add(k, v)
			}
		}
	}
}
