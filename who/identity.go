package who

import (
	"fmt"
	"log/slog"
	"maps"
)

// Well-known Identity keys. They keep repoze.who's names so configurations
// and plugins carry over.
const (
	// KeyLogin is the login name an identifier extracted.
	KeyLogin = "login"
	// KeyPassword is the password an identifier extracted. It is never
	// cached, stored or shown.
	KeyPassword = "password"
	// KeyUserID is the userid the winning authenticator returned.
	KeyUserID = "repoze.who.userid"
	// KeyTokens holds a []string of tokens (auth_tkt).
	KeyTokens = "tokens"
	// KeyUserData holds free-form user data (auth_tkt).
	KeyUserData = "userdata"
	// KeyMaxAge asks a rememberer for a cookie lifetime, in seconds.
	KeyMaxAge = "max_age"
)

// Identity holds what identifiers extract and metadata providers add. It
// holds data only (strings, numbers, bools, lists and maps, never plugin
// values), so it can be cached and stored.
//
// Its String and LogValue methods hide the contents, so an identity that
// reaches a log line or an error message never leaks a password.
type Identity map[string]any

// Str returns the value under key when it is a string, else "".
func (id Identity) Str(key string) string {
	s, _ := id[key].(string)
	return s
}

// Clone returns a shallow copy of the identity (nil for nil).
func (id Identity) Clone() Identity {
	if id == nil {
		return nil
	}
	return maps.Clone(id)
}

// Public returns a copy without the password, for display. It knows
// nothing of the keys plugins declare secret (SecretKeyer): to print an
// identity, prefer id.Masked(m.SecretKeys()), which masks them too.
func (id Identity) Public() Identity {
	if id == nil {
		return nil
	}
	c := make(Identity, len(id))
	for k, v := range id {
		if k != KeyPassword {
			c[k] = v
		}
	}
	return c
}

// String hides the contents: identities hold passwords.
func (id Identity) String() string {
	return fmt.Sprintf("<who.Identity with %d keys (hidden)>", len(id))
}

// LogValue hides the contents from slog.
func (id Identity) LogValue() slog.Value {
	return slog.StringValue(id.String())
}
