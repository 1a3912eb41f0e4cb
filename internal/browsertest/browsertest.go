// Package browsertest starts headless Chromium for a test, the one way the
// project's browser tests do it (Debian's chromium, root in CI: no sandbox,
// no background networking on a closed network).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gowho/gowho/internal/testserver"
)

// ChromiumPath is Debian's chromium.
const ChromiumPath = "/usr/bin/chromium"

// Start starts headless Chromium and returns a context for its first tab,
// ending after timeout; t.Cleanup stops the browser. Without chromium the
// test is skipped, or fails when GOWHO_REQUIRE_SERVERS=1.
func Start(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	exe := ChromiumPath
	if _, err := os.Stat(exe); err != nil {
		if p, err := exec.LookPath("chromium"); err == nil {
			exe = p
		} else {
			testserver.Missing(t, "chromium not found at %s: apt-get install -y chromium", ChromiumPath)
		}
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(cancelCtx)
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// WaitTrue waits until the JavaScript expression expr is true in the
// current page, across navigations (a poll inside the page dies when the
// page goes away, so it polls from outside every 50 ms); it fails with
// what, when ctx ends first.
func WaitTrue(expr, what string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			if ok, err := chromedp.Evaluate[bool](expr)(ctx, tg); err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("%s: %w", what, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
