package ldap

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// FuzzLoginEscaping checks that any login, put into the search filter and
// the bind DN template, stays one value: the filter is one equality match
// on uid with exactly the login, and the DN's first RDN is uid=LOGIN.
func FuzzLoginEscaping(f *testing.F) {
	for _, s := range []string{"alice", "*)(uid=*", "admin)(|(uid=*", "a\x00b", `\`, "a,b=c+d", " x ", "#x", "é", "\xff"} {
		f.Add(s)
	}
	p, err := New(Options{URL: "ldap://h", BaseDN: "dc=x", BindDNTemplate: "uid=%s,ou=people,dc=x"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, login string) {
		filter := p.userFilter(login)
		pkt, err := goldap.CompileFilter(filter)
		if err != nil {
			t.Fatalf("filter %q does not compile: %v", filter, err)
		}
		if pkt.Tag != goldap.FilterEqualityMatch || len(pkt.Children) != 2 {
			t.Fatalf("filter %q is not one equality match", filter)
		}
		if got := pkt.Children[1].Data.String(); got != login {
			t.Fatalf("filter %q matches %q, not the login %q", filter, got, login)
		}
		if login == "" {
			return
		}
		dn := p.o.BindDNTemplate
		dn = dn[:4] + goldap.EscapeDN(login) + dn[6:]
		d, err := goldap.ParseDN(dn)
		if err != nil {
			return // an unparsable DN is refused by the server: no login
		}
		if len(d.RDNs) != 3 || len(d.RDNs[0].Attributes) != 1 || d.RDNs[0].Attributes[0].Type != "uid" {
			t.Fatalf("login %q changed the DN's structure: %q", login, dn)
		}
	})
}
