package memcached_test

import (
	"errors"
	"fmt"

	"github.com/gowho/gowho/plugins/memcached"
	"github.com/gowho/gowho/who"
)

// A cache key without the password would let any password in: New refuses
// it unless AllowPasswordlessKeys says it is meant.
func ExampleNew() {
	_, err := memcached.New(memcached.Options{
		MemcachedURLs:     who.Words{"127.0.0.1:11211"},
		AuthenticatorName: "ldap",
		KeyItems:          who.Words{who.KeyLogin},
		Secret:            "shared by every server",
	})
	fmt.Println(errors.Is(err, memcached.ErrPasswordlessKey))

	c, err := memcached.New(memcached.Options{
		MemcachedURLs:     who.Words{"127.0.0.1:11211"},
		AuthenticatorName: "ldap",
		Secret:            "shared by every server",
	})
	fmt.Println(err, c.References())
	// Output:
	// true
	// <nil> [{authenticator_name ldap}]
}
