package oidc

import (
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/plugins/sessionid"
	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// TestBackchannelRememberer: with backchannel_logout_path, the loader
// warns (who check counts it; -strict refuses it) when the rememberer
// keeps the login outside the sessions a back-channel logout ends (an
// auth_tkt cookie, a sessionid over another session manager): the
// provider's logout would remove the tokens and leave the user logged in.
// A sessionid over session_name, or no back-channel logout, is quiet.
// Before, nothing said so, and the login outlived the provider's logout.
func TestBackchannelRememberer(t *testing.T) {
	const base = `
[plugin.sessions]
use = "session"
store = "memory"
[plugin.other]
use = "session"
store = "memory"
cookie_name = "other"
[plugin.tkt]
use = "authtkt"
secret = "oidc-rememberer-test-secret-0123456789"
[plugin.sid]
use = "sessionid"
session_name = "sessions"
[plugin.othersid]
use = "sessionid"
session_name = "other"
key_name = "other.identity"
[plugin.corp]
use = "oidc"
issuer = "http://127.0.0.1:1/never-contacted"
client_id = "gowho"
session_name = "sessions"
`
	tests := []struct {
		name, extra string
		warn        bool
	}{
		{"sessionid over session_name", "rememberer_name = \"sid\"\nbackchannel_logout_path = \"/bc\"\n", false},
		{"auth_tkt", "rememberer_name = \"tkt\"\nbackchannel_logout_path = \"/bc\"\n", true},
		{"sessionid over another manager", "rememberer_name = \"othersid\"\nbackchannel_logout_path = \"/bc\"\n", true},
		{"auth_tkt without back-channel logout", "rememberer_name = \"tkt\"\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := whotest.Logger(t)
			toml := base + tc.extra + "[identifiers]\nplugins = [\"corp\", \"sid\", \"othersid\", \"tkt\"]\n[authenticators]\nplugins = [\"corp\", \"sid\", \"othersid\", \"tkt\"]\n[challengers]\nplugins = [\"corp\"]\n"
			chain, err := config.Parse("who.toml", []byte(toml), config.Options{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			defer chain.Close()
			got := strings.Count(logs.String(), MsgBackchannelRememberer)
			if want := map[bool]int{true: 1, false: 0}[tc.warn]; got != want {
				t.Fatalf("%d warnings %q, want %d; logs:\n%s", got, MsgBackchannelRememberer, want, logs.String())
			}
			if tc.warn && (!strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "sessionid plugin over session_name")) {
				t.Errorf("the warning does not name the fix:\n%s", logs.String())
			}
		})
	}

	// Go users passing the plugins themselves get the same warning.
	sm, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	sid, err := sessionid.New(sessionid.Options{Manager: sm})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rem  who.Rememberer
		warn bool
	}{{"nopRem", nopRem{}, true}, {"sessionid", sid, false}} {
		logger, logs := whotest.Logger(t)
		o := Options{Issuer: "https://idp.example", ClientID: "c", Rememberer: tc.rem, SessionManager: sm, BackchannelLogoutPath: "/bc", Logger: logger}
		if _, err := New(o); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), MsgBackchannelRememberer); got != tc.warn {
			t.Errorf("New with %s: warned %v, want %v:\n%s", tc.name, got, tc.warn, logs.String())
		}
	}
}
