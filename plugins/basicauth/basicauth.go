package basicauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gowho/gowho/who"
)

// DefaultRealm is the realm used when Options.Realm is empty, as
// repoze.who's make_plugin(realm='basic').
const DefaultRealm = "basic"

// ErrBadRealm is returned (wrapped) by New for a realm holding a control
// character (CR, LF, TAB, DEL, ...), which could split or corrupt the
// WWW-Authenticate header.
var ErrBadRealm = errors.New("basicauth: realm must not contain control characters")

// ErrBadMaxPasswordBytes is returned (wrapped) by New for a negative
// max_password_bytes.
var ErrBadMaxPasswordBytes = errors.New("basicauth: max_password_bytes must not be negative")

// Options configures the plugin. The zero value is usable.
type Options struct {
	// Realm is the realm announced in WWW-Authenticate (key "realm",
	// default "basic"). Backslashes and double quotes are escaped; control
	// characters are refused.
	Realm string `toml:"realm"`
	// MaxPasswordBytes is the longest login and the longest password, in
	// bytes, a header may carry (key "max_password_bytes", default
	// who.DefaultMaxPasswordBytes, 1024). A header with a longer one is
	// no identity, and credentials longer than the base64 of two such
	// fields are not decoded at all.
	MaxPasswordBytes int `toml:"max_password_bytes"`
}

// Plugin is the HTTP Basic identifier, rememberer and challenger. It is
// safe for concurrent use.
type Plugin struct {
	realm       string
	challenge   string // the WWW-Authenticate value
	maxPassword int
}

// New returns the plugin. An empty realm means DefaultRealm; a realm with
// a control character is an error wrapping ErrBadRealm. A zero
// MaxPasswordBytes means who.DefaultMaxPasswordBytes; a negative one is
// an error wrapping ErrBadMaxPasswordBytes.
func New(o Options) (*Plugin, error) {
	if o.MaxPasswordBytes < 0 {
		return nil, fmt.Errorf("%w, got %d", ErrBadMaxPasswordBytes, o.MaxPasswordBytes)
	}
	if o.MaxPasswordBytes == 0 {
		o.MaxPasswordBytes = who.DefaultMaxPasswordBytes
	}
	realm := o.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	for _, c := range []byte(realm) {
		if c < 0x20 || c == 0x7f {
			return nil, fmt.Errorf("%w (found byte %#02x)", ErrBadRealm, c)
		}
	}
	return &Plugin{realm: realm, challenge: "Basic realm=" + quote(realm), maxPassword: o.MaxPasswordBytes}, nil
}

// quote returns s as an HTTP quoted-string.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Realm returns the realm.
func (p *Plugin) Realm() string { return p.realm }

// Identify returns the login and password of a Basic Authorization
// header, or nil when the request has none, uses another scheme, the
// header is malformed (bad base64, no colon, non-ASCII bytes), or its
// login or password is longer than max_password_bytes.
func (p *Plugin) Identify(r *http.Request) (who.Identity, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	login, password, ok := parse(h, p.maxPassword)
	if !ok {
		return nil, nil
	}
	return who.Identity{who.KeyLogin: login, who.KeyPassword: password}, nil
}

// Parse decodes the value of a Basic Authorization header. The scheme is
// case-insensitive; the credentials are split at the first colon, so a
// password may hold colons; each part is UTF-8, or Latin-1 converted to
// UTF-8 when it is not valid UTF-8. It reports false for another scheme, a
// header holding non-ASCII bytes, bad base64 or no colon.
//
// It is lenient only where that is safe: spaces around the credentials
// and missing base64 padding are accepted.
//
// It also reports false when the login or the password is longer than
// who.DefaultMaxPasswordBytes bytes (before any Latin-1 conversion); a
// header too long to hold credentials within that bound is not decoded.
func Parse(header string) (login, password string, ok bool) {
	return parse(header, who.DefaultMaxPasswordBytes)
}

// headerSlack is room for the scheme and the spaces around the
// credentials in a header of bounded length.
const headerSlack = 64

// parse is Parse with max bytes each for the login and the password.
func parse(header string, max int) (login, password string, ok bool) {
	// The longest credentials: base64 of login ":" password.
	maxCred := base64.StdEncoding.EncodedLen(2*max + 1)
	if len(header) > maxCred+headerSlack {
		return "", "", false
	}
	for i := 0; i < len(header); i++ {
		if header[i] >= 0x80 {
			return "", "", false
		}
	}
	scheme, cred, found := strings.Cut(strings.TrimLeft(header, " \t"), " ")
	if !found || !strings.EqualFold(scheme, "basic") {
		return "", "", false
	}
	cred = strings.Trim(cred, " \t")
	if cred == "" || len(cred) > maxCred {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		if strings.ContainsAny(cred, "=\r\n") {
			return "", "", false
		}
		// Padding left out: some clients do that.
		raw, err = base64.RawStdEncoding.DecodeString(cred)
		if err != nil {
			return "", "", false
		}
	}
	l, pw, found := strings.Cut(string(raw), ":")
	if !found || len(l) > max || len(pw) > max {
		return "", "", false
	}
	return text(l), text(pw), true
}

// text returns s when it is valid UTF-8, else s read as Latin-1.
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, rune(s[i]))
	}
	return string(b)
}

// Remember returns nil: the browser resends Basic credentials itself.
func (p *Plugin) Remember(_ *http.Request, _ who.Identity) http.Header { return nil }

// Forget returns the WWW-Authenticate header, as repoze.who: most browsers
// drop cached Basic credentials when they see it on a 401.
func (p *Plugin) Forget(_ *http.Request, _ who.Identity) http.Header {
	return http.Header{"Www-Authenticate": {p.challenge}}
}

// challengeBody is the body of the 401.
const challengeBody = "401 Unauthorized\n\nThis server could not verify that you are authorized to access the document requested.\n"

// Challenge returns a handler answering 401 Unauthorized with
// WWW-Authenticate and the forget headers (without repeating an identical
// WWW-Authenticate). The application's headers are dropped, whatever the
// downstream status was.
func (p *Plugin) Challenge(_ *http.Request, _ int, _, forgetHeaders http.Header) http.Handler {
	h := http.Header{"Www-Authenticate": {p.challenge}}
	for k, vs := range forgetHeaders {
		ck := http.CanonicalHeaderKey(k)
		for _, v := range vs {
			if ck == "Www-Authenticate" && v == p.challenge {
				continue
			}
			h[ck] = append(h[ck], v)
		}
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		dst := w.Header()
		for k, vs := range h {
			dst[k] = append([]string(nil), vs...)
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(challengeBody))
	})
}

// SecretKeys names the one secret of a Basic identity, its password
// (who.KeyPassword): explain, debug logs and errors mask it, and show the
// login.
func (p *Plugin) SecretKeys() []string { return []string{who.KeyPassword} }

var (
	_ who.SecretKeyer = (*Plugin)(nil)
	_ who.Identifier  = (*Plugin)(nil)
	_ who.Rememberer  = (*Plugin)(nil)
	_ who.Challenger  = (*Plugin)(nil)
)
