package who

import (
	"net/http"
	"strings"
)

// Classifications the DefaultClassifier returns.
const (
	ClassBrowser = "browser"
	ClassDAV     = "dav"
	ClassXMLPost = "xmlpost"
)

// ClassifierWords is an optional interface of a Classifier plugin:
// ClassificationWords lists every classification its Classify can return.
// A loader then rejects a stage entry naming any other word, which would
// never run ("basicauth;brwoser"), with a did-you-mean. A classifier that
// does not implement it may return any word, and every word is accepted.
type ClassifierWords interface {
	ClassificationWords() []string
}

// DefaultClassifierWords lists the classifications DefaultClassifier
// returns: browser, dav and xmlpost.
func DefaultClassifierWords() []string {
	return []string{ClassBrowser, ClassDAV, ClassXMLPost}
}

// isDAVMethod reports whether method is one of repoze.who's WebDAV
// methods (a switch: no map hashing on every request).
func isDAVMethod(method string) bool {
	switch method {
	case "OPTIONS", "PROPFIND", "PROPPATCH", "MKCOL", "LOCK", "UNLOCK",
		"TRACE", "DELETE", "COPY", "MOVE":
		return true
	}
	return false
}

var davUserAgents = []string{
	"Microsoft Data Access Internet Publishing Provider",
	"WebDrive",
	"Zope External Editor",
	"WebDAVFS",
	"Goliath",
	"neon",
	"davlib",
	"wsAPI",
	"Microsoft-WebDAV",
}

// DefaultClassifier is repoze.who's default_request_classifier: "dav" for
// WebDAV methods and the user agents of known WebDAV clients (a substring
// match, as the original), "xmlpost" for a POST whose Content-Type starts
// with text/xml, otherwise "browser".
func DefaultClassifier(r *http.Request) string {
	if isDAVMethod(r.Method) {
		return ClassDAV
	}
	// r.Header[k] with k canonical is what r.UserAgent and Header.Get read,
	// without canonicalizing k on every request.
	if ua := firstHeader(r.Header, "User-Agent"); ua != "" {
		for _, s := range davUserAgents {
			if strings.Contains(ua, s) {
				return ClassDAV
			}
		}
	}
	if r.Method == http.MethodPost {
		ct := firstHeader(r.Header, "Content-Type")
		if len(ct) >= 8 && strings.EqualFold(ct[:8], "text/xml") {
			return ClassXMLPost
		}
	}
	return ClassBrowser
}

// DefaultDecider is repoze.who's default challenge decider: a 401 is a
// challenge.
func DefaultDecider(_ *http.Request, status int, _ http.Header) bool {
	return status == http.StatusUnauthorized
}

// PassthroughDecider challenges only a 401 that carries no
// WWW-Authenticate header and whose Content-Type is not text/html: an
// application that answers its own 401s is left alone.
func PassthroughDecider(_ *http.Request, status int, h http.Header) bool {
	if status != http.StatusUnauthorized {
		return false
	}
	if h.Get("Www-Authenticate") != "" {
		return false
	}
	return !strings.HasPrefix(strings.ToLower(h.Get("Content-Type")), "text/html")
}

// firstHeader is h.Get(key) for a key already in canonical form.
func firstHeader(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}
