package config

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/gowho/gowho/who"
)

// recorder collects what fake plugins did, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// fakeOptions is the option struct of every fake plugin.
type fakeOptions struct {
	// Header: the identifier reads the login from this request header.
	Header string `toml:"header"`
	// Users: the authenticator accepts these logins.
	Users []string `toml:"users"`
	// Refs: the plugin refers to these plugins (a who.Resolver).
	Refs []string `toml:"refs"`
	// Secret is required when Need is true.
	Secret string       `toml:"secret"`
	Need   bool         `toml:"need_secret"`
	TTL    who.Duration `toml:"ttl"`
	Count  int          `toml:"count"`
	Ratio  float64      `toml:"ratio"`
	TLS    struct {
		CAFile string `toml:"ca_file"`
		Verify bool   `toml:"verify"`
	} `toml:"tls"`
	Servers []struct {
		Addr string `toml:"addr"`
	} `toml:"servers"`
	Attrs map[string]string `toml:"attrs"`
	// Invalid makes Validate fail.
	Invalid bool `toml:"invalid"`
	// ResolveFail makes Resolve fail with an OptionError on "refs".
	ResolveFail bool `toml:"resolve_fail"`
	// Class: the classifier returns it for every request.
	Class string `toml:"class"`
}

// fake is every kind of plugin at once, trimmed by the wrappers below.
type fake struct {
	name string
	o    fakeOptions
	dir  string
	rec  *recorder
}

func (f *fake) Identify(r *http.Request) (who.Identity, error) {
	f.rec.add("identify " + f.name)
	if f.o.Header == "" {
		return nil, nil
	}
	v := r.Header.Get(f.o.Header)
	if v == "" {
		return nil, nil
	}
	return who.Identity{who.KeyLogin: v}, nil
}

func (f *fake) Authenticate(r *http.Request, id who.Identity) (string, error) {
	f.rec.add("authenticate " + f.name)
	login, _ := id[who.KeyLogin].(string)
	for _, u := range f.o.Users {
		if u == login {
			return login + "@" + f.name, nil
		}
	}
	return "", nil
}

func (f *fake) AddMetadata(r *http.Request, id who.Identity) error {
	f.rec.add("metadata " + f.name)
	id["md_"+f.name] = true
	return nil
}

func (f *fake) Challenge(r *http.Request, status int, app, forget http.Header) http.Handler {
	f.rec.add("challenge " + f.name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Challenger", f.name)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

func (f *fake) Close() error {
	f.rec.add("close " + f.name)
	return nil
}

func (f *fake) References() []who.Reference {
	var refs []who.Reference
	for _, r := range f.o.Refs {
		refs = append(refs, who.Reference{Key: "refs", Name: r})
	}
	return refs
}

func (f *fake) Resolve(all map[string]any) error {
	f.rec.add("resolve " + f.name)
	if f.o.ResolveFail {
		return &who.OptionError{Key: "refs", Err: errors.New("cannot use that plugin")}
	}
	for _, r := range f.o.Refs {
		if _, ok := all[r]; !ok {
			return errors.New("missing " + r)
		}
	}
	return nil
}

func (f *fake) Validate() error {
	f.rec.add("validate " + f.name)
	if f.o.Invalid {
		return errors.New("fake: invalid")
	}
	return nil
}

func (f *fake) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Outer", f.name)
		next.ServeHTTP(w, r)
	})
}

func (f *fake) Classify(r *http.Request) string { return f.o.Class }

func (f *fake) IsChallenge(r *http.Request, status int, h http.Header) bool {
	return status == http.StatusTeapot
}

// Wrappers exposing only some interfaces (plus Close, so close order
// can be checked everywhere).
type (
	identifier    struct{ f *fake }
	authenticator struct{ f *fake }
	challenger    struct{ f *fake }
	mdprovider    struct{ f *fake }
	resolver      struct{ f *fake }
	outer         struct{ f *fake }
	classifier    struct{ f *fake }
	decider       struct{ f *fake }
	idchallenger  struct{ f *fake }
)

