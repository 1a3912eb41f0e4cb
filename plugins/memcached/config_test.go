package memcached_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/plugins/memcached"

	_ "github.com/gowho/gowho/plugins/ldap"
)

const tomlBounds = `
[plugin.ldap]
use = "ldap"
url = "ldap://127.0.0.1:1"
bind_dn_template = "uid=%s,ou=people,dc=example,dc=org"

[plugin.cached_ldap]
use = "memcached"
authenticator_name = "ldap"
memcached_urls = ["127.0.0.1:1"]
secret = "s"
call_timeout = "7s"
max_in_flight = 9
backoff_after = 4
max_password_bytes = 100

[authenticators]
plugins = ["cached_ldap", "ldap;unused"]
`

// TestLoadBounds: call_timeout, max_in_flight, backoff_after and
// max_password_bytes are read from who.toml; a negative one is a load
// error naming the key.
func TestLoadBounds(t *testing.T) {
	t.Parallel()
	chain, err := config.Parse("who.toml", []byte(tomlBounds), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	p, ok := chain.Plugin("cached_ldap")
	if !ok {
		t.Fatal("no cached_ldap plugin")
	}
	if _, ok := p.(*memcached.Cache); !ok {
		t.Fatalf("cached_ldap is a %T", p)
	}
	o := memcached.OptionsOf(p.(*memcached.Cache))
	if o.CallTimeout.D() != 7*time.Second || o.MaxInFlight != 9 || o.BackoffAfter != 4 || o.MaxPasswordBytes != 100 ||
		o.Timeout.D() != memcached.DefaultTimeout {
		t.Fatalf("call_timeout %v, max_in_flight %d, backoff_after %d, max_password_bytes %d, timeout %v",
			o.CallTimeout, o.MaxInFlight, o.BackoffAfter, o.MaxPasswordBytes, o.Timeout)
	}
	for _, tt := range []struct{ from, to, key string }{
		{"max_in_flight = 9", "max_in_flight = -1", "max_in_flight"},
		{"backoff_after = 4", "backoff_after = -1", "backoff_after"},
		{"max_password_bytes = 100", "max_password_bytes = -1", "max_password_bytes"},
		{`call_timeout = "7s"`, `call_timeout = "-1s"`, "call_timeout"},
	} {
		_, err := config.Parse("who.toml", []byte(strings.Replace(tomlBounds, tt.from, tt.to, 1)), config.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: err = %v, want one naming %s", tt.to, err, tt.key)
		}
	}
}

// TestLoadWords: memcached_urls, key_items and value_items take a list or
// one string of names separated by spaces or commas (who.Words), as the
// original's.
func TestLoadWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ urls, items, want string }{
		{`"127.0.0.1:1 127.0.0.1:2"`, `"login, password"`, "127.0.0.1:1,127.0.0.1:2|login,password|mail"},
		{`["127.0.0.1:1", "127.0.0.1:2"]`, `["password", "login"]`, "127.0.0.1:1,127.0.0.1:2|login,password|mail"},
	} {
		src := strings.Replace(tomlBounds, `memcached_urls = ["127.0.0.1:1"]`,
			"memcached_urls = "+tc.urls+"\nkey_items = "+tc.items+"\nvalue_items = \"mail\"", 1)
		chain, err := config.Parse("who.toml", []byte(src), config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := chain.Plugin("cached_ldap")
		o := memcached.OptionsOf(p.(*memcached.Cache))
		chain.Close()
		if got := strings.Join(o.MemcachedURLs, ",") + "|" + strings.Join(o.KeyItems, ",") + "|" + strings.Join(o.ValueItems, ","); got != tc.want {
			t.Errorf("memcached_urls = %s, key_items = %s: options %s; want %s", tc.urls, tc.items, got, tc.want)
		}
	}
}
