package oidc

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultCallbackPath  = "/oidc/callback"
	DefaultLoginPath     = "/oidc/login"
	DefaultLogoutPath    = "/oidc/logout"
	DefaultUserIDClaim   = "sub"
	DefaultCookiePrefix  = "who_oidc_"
	DefaultFlowTimeout   = 10 * time.Minute
	DefaultHTTPTimeout   = 10 * time.Second
	DefaultRetryInterval = 5 * time.Second
)

// DefaultScopes is the default of Options.Scopes.
var DefaultScopes = []string{"openid", "email", "profile"}

// DefaultClaims is the default of Options.Claims.
var DefaultClaims = []string{"email", "name", "groups"}

// Options configures the oidc plugin: one plugin per provider. Each field
// names its who.toml key and default.
type Options struct {
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration, lazily (key "issuer",
	// required).
	Issuer string `toml:"issuer"`
	// ClientID is this site's client id at the provider (key "client_id",
	// required).
	ClientID string `toml:"client_id"`
	// ClientSecret is the client secret (key "client_secret", default "":
	// a public client, PKCE alone). It is never logged or shown.
	ClientSecret string `toml:"client_secret"`
	// RedirectURL is the absolute URL of the callback registered at the
	// provider (key "redirect_url", default: the request's scheme and
	// host with callback_path). When set, callback_path defaults to its
	// path.
	RedirectURL string `toml:"redirect_url"`
	// Scopes are the scopes asked for; "openid" is always added (key
	// "scopes", default ["openid", "email", "profile"]). Add
	// "offline_access" for a refresh token at most providers.
	Scopes []string `toml:"scopes"`
	// CallbackPath is where the provider sends the browser back (key
	// "callback_path", default "/oidc/callback").
	CallbackPath string `toml:"callback_path"`
	// LoginPath starts a login with this provider: GET
	// LoginPath?came_from=URL (key "login_path", default "/oidc/login").
	// The chooser page links there.
	LoginPath string `toml:"login_path"`
	// LogoutPath logs out here and then at the provider (RP-initiated
	// logout at its end_session_endpoint, with id_token_hint) (key
	// "logout_path", default "/oidc/logout").
	LogoutPath string `toml:"logout_path"`
	// BackchannelLogoutPath receives the provider's back-channel logout
	// POST (key "backchannel_logout_path", default "": off). It needs
	// session_name.
	BackchannelLogoutPath string `toml:"backchannel_logout_path"`
	// PostLoginURL is where a login goes when came_from is absent or
	// unsafe (key "post_login_url", default "/").
	PostLoginURL string `toml:"post_login_url"`
	// PostLogoutURL is where a logout ends: sent to the provider as
	// post_logout_redirect_uri (made absolute) (key "post_logout_url",
	// default "/").
	PostLogoutURL string `toml:"post_logout_url"`
	// RemembererName names the declared plugin that remembers the login
	// (an auth_tkt or sessionid one) (key "rememberer_name", required
	// unless Rememberer is set).
	RemembererName string `toml:"rememberer_name"`
	// SessionName names a declared session manager (use = "session") that
	// keeps the ID token (for logout), the access and refresh tokens (for
	// TokenSource) and the provider's sid (for back-channel logout) (key
	// "session_name", default "": none).
	SessionName string `toml:"session_name"`
	// UserIDClaim is the ID token claim that becomes the userid (key
	// "userid_claim", default "sub").
	UserIDClaim string `toml:"userid_claim"`
	// Claims are the ID token claims copied into the identity under their
	// own names (key "claims", default ["email", "name", "groups"]).
	Claims *[]string `toml:"claims"`
	// AllowedHosts are hosts, besides the request's own, that came_from
	// may point to (key "allowed_hosts", default none).
	AllowedHosts []string `toml:"allowed_hosts"`
	// CookieSecret keys the HMAC of the flow cookies (key "cookie_secret",
	// default: a random key per process, so a login under way across a
	// restart, or across two processes behind one name, must start again;
	// set it when several processes serve one site).
	CookieSecret string `toml:"cookie_secret"`
	// CookiePrefix starts the name of each flow cookie, which ends with
	// the flow's state, so parallel logins in several tabs each keep
	// their own (key "cookie_prefix", default "who_oidc_").
	CookiePrefix string `toml:"cookie_prefix"`
	// Secure decides the Secure attribute of the plugin's cookies (key
	// "secure", default "auto": Secure whenever the request is https as
	// the client saw it, who.RequestOrigin, so behind a proxy listed in
	// [general] trusted_proxies too; true or false force it).
	Secure who.Secure `toml:"secure"`
	// FlowTimeout is how long a login at the provider may take (key
	// "flow_timeout", default "10m").
	FlowTimeout who.Duration `toml:"flow_timeout"`
	// HTTPTimeout bounds every request to the provider (discovery, keys,
	// token exchange) (key "http_timeout", default "10s").
	HTTPTimeout who.Duration `toml:"http_timeout"`
	// RetryInterval is the least time between two discovery attempts
	// after one failed; meanwhile logins get a "provider unavailable"
	// page at once (key "retry_interval", default "5s").
	RetryInterval who.Duration `toml:"retry_interval"`
	// HTMLOnly makes the plugin challenge only requests whose Accept
	// lists text/html (browsers), leaving API clients to the next
	// challenger (key "html_only", default false).
	HTMLOnly bool `toml:"html_only"`
	// Label names the provider on the chooser page (key "label", default
	// the issuer's host).
	Label string `toml:"label"`
	// Choose names other oidc plugins: this plugin's challenge then shows
	// a page to choose among itself and them (key "choose", default none:
	// the challenge goes straight to this provider).
	Choose []string `toml:"choose"`

	// HTTPClient talks to the provider (Go only; default a client with
	// http_timeout). Its Timeout, when zero, is set to http_timeout.
	HTTPClient *http.Client `toml:"-"`
	// Rememberer is used instead of RemembererName (Go only).
	Rememberer who.Rememberer `toml:"-"`
	// SessionManager is used instead of SessionName (Go only).
	SessionManager *session.Manager `toml:"-"`
	// Name is the plugin's name, used in its session key and messages (Go
	// only; the loader passes [plugin.NAME]; default "oidc").
	Name string `toml:"-"`
	// Logger receives provider failures (nil: slog.Default(); the loader
	// passes the plugin's own logger).
	Logger *slog.Logger `toml:"-"`
	// Now is the clock (Go only, for tests; nil: time.Now).
	Now func() time.Time `toml:"-"`
}
