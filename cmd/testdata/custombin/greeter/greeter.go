// Package greeter is the plugin of the custom who binary that
// TestCustomBinary builds: an identifier and authenticator that lets in
// the friends who name themselves in a request header. It checks no
// secret: a test plugin, not one to deploy.
//
//	[plugin.greeter]
//	use = "greeter"
//	header = "X-Greeter"
//	friends = ["alice"]
package greeter

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gowho/gowho/who"
)

// Options are the plugin's who.toml keys.
type Options struct {
	// Header is the request header that names the caller (key "header",
	// default "X-Greeter").
	Header string `toml:"header"`
	// Friends are the names let in (key "friends", required).
	Friends []string `toml:"friends"`
}

// Plugin identifies a caller by the name in its header and authenticates
// the friends.
type Plugin struct {
	header  string
	friends []string
}

// nameItem is the identity key the identifier fills.
const nameItem = "greeter.name"

// New checks o and returns the plugin.
func New(o Options) (*Plugin, error) {
	if o.Header == "" {
		o.Header = "X-Greeter"
	}
	if len(o.Friends) == 0 {
		return nil, &who.OptionError{Key: "friends", Err: errors.New("is required: list the names to let in")}
	}
	return &Plugin{header: o.Header, friends: slices.Clone(o.Friends)}, nil
}

// Identify returns the name in the header, or nil.
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	name := r.Header.Get(p.header)
	if name == "" {
		return nil, nil
	}
	return who.Identity{nameItem: name}, nil
}

// Authenticate returns the name of a friend, or "".
func (p *Plugin) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	name, ok := id[nameItem].(string)
	if !ok || !slices.Contains(p.friends, name) {
		return "", nil
	}
	return name, nil
}

var (
	_ who.Identifier    = (*Plugin)(nil)
	_ who.Authenticator = (*Plugin)(nil)
)

func init() {
	who.Register("greeter", func(spec who.PluginSpec) (any, error) {
		var o Options
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		return New(o)
	})
}
