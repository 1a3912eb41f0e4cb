package redirector

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/who"
)

// DefaultReasonHeader is the response header a handler sets to say why it
// refused (repoze.who's X-Authorization-Failure-Reason).
const DefaultReasonHeader = "X-Authorization-Failure-Reason"

// Options configures the redirector. Each field names its who.toml key and
// default.
type Options struct {
	// LoginURL is where challenges redirect (key "login_url", required).
	// A relative URL is resolved against the request's path.
	LoginURL string `toml:"login_url"`
	// CameFromParam names the query parameter that carries the URL of the
	// refused request (key "came_from_param", default "came_from"; ""
	// leaves it out, as repoze.who's make_plugin default).
	CameFromParam *string `toml:"came_from_param"`
	// ReasonParam names the query parameter that carries the reason the
	// handler gave in ReasonHeader (key "reason_param", default "reason";
	// "" leaves it out).
	ReasonParam *string `toml:"reason_param"`
	// ReasonHeader is the response header holding the reason (key
	// "reason_header", default "X-Authorization-Failure-Reason"). Setting
	// it with reason_param = "" is an error.
	ReasonHeader *string `toml:"reason_header"`
}

// Plugin is the redirecting challenger.
type Plugin struct {
	login        *url.URL
	cameFrom     string
	reasonParam  string
	reasonHeader string
}

var _ who.Challenger = (*Plugin)(nil)

// ErrNoLoginURL is returned by New without a login_url.
var ErrNoLoginURL = errors.New("redirector: login_url is required")

// New checks o and returns the plugin.
func New(o Options) (*Plugin, error) {
	if o.LoginURL == "" {
		return nil, &who.OptionError{Key: "login_url", Err: ErrNoLoginURL}
	}
	u, err := origin.ParseLoginURL(o.LoginURL)
	if err != nil {
		return nil, &who.OptionError{Key: "login_url", Err: fmt.Errorf("redirector: login_url %w", err)}
	}
	p := &Plugin{login: u, cameFrom: "came_from", reasonParam: "reason", reasonHeader: DefaultReasonHeader}
	if o.CameFromParam != nil {
		p.cameFrom = *o.CameFromParam
	}
	if o.ReasonParam != nil {
		p.reasonParam = *o.ReasonParam
	}
	if o.ReasonHeader != nil {
		if *o.ReasonHeader != "" && p.reasonParam == "" {
			return nil, &who.OptionError{Key: "reason_header", Err: errors.New("redirector: reason_header needs reason_param")}
		}
		if *o.ReasonHeader != "" {
			p.reasonHeader = *o.ReasonHeader
		}
	}
	return p, nil
}

// Location returns where a challenge of r redirects: login_url resolved
// against the request path, with its own query parameters first, then
// reason_param (when the reason header is non-empty) and came_from_param.
//
// A login_url without a scheme or host never gives a Location a browser
// reads as another host: a query-only or fragment-only login_url
// ("?login=1") keeps the request's path with its dot segments resolved
// and its leading slashes collapsed into one, so a request for
// "//evil/x" is sent to "/evil/x?login=1", never "//evil/x?login=1".
func (p *Plugin) Location(r *http.Request, appHeaders http.Header) string {
	u := *p.login
	if u.Scheme == "" && u.Host == "" && u.Path == "" {
		esc := origin.LocalPath(r.URL.EscapedPath())
		u.Path, _ = url.PathUnescape(esc)
		u.RawPath = esc
	} else if u.Scheme == "" && u.Host == "" && !strings.HasPrefix(u.Path, "/") {
		base := r.URL.Path
		if base == "" {
			base = "/"
		}
		dir := path.Dir(base)
		if strings.HasSuffix(base, "/") {
			dir = strings.TrimSuffix(base, "/")
		}
		joined := path.Join(dir, u.Path)
		if strings.HasSuffix(u.Path, "/") && !strings.HasSuffix(joined, "/") {
			joined += "/"
		}
		u.Path = joined // cleaned by path.Join: no "//" or dot segment left
		u.RawPath = ""
	}
	q := u.RawQuery
	add := func(k, v string) {
		if q != "" {
			q += "&"
		}
		q += url.QueryEscape(k) + "=" + url.QueryEscape(v)
	}
	if p.reasonParam != "" {
		if reason := appHeaders.Get(p.reasonHeader); reason != "" {
			add(p.reasonParam, reason)
		}
	}
	if p.cameFrom != "" {
		add(p.cameFrom, origin.RequestURL(r))
	}
	u.RawQuery = q
	return u.String()
}

// Challenge redirects (302) to the login URL, sending the forget headers
// and the application's Set-Cookie headers along.
func (p *Plugin) Challenge(r *http.Request, _ int, appHeaders, forgetHeaders http.Header) http.Handler {
	loc := p.Location(r, appHeaders)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Location", loc)
		for k, vs := range forgetHeaders {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		for _, v := range appHeaders.Values("Set-Cookie") {
			h.Add("Set-Cookie", v)
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusFound)
		fmt.Fprintf(w, "<a href=\"%s\">Found</a>.\n", html.EscapeString(loc))
	})
}
