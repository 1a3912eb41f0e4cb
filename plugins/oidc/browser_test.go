package oidc

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gowho/gowho/internal/browsertest"
)

// In headless Chromium, with the provider on another site (localhost, the
// application on 127.0.0.1, so the flow cookies meet SameSite=Lax as
// across real sites): two tabs start a login together, both stop at the
// provider's page, and each completes, in the opposite order; a reload
// keeps the login; the logout ends it at the provider and here.
func TestBrowserParallelTabs(t *testing.T) {
	ctx := browsertest.Start(t, 2*time.Minute)
	fp := newFakeProvider(t)
	u, _ := url.Parse(fp.srv.URL)
	fp.set(func(fp *fakeProvider) {
		fp.url = "http://localhost:" + u.Port()
		fp.interact = true
	})
	s := newSite(t, siteOptions{session: true}, fp.opts())

	step := func(ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: %v (at %s: %q)\nlogs:\n%s", name, err, loc, body, s.logs.String())
		}
	}
	tabA := ctx
	tabB, cancelB := chromedp.NewContext(ctx)
	defer cancelB()
	step(tabA, "tab a to the provider", chromedp.Navigate(s.srv.URL+"/protected/a?tab=a"), chromedp.WaitVisible(chromedp.ID("continue")))
	step(tabB, "tab b to the provider", chromedp.Navigate(s.srv.URL+"/protected/b?tab=b"), chromedp.WaitVisible(chromedp.ID("continue")))
	bodyHas := func(want string) chromedp.Action[chromedp.Void] {
		return browsertest.WaitTrue(`document.body && document.body.innerText.includes(`+jsString(want)+`)`, "page showing "+want)
	}
	step(tabB, "tab b completes", chromedp.Click(chromedp.ID("continue")), bodyHas("page /protected/b?tab=b user=alice"))
	step(tabA, "tab a completes", chromedp.Click(chromedp.ID("continue")), bodyHas("page /protected/a?tab=a user=alice"))
	step(tabA, "reload keeps the login", chromedp.Reload(), bodyHas("page /protected/a?tab=a user=alice"))

	// Logout from a page of the site: a same-origin POST.
	step(tabA, "logout", chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.createElement("form"); f.method = "post"; f.action = "`+DefaultLogoutPath+`";
		document.body.appendChild(f); f.submit(); })()`), bodyHas("page / user= "))
	step(tabA, "logged out", chromedp.Navigate(s.srv.URL+"/protected/a"), chromedp.WaitVisible(chromedp.ID("continue")))
	loc, err := chromedp.Run(tabA, chromedp.Location())
	if err != nil || !strings.HasPrefix(loc, fp.url+"/authorize?") {
		t.Fatalf("after logout a protected page is at %q (%v), want the provider", loc, err)
	}
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
