// Package origintest holds what the tests of every redirect and same-origin
// check share: the hostile targets they must refuse and how a browser
// resolves a URL, so each test checks the one rule against the same list.
package origintest

import (
	"net/url"
	"strings"
)

// HostileTargets are redirect targets (came_from values) that leave the
// site, inject a header or run script, in every spelling the tests know:
// a redirect check must answer each with its fallback.
var HostileTargets = []string{
	"//evil.example",
	"//evil.example/path",
	"///evil.example",
	"////evil.example",
	"https:evil.example",
	"https:/evil.example",
	"http:\\\\evil.example",
	"/\\evil.example",
	"\\/evil.example",
	"\\\\evil.example",
	"/%2F/evil.example",
	"/%2f%2fevil.example",
	"%2F%2Fevil.example",
	"/%5Cevil.example",
	"/%5cevil.example",
	"/\r\nLocation: http://evil.example",
	"/%0d%0aSet-Cookie:x=1",
	"/\t/evil.example",
	"/%09/evil.example",
	" //evil.example",
	"\t//evil.example",
	"javascript:alert(1)",
	"JavaScript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"vbscript:msgbox(1)",
	"http://evil.example",
	"https://evil.example/",
	"HTTPS://EVIL.EXAMPLE",
	"https://good.example.evil.example/",
	"https://good.example@evil.example/",
	"https://evil.example@good.example/",
	"http://evil.example%23@good.example/",
	"ftp://good.example/",
	"evil.example",
	"./evil",
	"/ok\x00",
	"/caf\u00e9",
	"http://[::1]evil/",
	"",
	// Dot segments that resolve to "//host".
	"/.//evil.example",
	"/./%2Fevil.example",
	"/.%2F/evil.example",
	"/%2e//evil.example",
	"/%2E//evil.example",
	"/..//evil.example",
	"/%2e%2e//evil.example",
	"/.%2e//evil.example",
	"/a/..//evil.example",
	"/a/%2e%2e//evil.example",
	"/a/b/../..//evil.example?x=1",
	"/././/evil.example#f",
	// A raw "//" names a host before dot segments resolve (found by
	// FuzzSafeRedirect: "///../.." went to the host "..").
	"///../..#",
	"///..",
}

// HostilePaths are request paths (as request-URIs) a link can make a
// browser, a proxy or a router hand the server, in every spelling the
// tests know. Whatever gowho writes back from the request path (the
// form-on-challenge form's action, the redirector's Location for a
// login_url without a host) must stay on the page's own origin for each.
// Some are not request-URIs net/http accepts; tests that parse them skip
// those.
var HostilePaths = []string{
	"//evil.example/x",
	"///evil.example/x",
	"////evil.example",
	"/\\evil.example/x",
	"/\\evil.example",
	"/\\/evil.example",
	"\\\\evil.example",
	"/%2F%2Fevil.example/x",
	"/%2f/evil.example",
	"/%5Cevil.example",
	"/%5C%5Cevil.example",
	"/.//evil.example/x",
	"/./%2F/evil.example",
	"/%2e//evil.example",
	"/%2E%2E//evil.example",
	"/a/..//evil.example",
	"/..//evil.example",
	"/\t/evil.example",
	"/%09/evil.example",
	"\t//evil.example",
	"/\r\n/evil.example",
	"/%0d%0a/evil.example",
	"/\n/evil.example",
	"/\r/evil.example",
	" //evil.example",
	"/%20//evil.example",
	"https://evil.example/x",
	"//evil.example\\@good.example/",
	"/caf\u00e9//evil.example",
	"",
}

// BrowserHost resolves ref against base as a WHATWG URL parser (a
// browser) would for an http(s) base: tabs and newlines removed, leading
// and trailing C0 controls and spaces trimmed, backslashes read as
// slashes. It returns the resolved URL's host.
func BrowserHost(base *url.URL, ref string) (string, error) {
	ref = strings.TrimFunc(ref, func(c rune) bool { return c <= 0x20 })
	ref = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(ref)
	u, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" && strings.HasPrefix(ref, "//") {
		// Special schemes skip any number of slashes before the host.
		rest := strings.TrimLeft(ref, "/")
		host, _, _ := strings.Cut(rest, "/")
		host, _, _ = strings.Cut(host, "?")
		if i := strings.LastIndex(host, "@"); i >= 0 {
			host = host[i+1:]
		}
		return host, nil
	}
	return base.ResolveReference(u).Host, nil
}
