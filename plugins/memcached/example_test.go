package memcached_test

import (
	"errors"
	"fmt"
	"time"

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

// memcached_urls = [] with near_cache_ttl caches verified credentials in
// this process only: no memcached, and no secret needed (one is drawn per
// process). Empty servers without near_cache_ttl would cache nothing.
func ExampleCache_Local() {
	_, err := memcached.New(memcached.Options{
		MemcachedURLs:     who.Words{},
		AuthenticatorName: "htpasswd",
	})
	fmt.Println(errors.Is(err, memcached.ErrNoNearCache))

	c, err := memcached.New(memcached.Options{
		MemcachedURLs:     who.Words{},
		AuthenticatorName: "htpasswd",
		NearCacheTTL:      who.Duration(5 * time.Minute),
	})
	fmt.Println(err, c.Local())
	// Output:
	// true
	// <nil> true
}
