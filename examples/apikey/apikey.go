// Package apikey is the custom plugin of docs/writing-plugins.md: an
// identifier and authenticator for API keys sent in a request header.
//
//	[plugin.apikey]
//	use = "apikey"
//	header = "X-API-Key"
//	keys = { "k-3f9a" = "alice" }
package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/gowho/gowho/who"
)

// Options are the plugin's who.toml keys.
type Options struct {
	// Header is the request header that carries the key (key "header",
	// default "X-API-Key").
	Header string `toml:"header"`
	// Keys maps each API key to its userid (key "keys", required).
	Keys map[string]string `toml:"keys"`
}

// Plugin finds an API key in a header and authenticates it.
type Plugin struct {
	header string
	keys   map[[32]byte]string // SHA-256 of the key -> userid
}

// keyItem is the identity key the identifier fills; a private name, so the
// authenticator only accepts identities this plugin produced.
const keyItem = "apikey.key"

// New checks o and returns the plugin.
func New(o Options) (*Plugin, error) {
	if o.Header == "" {
		o.Header = "X-API-Key"
	}
	if len(o.Keys) == 0 {
		return nil, &who.OptionError{Key: "keys", Err: errors.New("is required: map each API key to a userid")}
	}
	p := &Plugin{header: o.Header, keys: make(map[[32]byte]string, len(o.Keys))}
	for k, user := range o.Keys {
		p.keys[sha256.Sum256([]byte(k))] = user
	}
	return p, nil
}

// Identify returns the key found in the header, or nil.
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	k := r.Header.Get(p.header)
	if k == "" {
		return nil, nil
	}
	return who.Identity{keyItem: k}, nil
}

// Authenticate returns the key's userid, or "" for an unknown key or an
// identity another plugin produced.
func (p *Plugin) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	k, ok := id[keyItem].(string)
	if !ok {
		return "", nil
	}
	sum := sha256.Sum256([]byte(k))
	for known, user := range p.keys { // compare every key, in constant time
		if subtle.ConstantTimeCompare(sum[:], known[:]) == 1 {
			return user, nil
		}
	}
	return "", nil
}

// SecretKeys names the identity key holding the client's API key, so who
// explain, the debug log and /whoami print it masked.
func (p *Plugin) SecretKeys() []string { return []string{keyItem} }

func init() {
	who.Register("apikey", func(spec who.PluginSpec) (any, error) {
		var o Options
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		return New(o)
	})
	// Declared, so a who.toml listing apikey under a stage it does not
	// serve is told so even when its options fail to build.
	who.RegisterKind("apikey", (*Plugin)(nil))
}

// Compile-time checks that the plugin serves both stages and declares its
// secret.
var (
	_ who.Identifier    = (*Plugin)(nil)
	_ who.Authenticator = (*Plugin)(nil)
	_ who.SecretKeyer   = (*Plugin)(nil)
)
