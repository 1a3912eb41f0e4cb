package gateway

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/config"
)

// Mistakes in [gateway] are reported as every config mistake is: file,
// line, key, a did-you-mean, all in one run.
func TestSectionErrors(t *testing.T) {
	t.Parallel()
	src := `[gateway]
auth_pth = "/auth"
upstream = "ftp://x"
assertion_ttl = "-5s"

[[gateway.rule]]
path = "/public"
access = "public"

[[gateway.rule]]
path = "/admin/../x"
acess = "public"

[[gateway.rule]]
path = "/a"
access = "pubic"
methods = ["GET", "P O S T"]
`
	_, err := config.Parse("who.toml", []byte(src), config.Options{Registry: testRegistry()})
	want := []string{
		`who.toml:2: [gateway]: unknown key "auth_pth" (did you mean "auth_path"?)`,
		`who.toml:12: [gateway]: unknown key "rule[1].acess" (did you mean "rule[1].access"?)`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("decoding errors (-want +got):\n%s", diff)
	}
	// Once it decodes, every value is checked, each at its line.
	src = strings.Replace(strings.Replace(src, "auth_pth", "auth_path", 1), "acess", "access", 1)
	_, err = config.Parse("who.toml", []byte(src), config.Options{Registry: testRegistry()})
	want = []string{
		`who.toml:3: [gateway]: key "upstream": "ftp://x": want an http:// or https:// URL with a host`,
		`who.toml:4: [gateway]: key "assertion_ttl": must be positive`,
		`who.toml:11: [gateway]: key "rule[1].path": "/admin/../x" may not hold . or .. segments or //`,
		`who.toml:16: [gateway]: key "rule[2].access": "pubic": want "public" or "authenticated" (did you mean "public"?)`,
		`who.toml:17: [gateway]: key "rule[2].methods[1]": "P O S T" is not an HTTP method`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("value errors (-want +got):\n%s", diff)
	}
}

// The example file of the repository loads, with its gateway.
func TestExampleFile(t *testing.T) {
	t.Parallel()
	chain, err := config.Load("../examples/gateway.toml", config.Options{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	if _, err := FromChain(chain, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
}
