package oidc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// A provider down when the site starts stops nothing: logins get the
// "unavailable" page (503, Retry-After) at once, discovery is not retried
// before retry_interval, and once the provider is back, logins work.
func TestProviderDownThenUp(t *testing.T) {
	fp := newFakeProvider(t)
	fp.set(func(fp *fakeProvider) { fp.mode = "down" })
	s := newSite(t, siteOptions{}, fp.opts())
	b := newBrowser(t)
	for range 3 {
		p := b.get(s.srv.URL + "/protected/x")
		if p.status != 503 || !strings.Contains(p.body, htmlEscape(MsgUnavailable)) || p.header.Get("Retry-After") == "" {
			t.Fatalf("provider down: %d %q %v", p.status, p.body, p.header)
		}
	}
	fp.mu.Lock()
	tries := fp.discovered
	fp.mu.Unlock()
	if tries != 1 {
		t.Errorf("discovery tried %d times within retry_interval, want 1", tries)
	}
	if err := s.plugins[0].Check(context.Background()); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "503") {
		t.Errorf("Check while down: %v", err)
	}
	fp.set(func(fp *fakeProvider) { fp.mode = "" })
	// Within retry_interval the last failure stands...
	if p := b.get(s.srv.URL + "/protected/x"); p.status != 503 {
		t.Fatalf("retried before retry_interval: %d", p.status)
	}
	s.clock.Advance(DefaultRetryInterval + time.Second)
	b.login(s)
	if err := s.plugins[0].Check(context.Background()); err != nil {
		t.Errorf("Check once up: %v", err)
	}
}

// A provider that accepts the connection and never answers costs a login
// http_timeout, not a hang.
func TestProviderSlow(t *testing.T) {
	fp := newFakeProvider(t)
	fp.set(func(fp *fakeProvider) { fp.mode = "slow" })
	o := fp.opts()
	o.HTTPTimeout = who.Duration(200 * time.Millisecond)
	s := newSite(t, siteOptions{}, o)
	b := newBrowser(t)
	start := time.Now()
	p := b.get(s.srv.URL + "/protected/x")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a slow provider held the login %s", took)
	}
	if p.status != 503 {
		t.Fatalf("slow provider: %d %q", p.status, p.body)
	}
	if !strings.Contains(s.logs.String(), "discovery failed") {
		t.Errorf("no log line for the failed discovery:\n%s", s.logs.String())
	}
}

// A malformed discovery document, or one for another issuer, is a clear
// error from Check and the unavailable page, never a panic.
func TestProviderMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(fp *fakeProvider)
		want string
	}{
		{"malformed JSON", func(fp *fakeProvider) { fp.mode = "malformed" }, "failed to decode provider discovery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakeProvider(t)
			fp.set(tc.set)
			s := newSite(t, siteOptions{}, fp.opts())
			err := s.plugins[0].Check(context.Background())
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check: %v, want %q", err, tc.want)
			}
			if p := newBrowser(t).get(s.srv.URL + "/protected/x"); p.status != 503 {
				t.Fatalf("login with a malformed provider: %d %q", p.status, p.body)
			}
		})
	}
	t.Run("other issuer", func(t *testing.T) {
		fp := newFakeProvider(t)
		o := fp.opts()
		o.Issuer = fp.srv.URL + "/other"
		p, err := New(withRem(o))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Check(context.Background()); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Check with a wrong issuer: %v", err)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		fp := newFakeProvider(t)
		o := fp.opts()
		fp.srv.Close()
		p, err := New(withRem(o))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Check(context.Background()); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "/.well-known/openid-configuration") {
			t.Fatalf("Check with nothing listening: %v", err)
		}
	})
}
