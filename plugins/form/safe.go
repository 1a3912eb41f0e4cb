package form

import (
	"net/http"

	"github.com/gowho/gowho/internal/origin"
)

// SafeRedirect returns target when it is safe to redirect the request r
// there (a path on this site, or an http(s) URL on r.Host or one of
// allowedHosts, never http:// for an HTTPS request), else fallback.
//
// Deprecated: the rule now lives in one internal package, which the form
// plugin applies to came_from itself; this wrapper stays only until
// `who serve`'s demo login page stops calling it.
func SafeRedirect(r *http.Request, target string, allowedHosts []string, fallback string) string {
	return origin.SafeRedirect(r, target, allowedHosts, fallback)
}