func (p identifier) Identify(r *http.Request) (who.Identity, error) { return p.f.Identify(r) }
func (p identifier) Close() error                                   { return p.f.Close() }
func (p authenticator) Authenticate(r *http.Request, id who.Identity) (string, error) {
	return p.f.Authenticate(r, id)
}
func (p authenticator) Close() error { return p.f.Close() }
func (p challenger) Challenge(r *http.Request, s int, a, f http.Header) http.Handler {
	return p.f.Challenge(r, s, a, f)
}
func (p challenger) Close() error { return p.f.Close() }
func (p mdprovider) AddMetadata(r *http.Request, id who.Identity) error {
	return p.f.AddMetadata(r, id)
}
func (p mdprovider) Close() error { return p.f.Close() }
func (p resolver) Authenticate(r *http.Request, id who.Identity) (string, error) {
	return p.f.Authenticate(r, id)
}
func (p resolver) References() []who.Reference       { return p.f.References() }
func (p resolver) Resolve(all map[string]any) error  { return p.f.Resolve(all) }
func (p resolver) Validate() error                   { return p.f.Validate() }
func (p resolver) Close() error                      { return p.f.Close() }
func (p outer) Wrap(next http.Handler) http.Handler  { return p.f.Wrap(next) }
func (p outer) Close() error                         { return p.f.Close() }
func (p classifier) Classify(r *http.Request) string { return p.f.Classify(r) }
func (p decider) IsChallenge(r *http.Request, s int, h http.Header) bool {
	return p.f.IsChallenge(r, s, h)
}
func (p idchallenger) Identify(r *http.Request) (who.Identity, error) { return p.f.Identify(r) }
func (p idchallenger) Challenge(r *http.Request, s int, a, f http.Header) http.Handler {
	return p.f.Challenge(r, s, a, f)
}

// testRegistry registers the fakes in a fresh registry.
func testRegistry(rec *recorder) *who.Registry {
	reg := who.NewRegistry()
	mk := func(wrap func(*fake) any) who.Factory {
		return func(spec who.PluginSpec) (any, error) {
			f := &fake{name: spec.Name, dir: spec.Dir, rec: rec}
			if err := spec.Decode(&f.o); err != nil {
				return nil, err
			}
			if f.o.Need && f.o.Secret == "" {
				return nil, &who.OptionError{Key: "secret", Err: errors.New("is required")}
			}
			rec.add("build " + spec.Name)
			return wrap(f), nil
		}
	}
	reg.Register("all", mk(func(f *fake) any { return f }), "repoze.who.plugins.fake:make_plugin")
	reg.Register("ident", mk(func(f *fake) any { return identifier{f} }))
	reg.Register("auth", mk(func(f *fake) any { return authenticator{f} }))
	reg.Register("chall", mk(func(f *fake) any { return challenger{f} }))
	reg.Register("md", mk(func(f *fake) any { return mdprovider{f} }))
	reg.Register("ref", mk(func(f *fake) any { return resolver{f} }))
	reg.Register("outer", mk(func(f *fake) any { return outer{f} }))
	reg.Register("classifier", mk(func(f *fake) any { return classifier{f} }))
	reg.Register("decider", mk(func(f *fake) any { return decider{f} }))
	reg.Register("idchall", mk(func(f *fake) any { return idchallenger{f} }))
	reg.Register("nodecode", func(spec who.PluginSpec) (any, error) {
		rec.add("build " + spec.Name)
		return identifier{&fake{name: spec.Name, rec: rec}}, nil
	})
	reg.Register("failing", func(spec who.PluginSpec) (any, error) {
		var o fakeOptions
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		return nil, errors.New("failing: backend unreachable")
	})
	reg.Register("failsearly", func(who.PluginSpec) (any, error) {
		return nil, errors.New("failsearly: not available in this build")
	})
	reg.Register("panics", func(spec who.PluginSpec) (any, error) { panic("boom") })
	reg.RegisterClassifier("always-dav", func(*http.Request) string { return who.ClassDAV })
	reg.RegisterDecider("teapot", func(_ *http.Request, s int, _ http.Header) bool { return s == http.StatusTeapot })
	return reg
}

func env(vars ...string) func(string) (string, bool) {
	m := map[string]string{}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}
