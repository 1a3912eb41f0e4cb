package oidc

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
)

// TestClaimsOnLaterRequests: the claims reach the requests after the
// callback (the page came_from sends the browser back to, and a reload)
// when something keeps them: sessionid's alsopersist, or the plugin
// itself as a metadata provider over its session record, whichever
// rememberer keeps the login. An auth_tkt login without session_name, or
// a sessionid with its default alsopersist and no [mdproviders], keeps the
// userid alone. Before, only the callback's own request had them unless
// alsopersist listed them, and an auth_tkt login never had them again.
func TestClaimsOnLaterRequests(t *testing.T) {
	const claims = "email=alice@example.com groups=[admins staff] name=Alice Liddell"
	none := &[]string{}
	tests := []struct {
		name string
		so   siteOptions
		want string // the claims on the page after login and on a reload
	}{
		{"auth_tkt alone", siteOptions{}, ""},
		{"auth_tkt alone, mdproviders", siteOptions{md: true}, ""},
		{"auth_tkt with session_name, mdproviders", siteOptions{tokens: true, md: true}, claims},
		{"auth_tkt with session_name, no mdproviders", siteOptions{tokens: true}, ""},
		{"sessionid alsopersist the claims", siteOptions{session: true}, claims},
		{"sessionid alsopersist none", siteOptions{session: true, persist: none}, ""},
		{"sessionid alsopersist none, mdproviders", siteOptions{session: true, persist: none, md: true}, claims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakeProvider(t)
			s := newSite(t, tc.so, fp.opts())
			b := newBrowser(t)
			want := "page /protected/start user=alice " + tc.want
			if p := b.follow(s.srv.URL + "/protected/start"); p.status != 200 || p.body != want {
				t.Fatalf("after login: %d %q, want %q", p.status, p.body, want)
			}
			if p := b.get(s.srv.URL + "/protected/start"); p.status != 200 || p.body != want {
				t.Fatalf("reload: %d %q, want %q", p.status, p.body, want)
			}
		})
	}
}

// AddMetadata copies a record's claims only into the identity of the
// user that record's login named, as copies, and leaves the keys the
// identity holds.
func TestAddMetadataOtherUser(t *testing.T) {
	sm, err := session.New(session.Options{Store: memstore.New(memstore.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Issuer: "https://idp.example", ClientID: "c", Rememberer: nopRem{}, SessionManager: sm})
	if err != nil {
		t.Fatal(err)
	}
	groups := []string{"admins"}
	var got []who.Identity
	h := sm.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sm.From(r).Set(p.sessionKey(), map[string]any{recUserID: "alice", recClaims: map[string]any{"email": "alice@example.com", "groups": groups, "other": "x"}}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []who.Identity{{who.KeyUserID: "bob"}, {who.KeyUserID: "alice", "email": "kept@example.com"}, {}} {
			if err := p.AddMetadata(r, id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if len(got) != 3 {
		t.Fatalf("%d identities", len(got))
	}
	if len(got[0]) != 1 {
		t.Errorf("bob's identity got alice's claims: %v", got[0])
	}
	if got[1]["email"] != "kept@example.com" || got[1]["other"] != nil {
		t.Errorf("alice's identity: %v, want email kept and no claim outside `claims`", got[1])
	}
	g, _ := got[1]["groups"].([]string)
	if len(g) != 1 || g[0] != "admins" {
		t.Fatalf("groups %v", got[1]["groups"])
	}
	g[0] = "changed"
	if groups[0] != "admins" {
		t.Error("the identity shares the record's slice")
	}
	if len(got[2]) != 0 {
		t.Errorf("an identity without a userid got %v", got[2])
	}
}
