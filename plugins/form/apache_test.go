package form_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gowho/gowho/internal/apachetest"
	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/plugins/form"
	"github.com/gowho/gowho/who"
)

type onePassword struct{}

func (onePassword) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	if id.Str(who.KeyLogin) == "alice" && id.Str(who.KeyPassword) == "wonderland" {
		return "alice", nil
	}
	return "", nil
}

// TestApacheSingleSignOn: Apache mod_auth_tkt sends an anonymous browser
// to the gowho login form (TKTAuthLoginURL, back=), the form logs it in,
// and the auth_tkt cookie gowho set opens Apache's protected URL.
func TestApacheSingleSignOn(t *testing.T) {
	tkt, err := authtkt.New(authtkt.Options{Secret: "sso-secret-0123456789abcdef-0123"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := form.New(form.Options{LoginFormURL: "/login", Rememberer: tkt, AllowedHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "form", Plugin: f}, {Name: "auth_tkt", Plugin: tkt}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: tkt}, {Name: "pw", Plugin: onePassword{}}},
		Challengers:    []who.Entry{{Name: "form", Plugin: f}},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(m.Wrap(http.NotFoundHandler()))
	defer gw.Close()
	ap := apachetest.Start(t, apachetest.Options{Secret: "sso-secret-0123456789abcdef-0123", LoginURL: gw.URL + "/login"})
	protected := ap.URL["MD5"] + "/protected-noip/"

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, _ := get(protected)
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(loc, gw.URL+"/login?back=") {
		t.Fatalf("Apache: %d Location %q", resp.StatusCode, loc)
	}
	resp, page := get(loc)
	tok := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)
	cameFrom := regexp.MustCompile(`name="came_from" value="([^"]*)"`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || tok == nil || cameFrom == nil || !strings.Contains(cameFrom[1], "/protected-noip/") {
		t.Fatalf("form: %d %s", resp.StatusCode, page)
	}
	resp, err = c.PostForm(gw.URL+"/login_handler", url.Values{"login": {"alice"}, "password": {"wonderland"}, "_csrf": {tok[1]}, "came_from": {cameFrom[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != cameFrom[1] {
		t.Fatalf("login: %d %q, want a redirect back to %q", resp.StatusCode, resp.Header.Get("Location"), cameFrom[1])
	}
	// Cookies ignore ports: the ticket gowho set goes to Apache too.
	resp, body := get(protected)
	if resp.StatusCode != 200 || !strings.Contains(body, "REMOTE_USER=alice\n") {
		t.Fatalf("Apache after login: %d %s", resp.StatusCode, body)
	}
}
