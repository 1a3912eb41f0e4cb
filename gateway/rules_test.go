package gateway

import (
	"strings"
	"testing"

	"github.com/gowho/gowho/who"
)

func rulesConfig(t *testing.T) *Config {
	t.Helper()
	c := &Config{Rules: []Rule{
		{Path: "/public", Access: AccessPublic},
		{Path: "/admin", Groups: []string{"admins"}},
		{Path: "/api/", Methods: []string{"get"}, Access: AccessPublic},
		{Path: "/static/", Access: AccessPublic},
	}}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	return c
}

// The rules, path tricks included: no spelling of a protected path is
// judged by a public rule.
func TestRules(t *testing.T) {
	t.Parallel()
	c := rulesConfig(t)
	alice := &who.Result{UserID: "alice", Identity: who.Identity{"groups": []string{"admins"}}}
	bob := &who.Result{UserID: "bob", Identity: who.Identity{"groups": []any{"staff"}}}
	tests := []struct {
		method, path string
		res          *who.Result
		want         Verdict
	}{
		{"GET", "/public", nil, Allow},
		{"GET", "/public/x", nil, Allow},
		{"GET", "/publicity", nil, NeedLogin}, // a prefix is matched by segments
		{"GET", "/", nil, NeedLogin},
		{"GET", "/", bob, Allow},
		{"GET", "/admin", nil, NeedLogin},
		{"GET", "/admin/x", bob, Forbidden},
		{"GET", "/admin/x", alice, Allow},
		{"GET", "/administrator", bob, Allow}, // not /admin: the default
		{"GET", "/api/users", nil, Allow},
		{"get", "/api/users", nil, Allow},  // methods fold case, as upstreams read them
		{"HEAD", "/api/users", nil, Allow}, // a GET rule covers HEAD
		{"POST", "/api/users", nil, NeedLogin},
		{"GET", "/api", nil, Allow},
		{"GET", "/static/app.js", nil, Allow},
		// Dot segments, raw and %-encoded, are resolved first.
		{"GET", "/public/../admin", nil, NeedLogin},
		{"GET", "/public/../admin", bob, Forbidden},
		{"GET", "/public/%2e%2e/admin", bob, Forbidden},
		{"GET", "/public/%2E%2E/admin", bob, Forbidden},
		{"GET", "/public/.%2e/admin", bob, Forbidden},
		{"GET", "/static/../../admin", bob, Forbidden},
		{"GET", "/./admin", bob, Forbidden},
		{"GET", "//admin", bob, Forbidden},
		{"GET", "/public//../admin", bob, Forbidden}, // merged slashes: /admin
		{"GET", "/admin//../public", bob, Forbidden}, // unmerged: /admin/public
		// What an upstream decoding before routing sees counts too.
		{"GET", "/public%2F..%2Fadmin", bob, Forbidden},
		{"GET", "/public%2f%2e%2e%2fadmin", bob, Forbidden},
		{"GET", "/public/..;/admin", bob, Forbidden}, // Tomcat, Jetty
		{"GET", "/public;x/../admin", bob, Forbidden},
		{"GET", `/public\..\admin`, bob, Forbidden}, // IIS
		{"GET", "/public/%5C..%5Cadmin", bob, Forbidden},
		{"GET", "/%61dmin", bob, Forbidden}, // an encoded letter
		{"GET", "/public/a%2Fb", nil, Allow},
		{"GET", "/public/%zz", nil, Allow}, // not decodable: the raw view alone
		// Case-insensitive routers (Express, ASP.NET, IIS) and Windows'
		// trailing dots and spaces: folded views count too.
		{"GET", "/ADMIN/x", bob, Forbidden},
		{"GET", "/Admin", bob, Forbidden},
		{"GET", "/%41dmin", bob, Forbidden},
		{"GET", "/adm%C4%B1n", bob, Forbidden}, // dotless i: "I" to .NET
		{"GET", "/admin./x", bob, Forbidden},
		{"GET", "/admin%20/x", bob, Forbidden},
		{"GET", "/admin.%20./x", bob, Forbidden},
		{"GET", "/public/x./../../admin", bob, Forbidden},
		{"GET", "/PUBLIC/x", nil, NeedLogin}, // strictest: the raw view is no public path
		{"GET", "/public/App.js", nil, Allow},
		{"GET", "/public/x.", nil, Allow},
		{"GET", "", nil, NeedLogin},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			m := c.Match(tt.method, tt.path)
			if got := m.Verdict(tt.res, DefaultGroupsKey); got != tt.want {
				t.Errorf("Verdict = %v, want %v (%s)", got, tt.want, m)
			}
		})
	}
}

