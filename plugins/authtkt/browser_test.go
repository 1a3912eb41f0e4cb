package authtkt

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gowho/gowho/internal/browsertest"
	"github.com/gowho/gowho/who"
)

// quotedSite serves /login, which remembers an identity whose token and
// user data hold spaces and "!" (the quoted cookie Remember now writes),
// and /who, which prints what Identify reads back from the cookie the
// client returns.
func quotedSite(t *testing.T) *httptest.Server {
	t.Helper()
	p := mustNew(t, Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		h := p.Remember(r, who.Identity{who.KeyUserID: "alice", who.KeyTokens: []string{"a b", "c"},
			who.KeyUserData: "x y!z", who.KeyMaxAge: 3600})
		if h == nil {
			http.Error(w, "no cookie", http.StatusInternalServerError)
			return
		}
		for _, v := range h.Values("Set-Cookie") {
			w.Header().Add("Set-Cookie", v)
		}
		io.WriteString(w, "set")
	})
	mux.HandleFunc("/who", func(w http.ResponseWriter, r *http.Request) {
		id, err := p.Identify(r)
		if err != nil || id == nil {
			fmt.Fprintf(w, "nobody (%v) cookie=%q", err, r.Header.Get("Cookie"))
			return
		}
		fmt.Fprintf(w, "%s|%s|%s|%v", id.Str(KeyTicketUserID), strings.Join(id[who.KeyTokens].([]string), ","),
			id.Str(who.KeyUserData), id[who.KeyMaxAge])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const quotedWant = "alice|a b,c|x y!z|3600"

// TestQuotedCookieGoClient: Go's cookie jar stores the quoted ticket with
// spaces and "!" that Remember writes and sends it back so that Identify
// reads the same fields (Go quotes a value with a space when it sends it).
func TestQuotedCookieGoClient(t *testing.T) {
	t.Parallel()
	srv := quotedSite(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	for _, path := range []string{"/login", "/who"} {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/who" && string(b) != quotedWant {
			t.Fatalf("Go's cookie jar returned a ticket read as %q, want %q", b, quotedWant)
		}
	}
}

// TestBrowserQuotedCookie: headless Chromium stores the same quoted
// ticket and returns it so that Identify reads the same fields: the
// spaces and "!" a reissue now keeps survive a real browser.
func TestBrowserQuotedCookie(t *testing.T) {
	ctx := browsertest.Start(t, 2*time.Minute)
	srv := quotedSite(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/login"), chromedp.Navigate(srv.URL+"/who")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(got) != quotedWant {
		t.Fatalf("Chromium returned a ticket read as %q, want %q", got, quotedWant)
	}
}
