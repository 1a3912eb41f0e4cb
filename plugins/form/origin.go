package form

import (
	"net/url"

	"github.com/gowho/gowho/internal/origin"
)

// selfAction returns the path and query the form-on-challenge form posts
// to: the request's own path with flag=true added to its query. The path
// is written so that every URL parser (a browser's WHATWG one included)
// resolves it on the page's own origin: bytes a browser strips or
// reinterprets (controls, space, backslash, non-ASCII) are %-encoded, dot
// segments are resolved as a browser would resolve them, and leading
// slashes collapse into one, so "//evil/x", "/\evil", "/.//evil" or a path
// with a tab become "/evil/x", "/%5Cevil", "/evil", never a reference with
// an authority.
func selfAction(u *url.URL, flag string) string {
	p := origin.LocalPath(u.EscapedPath()) // never u.Opaque
	q := u.Query()
	q.Set(flag, "true")
	return p + "?" + q.Encode()
}
