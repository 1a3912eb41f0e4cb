package oidctest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowho/gowho/oidctest/internal/provider"
	"github.com/gowho/gowho/plugins/authtkt"
	oidcplugin "github.com/gowho/gowho/plugins/oidc"
	"github.com/gowho/gowho/plugins/sessionid"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
)

// The gowho site's client at the provider.
const (
	clientID     = "gowho-site"
	clientSecret = "gowho-site-secret"
)

// site is a gowho chain in front of a small application, on loopback:
// oidc (identifier, authenticator, challenger) remembering through
// auth_tkt, with a server session for the ID token (logout) and tokens.
//
//	/          "home USERID" (anonymous allowed)
//	/private   "hello USERID EMAIL", or 401 (the chain challenges: to the provider)
//	/token     the access token from the plugin's TokenSource (refreshed when due)
type site struct {
	URL    string
	OIDC   *oidcplugin.Plugin
	Server *httptest.Server
}

// newSite registers the site's client at p and starts the site, the login
// remembered by auth_tkt; edit may change the plugin's options.
func newSite(t testing.TB, p *provider.Provider, edit func(*oidcplugin.Options)) *site {
	t.Helper()
	return newSiteWith(t, p, "auth_tkt", edit)
}

// newSiteWith is newSite with the rememberer: "auth_tkt" (the login in a
// signed cookie) or "sessionid" (the login in the server session).
func newSiteWith(t testing.TB, p *provider.Provider, rememberer string, edit func(*oidcplugin.Options)) *site {
	t.Helper()
	return newSiteOpts(t, p, siteOptions{Rememberer: rememberer}, edit)
}

// siteOptions are the choices of newSiteOpts.
type siteOptions struct {
	// Rememberer: "auth_tkt" or "sessionid".
	Rememberer string
	// Claims lists the oidc plugin under the metadata providers: every
	// request of a login gets its claims (the email /private shows) from
	// the plugin's session record, as oauth2-proxy gives its upstream the
	// email from its session cookie. Without it /private shows the email
	// only where the identity carries it (none on a cookie check with
	// auth_tkt).
	Claims bool
}

// newSiteOpts is newSite with the choices of so.
func newSiteOpts(t testing.TB, p *provider.Provider, so siteOptions, edit func(*oidcplugin.Options)) *site {
	t.Helper()
	rememberer := so.Rememberer
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p.AddClient(provider.Client{
		ID: clientID, Secret: clientSecret,
		RedirectURIs:           []string{base + oidcplugin.DefaultCallbackPath},
		PostLogoutRedirectURIs: []string{base + "/"},
	})
	tkt, err := authtkt.New(authtkt.Options{Secret: "oidctest-auth_tkt-secret-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	var rem interface {
		who.Identifier
		who.Authenticator
		who.Rememberer
	} = tkt
	if rememberer == "sessionid" {
		sid, err := sessionid.New(sessionid.Options{Manager: sm, DeleteOnLogout: true})
		if err != nil {
			t.Fatal(err)
		}
		rem = sid
	}
	o := oidcplugin.Options{
		Issuer: p.Issuer, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: base + oidcplugin.DefaultCallbackPath,
		Scopes:      []string{"openid", "email", "profile", "offline_access"},
		Rememberer:  rem, SessionManager: sm, Name: "oidc",
	}
	if edit != nil {
		edit(&o)
	}
	pl, err := oidcplugin.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := who.Config{
		Identifiers:    []who.Entry{{Name: "oidc", Plugin: pl}, {Name: rememberer, Plugin: rem}},
		Authenticators: []who.Entry{{Name: "oidc", Plugin: pl}, {Name: rememberer, Plugin: rem}},
		Challengers:    []who.Entry{{Name: "oidc", Plugin: pl}},
	}
	if so.Claims {
		cfg.MetadataProviders = []who.Entry{{Name: "oidc", Plugin: pl}}
	}
	mw, err := who.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "home %s", who.UserID(r.Context()))
	})
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		res := who.ResultFrom(r.Context())
		if res == nil || res.UserID == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		email, _ := res.Identity["email"].(string)
		// The bytes of fmt's "hello %s %s", without fmt: the cookie check
		// measured side by side is the chain's, not fmt's.
		for _, s := range [...]string{"hello ", res.UserID, " ", email} {
			io.WriteString(w, s)
		}
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		ts, err := pl.TokenSource(r)
		if err != nil {
			http.Error(w, "no token source: "+err.Error(), http.StatusForbidden)
			return
		}
		tok, err := ts.Token()
		if err != nil {
			http.Error(w, "no token: "+err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, tok.AccessToken)
	})
	srv.Config.Handler = sm.Wrap(mw.Wrap(mux))
	srv.Start()
	t.Cleanup(srv.Close)
	return &site{URL: base, OIDC: pl, Server: srv}
}

// hello is what /private shows the user with subject sub.
func hello(sub string) string { return "hello " + sub }

func hasHello(body, sub string) bool { return strings.HasPrefix(strings.TrimSpace(body), hello(sub)) }
