package who_test

import (
	"net/http"
	"sync/atomic"

	"github.com/gowho/gowho/who"
)

// idFunc is an Identifier (and Rememberer) built from functions.
type idFunc struct {
	identify func(r *http.Request) (who.Identity, error)
	remember func(r *http.Request, id who.Identity) http.Header
	forget   func(r *http.Request, id who.Identity) http.Header
}

func (f *idFunc) Identify(r *http.Request) (who.Identity, error) { return f.identify(r) }
func (f *idFunc) Remember(r *http.Request, id who.Identity) http.Header {
	if f.remember == nil {
		return nil
	}
	return f.remember(r, id)
}
func (f *idFunc) Forget(r *http.Request, id who.Identity) http.Header {
	if f.forget == nil {
		return nil
	}
	return f.forget(r, id)
}

// plainIdentifier is an Identifier that is not a Rememberer.
type plainIdentifier struct{ id who.Identity }

func (p plainIdentifier) Identify(*http.Request) (who.Identity, error) { return p.id.Clone(), nil }

// fixedID returns an identifier that always finds id.
func fixedID(id who.Identity) *idFunc {
	return &idFunc{identify: func(*http.Request) (who.Identity, error) { return id.Clone(), nil }}
}

// cookieID finds {login: value of header X-Login} and remembers/forgets with
// Set-Cookie headers, like a ticket identifier.
func cookieID() *idFunc {
	return &idFunc{
		identify: func(r *http.Request) (who.Identity, error) {
			if v := r.Header.Get("X-Login"); v != "" {
				return who.Identity{who.KeyLogin: v}, nil
			}
			return nil, nil
		},
		remember: func(_ *http.Request, id who.Identity) http.Header {
			return http.Header{"Set-Cookie": {"tkt=" + id.Str(who.KeyUserID)}}
		},
		forget: func(*http.Request, who.Identity) http.Header {
			return http.Header{"Set-Cookie": {"tkt=INVALID; Max-Age=0"}}
		},
	}
}

// authFunc is an Authenticator that counts its calls.
type authFunc struct {
	fn    func(id who.Identity) (string, error)
	calls atomic.Int32
}

func (a *authFunc) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	a.calls.Add(1)
	return a.fn(id)
}

// acceptLogin accepts every identity with a login, returning prefix+login.
func acceptLogin(prefix string) *authFunc {
	return &authFunc{fn: func(id who.Identity) (string, error) {
		if l := id.Str(who.KeyLogin); l != "" {
			return prefix + l, nil
		}
		return "", nil
	}}
}

// mdFunc is a MetadataProvider setting key to value.
type mdFunc struct {
	key string
	val any
	err error
}

func (m *mdFunc) AddMetadata(_ *http.Request, id who.Identity) error {
	if m.err != nil {
		return m.err
	}
	id[m.key] = m.val
	return nil
}

// challenger answers with status and a header naming it, or declines.
type challenger struct {
	name    string
	decline bool
	seen    struct {
		status        int
		app, forgeted http.Header
	}
}

func (c *challenger) Challenge(_ *http.Request, status int, app, forget http.Header) http.Handler {
	c.seen.status, c.seen.app, c.seen.forgeted = status, app, forget
	if c.decline {
		return nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, vs := range forget {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("X-Challenger", c.name)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("challenged by " + c.name))
	})
}

func entries(names ...any) []who.Entry {
	var out []who.Entry
	for i := 0; i < len(names); i += 2 {
		out = append(out, who.Entry{Name: names[i].(string), Plugin: names[i+1]})
	}
	return out
}
