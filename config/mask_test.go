package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gowho/gowho/who"
)

// echoRegistry has "echo", a plugin whose factory fails with every option
// value in its message, as careless plugins do ("cannot dial %q").
func echoRegistry() *who.Registry {
	reg := who.NewRegistry()
	reg.Register("echo", func(spec who.PluginSpec) (any, error) {
		var o map[string]any
		if err := spec.Decode(&o); err != nil {
			return nil, err
		}
		keys := slices.Sorted(maps.Keys(o))
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, fmt.Sprint(o[k]))
		}
		return nil, &who.OptionError{Key: keys[0], Err: errors.New("cannot start:" + b.String())}
	})
	reg.Register("strict", func(spec who.PluginSpec) (any, error) {
		var o struct {
			BindPassword string       `toml:"bind_password"`
			Timeout      who.Duration `toml:"timeout"`
			Count        int          `toml:"count"`
		}
		return nil, spec.Decode(&o)
	})
	return reg
}

// TestErrorsMaskSecrets: no error message of a load shows a value read
// from the environment, the value of a secret-named key, a URL password
// or a DSN password (before, `who check` printed a Redis URL's password,
// env-expanded durations and the value of a wrongly typed bind_password).
func TestErrorsMaskSecrets(t *testing.T) {
	t.Parallel()
	lookup := env("DUR=env-dur-leak", "FILE=/srv/env-file-leak", "PW=env-pw-leak", "SHORT=ab")
	tests := []struct {
		name  string
		toml  string
		leaks []string
		keeps []string // what the message must still say
	}{
		{"secret-named keys", `
[plugin.a]
use = "echo"
secret = "secret-leak-1"
bind_pass = "bind-leak-2"
csrf_secret = "csrf-leak-3"
old_secrets = ["old-leak-4", "old-leak-5"]
api_token = "token-leak-6"
realm = "visible realm"
[plugin.a.tls]
password = "tls-leak-7"
`, []string{"leak-"}, []string{`realm="visible realm"`, Mask}},
		{"URL and DSN passwords", `
[plugin.a]
use = "echo"
a_url = "redis://app:url-leak-1@10.0.0.7:6379/0"
b_urls = ["ldap://cn=admin:url-leak-2@h:389", "memcache://h:11211"]
dsn = "app:dsn-leak-3@tcp(127.0.0.1:3306)/db"
dsn2 = "host=db user=app password=dsn-leak-4 dbname=x"
dsn3 = "host=db password='dsn leak-5' dbname=x"
`, []string{"leak-"}, []string{"redis://app:xxxxx@10.0.0.7:6379/0", "memcache://h:11211", "host=db"}},
		{"environment values", `
[plugin.a]
use = "echo"
file = "${FILE}"
note = "pw is ${PW}!"
short = "${SHORT}"
mixed = "x${SHORT}y"
`, []string{"env-", `"ab"`, `"xaby"`}, []string{"cannot start"}},
		{"use from the environment", `
[plugin.a]
use = "${PW}"
`, []string{"env-pw-leak"}, []string{`(use = "********")`}},
		{"decoder messages", `
[plugin.a]
use = "strict"
bind_password = 123456
timeout = "${DUR}"
count = "${PW}"
`, []string{"123456", "env-dur-leak", "env-pw-leak"}, []string{`key "bind_password" must be a string, not an integer`, `key "timeout"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.toml + "[identifiers]\nplugins = [\"a\"]\n"
			c, err := Parse("who.toml", []byte(data), Options{Registry: echoRegistry(), Logger: quiet, LookupEnv: lookup})
			if err == nil {
				c.Close()
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, leak := range tc.leaks {
				if strings.Contains(msg, leak) {
					t.Errorf("the error shows %q:\n%s", leak, msg)
				}
			}
			for _, keep := range tc.keeps {
				if !strings.Contains(msg, keep) {
					t.Errorf("the error lost %q:\n%s", keep, msg)
				}
			}
			var oe *who.OptionError
			if strings.HasPrefix(tc.name, "secret") && !errors.As(err, &oe) {
				t.Errorf("masking lost the error chain: %v", err)
			}
		})
	}
}

// TestChainMask: Chain.Mask masks the file's secrets in other messages,
// such as a plugin's errors in the log.
func TestChainMask(t *testing.T) {
	t.Parallel()
	data := "[plugin.a]\nuse = \"all\"\nsecret = \"${S}\"\n[identifiers]\nplugins = [\"a\"]\n"
	c, err := Parse("who.toml", []byte(data), Options{Registry: testRegistry(&recorder{}), Logger: quiet, LookupEnv: env("S=chain-secret-1")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := c.Mask(`bad ticket for "chain-secret-1" at redis://u:p4ss@h`)
	if want := `bad ticket for "` + Mask + `" at redis://u:xxxxx@h`; got != want {
		t.Errorf("Mask = %q, want %q", got, want)
	}
}

func TestSecretKey(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]bool{
		"secret": true, "csrf_secret": true, "old_secrets[1]": true, "bind_password": true, "bind_pass": true,
		"password": true, "tls.password": true, "api_key": true, "X-API-Key": true, "access_token": true, "pw": true,
		"token_value": true, "X-Auth-Token": true, "private_key": true, "bypass": false, "hpw": false,
		"secretfile": false, "tokens": false, "realm": false, "key_name": false, "passthrough": false, "htpasswd_file": false,
		"allowed_hosts": false, "use": false,
	} {
		if got := SecretKey(k); got != want {
			t.Errorf("SecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// TestMaskLongestFirst: a secret that contains another is masked whole,
// whatever the order the secrets were found in.
func TestMaskLongestFirst(t *testing.T) {
	for _, order := range [][]string{
		{"abcdefgh", "abcdefgh-longer", "xyz"},
		{"abcdefgh-longer", "xyz", "abcdefgh"},
		{"xyz", "abcdefgh", "abcdefgh-longer", "abcdefgh"},
	} {
		m := &masker{}
		for _, v := range order {
			m.add(v)
		}
		if got, want := m.mask(`dial abcdefgh-longer, then "xyz"`), `dial `+Mask+`, then "`+Mask+`"`; got != want {
			t.Errorf("secrets %q: got %q, want %q", order, got, want)
		}
	}
}

func BenchmarkMask(b *testing.B) {
	m := &masker{}
	for i := range 10 {
		m.add(fmt.Sprintf("secret-value-%d-0123456789", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		m.mask(`who: authenticator failed plugin=ldap err="dial tcp 10.0.0.7:389: i/o timeout"`)
	}
}
