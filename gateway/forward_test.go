package gateway

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// identity is what a forward-auth 200 tells the proxy.
func identity(resp *http.Response) string {
	return resp.Header.Get("X-Remote-User") + "|" + resp.Header.Get("X-Remote-Mail") + "|" + resp.Header.Get("X-Remote-Groups")
}

// The requests nginx's auth_request sends with the documented snippet
// (proxy_set_header X-Original-URI $request_uri, X-Original-Method
// $request_method, Host $host, X-Forwarded-Proto $scheme): a challenge is
// a 401 (with the form's URL in X-Who-Location for a browser, Basic's
// WWW-Authenticate for an API client), never a redirect nginx would turn
// into a 500.
func TestForwardAuthNginx(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	nginx := func(method, uri string, more ...string) []string {
		return append([]string{"Host: app.example", "X-Original-URI: " + uri, "X-Original-Method: " + method,
			"X-Forwarded-Proto: https", "X-Forwarded-For: 203.0.113.9"}, more...)
	}
	// The form's came_from is the original request URI (it sends the
	// browser back on the same site); the redirector's is absolute.
	cameFrom := url.QueryEscape("/admin/x?a=1")
	tests := []struct {
		name     string
		headers  []string
		status   int
		identity string
		location string // X-Who-Location
		basic    bool   // WWW-Authenticate: Basic
	}{
		{"anonymous browser", nginx("GET", "/admin/x?a=1", acceptHTML), 401, "||", "/_who/login?came_from=" + cameFrom, false},
		{"anonymous API client", nginx("GET", "/admin/x?a=1"), 401, "||", "", true},
		{"member", nginx("GET", "/admin/x", basicAlice), 200, "alice|alice@example.com|admins,staff", "", false},
		{"non-member", nginx("GET", "/admin/x", basicBob), 403, "||", "", false},
		{"public anonymous", nginx("GET", "/public/page"), 200, "||", "", false},
		{"public logged in", nginx("GET", "/public/page", basicBob), 200, "bob|bob@example.com|staff", "", false},
		{"dot segments", nginx("GET", "/public/../admin", basicBob), 403, "||", "", false},
		{"method rule", nginx("POST", "/api/x"), 401, "||", "", true},
		{"method rule GET", nginx("GET", "/api/x"), 200, "||", "", false},
		{"bad password", nginx("GET", "/x", "Authorization: Basic YWxpY2U6eA=="), 401, "||", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := f.do(t, "GET", "/_who/auth", tt.headers...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := identity(resp); got != tt.identity {
				t.Errorf("identity %q, want %q", got, tt.identity)
			}
			if got := resp.Header.Get(LocationHeader); !strings.HasPrefix(got, tt.location) || (tt.location == "") != (got == "") {
				t.Errorf("%s = %q, want %q", LocationHeader, got, tt.location)
			}
			if resp.Header.Get("Location") != "" {
				t.Errorf("Location %q sent to nginx", resp.Header.Get("Location"))
			}
			if got := strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic"); got != tt.basic {
				t.Errorf("WWW-Authenticate %q, want Basic: %v", resp.Header.Get("WWW-Authenticate"), tt.basic)
			}
		})
	}
}

