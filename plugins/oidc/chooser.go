package oidc

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/gowho/gowho/internal/origin"
)

// Chooser returns a handler that answers a page listing the providers ps,
// each a link to its login_path with came_from: for an application that
// shows its own "log in with" page, or a challenger of its own. A plugin
// with choose set shows this page as its challenge. cameFrom is checked
// with the request (origin.SafeRedirect) when the page is served.
func Chooser(cameFrom string, ps ...*Plugin) http.Handler {
	return chooser(cameFrom, nil, ps)
}

// ChoiceURL returns the path that starts a login with p and comes back to
// cameFrom: login_path?came_from=cameFrom.
func (p *Plugin) ChoiceURL(cameFrom string) string {
	if cameFrom == "" {
		return p.o.LoginPath
	}
	return p.o.LoginPath + "?" + url.Values{FieldCameFrom: {cameFrom}}.Encode()
}

// Label returns the provider's name on the chooser page (label).
func (p *Plugin) Label() string { return p.o.Label }

func chooser(cameFrom string, extra http.Header, ps []*Plugin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addHeaders(w.Header(), extra)
		type choice struct{ Label, URL string }
		var cs []choice
		for _, p := range ps {
			cs = append(cs, choice{p.o.Label, p.ChoiceURL(origin.SafeRedirect(r, cameFrom, p.o.AllowedHosts, ""))})
		}
		pageHeaders(w.Header())
		// 200, as the form's page: a 401 from a handler the chain runs
		// would be challenged again.
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		_ = chooserTmpl.Execute(w, cs)
	})
}

var chooserTmpl = template.Must(template.New("chooser").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Log in</title>
</head>
<body>
<h1>Log in with</h1>
<ul>
{{range $i, $c := .}}<li><a class="provider" id="provider-{{$i}}" href="{{$c.URL}}">{{$c.Label}}</a></li>
{{end}}</ul>
</body>
</html>
`))
