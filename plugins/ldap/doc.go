// Package ldap authenticates users against an LDAP directory and adds
// their attributes and groups to the identity, with go-ldap.
//
// Authentication binds as the user: directly, with a DN built from
// bind_dn_template, or after a search under base_dn with a service
// account. Every user value is escaped (RFC 4514 in DNs, RFC 4515 in
// filters); empty passwords are refused before any bind; user binds run on
// their own pooled connections, so the search connections stay bound as
// the service account; StartTLS is redone on every new connection. The
// userid is the directory's canonical value, never what the user typed.
// A directory failure is an error (the chain tries the next
// authenticator), never a "wrong password".
//
// A hung directory cannot pile up work: timeout bounds the whole of each
// call (the wait for a connection included, also when the caller runs it
// detached), max_in_flight calls at most run at once, and after
// backoff_after failures in a row calls fail at once for backoff, then one
// probe goes through. Passwords over max_password_bytes are "no" without a
// bind; equalize_timing makes an unknown login cost a bind too.
//
//	[plugin.ldap]
//	use = "ldap"
//	url = "ldap://127.0.0.1:389"
//	start_tls = true
//	ca_file = "ca.pem"
//	base_dn = "ou=people,dc=example,dc=org"
//	bind_dn = "cn=reader,dc=example,dc=org"
//	bind_password = "${LDAP_READER_PASSWORD}"
//	attributes = ["cn", "mail"]
//	groups = "memberof"
//
// From Go:
//
//	p, err := ldap.New(ldap.Options{
//		URL:            "ldap://127.0.0.1:389",
//		BindDNTemplate: "uid=%s,ou=people,dc=example,dc=org",
//		Attributes:     who.Words{"mail"},
//		Groups:         ldap.GroupsMemberOf,
//	})
package ldap