// A rule path written %-encoded or in capitals protects the plain
// spelling too (the one-view fast path is not taken for it).
func TestRulesEncodedOrCapitalPath(t *testing.T) {
	t.Parallel()
	c := &Config{Rules: []Rule{{Path: "/%61dmin", Groups: []string{"admins"}}, {Path: "/Private", Groups: []string{"admins"}}}}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	bob := &who.Result{UserID: "bob", Identity: who.Identity{"groups": []string{"staff"}}}
	for _, p := range []string{"/admin/x", "/%61dmin/x", "/private", "/PRIVATE/x", "/Private/x"} {
		if v := c.Match("GET", p).Verdict(bob, DefaultGroupsKey); v != Forbidden {
			t.Errorf("GET %s for bob: %v, want forbidden", p, v)
		}
	}
}

func TestMatchString(t *testing.T) {
	t.Parallel()
	c := rulesConfig(t)
	tests := []struct{ path, want string }{
		{"/admin/x", `rule 2 (path "/admin", groups ["admins"])`},
		{"/public/", `rule 1 (path "/public", public)`},
		{"/x", "no rule: the default, a login is needed"},
		{"/public/a%2F..%2F..%2Fadmin", `rule 1 (path "/public", public) and rule 2 (path "/admin", groups ["admins"]), by the views of the path (raw, decoded, folded, slashes merged or not): every one must allow`},
	}
	for _, tt := range tests {
		if got := c.Match("GET", tt.path).String(); got != tt.want {
			t.Errorf("Match(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"relative auth path", Config{AuthPath: "auth"}, `auth_path: "auth" must start with /`},
		{"dot segment rule", Config{Rules: []Rule{{Path: "/a/../b"}}}, `rule[0].path: "/a/../b" may not hold . or .. segments or //`},
		{"no rule path", Config{Rules: []Rule{{Access: "public"}}}, `rule[0].path: is required`},
		{"bad access", Config{Rules: []Rule{{Path: "/a", Access: "pubic"}}}, `rule[0].access: "pubic": want "public" or "authenticated" (did you mean "public"?)`},
		{"public with groups", Config{Rules: []Rule{{Path: "/a", Access: "public", Groups: []string{"x"}}}}, `rule[0].groups: a public rule has no groups`},
		{"bad method", Config{Rules: []Rule{{Path: "/a", Methods: []string{"GE T"}}}}, `rule[0].methods[0]: "GE T" is not an HTTP method`},
		{"bad upstream", Config{Upstream: "ftp://x"}, `upstream: "ftp://x": want an http:// or https:// URL with a host`},
		{"upstream user", Config{Upstream: "http://u:p@x"}, `upstream: may not hold user info`},
		{"prefix without slash", Config{Prefix: "/_who"}, `prefix: "/_who" must end with /`},
		{"bad user header", Config{UserHeader: "X Remote"}, `user_header: "X Remote" is not a header name`},
		{"password passed", Config{PassIdentity: []string{"password"}}, `pass_identity[0]: the password is never passed on`},
		{"bad pass key", Config{PassIdentity: []string{"a b"}}, `pass_identity[0]: "a b" cannot be a header name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.check()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("check() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPassHeader(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]string{"mail": "X-Remote-Mail", "groups": "X-Remote-Groups", "display_name": "X-Remote-Display-Name", "EMAIL": "X-Remote-Email"} {
		if got := passHeader(k); got != want {
			t.Errorf("passHeader(%q) = %q, want %q", k, got, want)
		}
	}
}