// The requests Traefik's forwardAuth and Caddy's forward_auth send
// (X-Forwarded-Method, -Proto, -Host, -Uri, -For; the original Cookie and
// Authorization): the chain's challenge itself, a 302 to the form with
// came_from = the original URL for a browser, a Basic 401 for an API
// client. Envoy's ext_authz (the original path below auth_path, the Host
// and X-Forwarded-Proto of the original) is answered the same way.
func TestForwardAuthTraefikCaddyEnvoy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	traefik := func(method, uri string, more ...string) (string, []string) {
		return "/_who/auth", append([]string{"X-Forwarded-Method: " + method, "X-Forwarded-Proto: https",
			"X-Forwarded-Host: app.example", "X-Forwarded-Uri: " + uri, "X-Forwarded-For: 203.0.113.9"}, more...)
	}
	caddy := func(method, uri string, more ...string) (string, []string) {
		// Caddy's forward_auth: X-Forwarded-Method and -Uri, and its
		// reverse_proxy's X-Forwarded-For, -Proto, -Host.
		return "/_who/auth", append([]string{"X-Forwarded-Method: " + method, "X-Forwarded-Uri: " + uri,
			"X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https", "X-Forwarded-Host: app.example"}, more...)
	}
	envoy := func(method, uri string, more ...string) (string, []string) {
		return "/_who/auth" + uri, append([]string{"Host: app.example", "X-Forwarded-Proto: https", "X-Forwarded-For: 203.0.113.9"}, more...)
	}
	// The form's came_from is the original request URI (it sends the
	// browser back on the same site); the redirector's is absolute.
	cameFrom := url.QueryEscape("/admin/x?a=1")
	for name, proxy := range map[string]func(string, string, ...string) (string, []string){"traefik": traefik, "caddy": caddy, "envoy": envoy} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tests := []struct {
				name     string
				uri      string
				more     []string
				status   int
				identity string
				location string
			}{
				{"anonymous browser", "/admin/x?a=1", []string{acceptHTML}, 302, "||", "/_who/login?came_from=" + cameFrom},
				{"anonymous API", "/admin/x?a=1", nil, 401, "||", ""},
				{"member", "/admin/x", []string{basicAlice}, 200, "alice|alice@example.com|admins,staff", ""},
				{"non-member", "/admin/x", []string{basicBob}, 403, "||", ""},
				{"public", "/public", nil, 200, "||", ""},
				{"encoded dot segments", "/public/%2e%2e/admin", []string{basicBob}, 403, "||", ""},
			}
			for _, tt := range tests {
				path, headers := proxy("GET", tt.uri, tt.more...)
				resp := f.do(t, "GET", path, headers...)
				if resp.StatusCode != tt.status {
					t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
					continue
				}
				if got := identity(resp); got != tt.identity {
					t.Errorf("%s: identity %q, want %q", tt.name, got, tt.identity)
				}
				if got := resp.Header.Get("Location"); !strings.HasPrefix(got, tt.location) || (tt.location == "") != (got == "") {
					t.Errorf("%s: Location %q, want %q", tt.name, got, tt.location)
				}
				if tt.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("%s: WWW-Authenticate %q", tt.name, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

// From a peer that is not a trusted proxy the forwarding headers are
// never believed: a request naming another one gets 403 (and one warning
// in the log), and one naming none is judged as it came: the auth
// endpoint itself, which needs a login.
func TestForwardAuthUntrustedPeer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, untrusted)
	for _, h := range [][]string{
		{"X-Original-URI: /public", basicBob},
		{"X-Forwarded-Uri: /public", "X-Forwarded-Method: GET"},
		{"X-Forwarded-Method: GET"},
	} {
		resp := f.do(t, "GET", "/_who/auth", h...)
		if resp.StatusCode != http.StatusForbidden || identity(resp) != "||" {
			t.Errorf("%q: status %d identity %q, want 403 and none", h, resp.StatusCode, identity(resp))
		}
	}
	if n := strings.Count(f.log.String(), "not in [general] trusted_proxies"); n != 1 {
		t.Errorf("%d warnings about the untrusted peer, want 1:\n%s", n, f.log.String())
	}
	resp := f.do(t, "GET", "/_who/auth", "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous, no forwarded URI: status %d, want 401", resp.StatusCode)
	}
	resp = f.do(t, "GET", "/_who/auth", basicBob)
	if resp.StatusCode != http.StatusOK || identity(resp) != "bob|bob@example.com|staff" {
		t.Errorf("bob on the endpoint itself: status %d identity %q", resp.StatusCode, identity(resp))
	}
	// A browser's came_from is this request's own URL, not the one the
	// untrusted X-Forwarded-Host names.
	resp = f.do(t, "GET", "/_who/auth", acceptHTML, "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https")
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "evil") || strings.Contains(loc, "https") {
		t.Errorf("Location %q believes the untrusted forwarding headers", loc)
	}
}

// A client's identity headers, in any spelling, never reach the answer.
func TestForwardAuthStripsIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	spoof := []string{"X-Remote-User: mallory", "X_Remote_User: mallory", "x-remote-user: mallory", "X-REMOTE_USER: mallory",
		"X-Remote-Groups: admins", "X_Remote_Groups: admins", "Remote-User: mallory", "Remote_User: mallory", "X-Who-Assertion: forged"}
	resp := f.do(t, "GET", "/_who/auth", append([]string{"X-Forwarded-Uri: /public", "X-Forwarded-Method: GET"}, spoof...)...)
	if resp.StatusCode != 200 || identity(resp) != "||" || resp.Header.Get(AssertionHeader) != "" {
		t.Errorf("status %d identity %q, want 200 anonymous", resp.StatusCode, identity(resp))
	}
	resp = f.do(t, "GET", "/_who/auth", append([]string{"X-Forwarded-Uri: /admin", "X-Forwarded-Method: GET"}, spoof...)...)
	if resp.StatusCode != 401 {
		t.Errorf("spoofed admin: status %d, want 401", resp.StatusCode)
	}
}

