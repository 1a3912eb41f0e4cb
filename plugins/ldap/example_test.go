package ldap_test

import (
	"fmt"

	"github.com/gowho/gowho/plugins/ldap"
)

// New checks the options before any connection: a DN template must hold
// %s exactly once.
func ExampleNew() {
	_, err := ldap.New(ldap.Options{
		URL:            "ldap://127.0.0.1:389",
		BindDNTemplate: "uid=%s,ou=%s,dc=example,dc=org",
	})
	fmt.Println(err)

	p, err := ldap.New(ldap.Options{
		URL:            "ldap://127.0.0.1:389",
		BindDNTemplate: "uid=%s,ou=people,dc=example,dc=org",
		Groups:         ldap.GroupsMemberOf,
	})
	fmt.Println(p != nil, err)
	// Output:
	// bind_dn_template: ldap: must hold %s exactly once, e.g. "uid=%s,ou=people,dc=example,dc=org"
	// true <nil>
}