// A bad original request is a 400, not a judgement of something else.
func TestForwardAuthBadOriginal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, h := range [][]string{
		{"X-Forwarded-Uri: http://evil.example/x", "X-Forwarded-Method: GET"},
		{"X-Forwarded-Uri: admin", "X-Forwarded-Method: GET"},
		{"X-Original-URI: /x", "X-Original-Method: G E T"},
	} {
		if resp := f.do(t, "GET", "/_who/auth", h...); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", h, resp.StatusCode)
		}
	}
}

// A page a plugin serves itself (the form's, through who.ReplaceHandler)
// is never a forward-auth 200: the proxy would send the request upstream
// unjudged.
func TestForwardAuthReplacedHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, h := range [][]string{
		{"X-Forwarded-Uri: /_who/login", "X-Forwarded-Method: GET", acceptHTML},
		{"X-Original-URI: /_who/login", acceptHTML},
	} {
		resp := f.do(t, "GET", "/_who/auth", h...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%q: status %d, want 403", h, resp.StatusCode)
		}
		if b, _ := io.ReadAll(resp.Body); strings.Contains(string(b), "<form") {
			t.Errorf("%q: the form's page in the answer", h)
		}
	}
}

// parseOriginalURI gives what url.ParseRequestURI gives (with the
// origin-form and control-character checks), on its fast path and off it.
func TestParseOriginalURI(t *testing.T) {
	t.Parallel()
	for _, uri := range parseURISeeds {
		checkParseOriginalURI(t, uri)
	}
}

var parseURISeeds = []string{
	"/", "/x", "/a/b?c=d&e=f", "/a?", "/a??b", "/a?b#c", "/a#b", "//evil.example/x", "///x",
	"/a%2Fb", "/caf%C3%A9", "/a b", "/a\x00", "/a?b\r\n", "/a!b", "/a*(b)'", "/a:b@c;d=e,f$g&h+i~j",
	"x", "", "http://host/x", "*", "/a?\x7f", "/é", "/a?é", "/a?b c", "/%zz", "/a\\b", "/a[b]",
}

func checkParseOriginalURI(t *testing.T, uri string) {
	t.Helper()
	var got url.URL
	ok := parseOriginalURI(uri, &got)
	want, err := url.ParseRequestURI(uri)
	wantOK := err == nil && strings.HasPrefix(uri, "/") && !badHeaderValue(uri)
	if ok != wantOK {
		t.Fatalf("%q: ok %v, want %v (%v)", uri, ok, wantOK, err)
	}
	if ok && (got != *want || got.EscapedPath() != want.EscapedPath() || got.RequestURI() != want.RequestURI()) {
		t.Errorf("%q: %#v, want %#v", uri, got, *want)
	}
}

func FuzzParseOriginalURI(f *testing.F) {
	for _, s := range parseURISeeds {
		f.Add(s)
	}
	f.Fuzz(checkParseOriginalURI)
}

// The login URL given to nginx (X-Who-Location) passes the one redirect
// check, origin.SafeRedirect: a challenge sending the browser to another
// host, or from https to http, gives a plain 401 unless the host is in
// login_hosts.
func TestForwardAuthLoginLocationChecked(t *testing.T) {
	t.Parallel()
	loginAt := func(u string) func(string) string {
		return func(s string) string {
			return strings.Replace(s, `login_form_url = "/_who/login"`, `login_form_url = "`+u+`"`, 1)
		}
	}
	hosts := func(h ...string) func(*Config, *Options) { return func(c *Config, _ *Options) { c.LoginHosts = h } }
	for _, tt := range []struct {
		name     string
		text     func(string) string
		edit     func(*Config, *Options)
		location string // the start of X-Who-Location; "": none
	}{
		{"same site", nil, nil, "/_who/login?came_from="},
		{"same host, absolute", loginAt("https://app.example/_who/login"), nil, "https://app.example/_who/login?came_from="},
		{"another host", loginAt("https://login.example/login"), nil, ""},
		{"another host in login_hosts", loginAt("https://login.example/login"), hosts("login.example"), "https://login.example/login?came_from="},
		{"https to http", loginAt("http://app.example/_who/login"), nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureFile(t, tt.text, tt.edit)
			resp := f.do(t, "GET", "/_who/auth", "Host: app.example", "X-Original-URI: /admin/x", "X-Original-Method: GET",
				"X-Forwarded-Proto: https", acceptHTML)
			if resp.StatusCode != 401 {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			got := resp.Header.Get(LocationHeader)
			if tt.location == "" && got != "" || !strings.HasPrefix(got, tt.location) {
				t.Errorf("%s = %q, want %q...", LocationHeader, got, tt.location)
			}
			if resp.Header.Get("Location") != "" {
				t.Errorf("Location %q sent to nginx", resp.Header.Get("Location"))
			}
		})
	}
}
