package form_test

import (
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/plugins/form"

	_ "github.com/gowho/gowho/plugins/authtkt"
)

const tomlOK = `
[plugin.form]
use = "repoze.who.plugins.friendlyform:FriendlyFormPlugin"
login_form_url = "/login"
rememberer_name = "auth_tkt"

[plugin.auth_tkt]
use = "auth_tkt"
secret = "form-test-secret-0123456789abcdef"

[identifiers]
plugins = ["form;browser", "auth_tkt"]
[authenticators]
plugins = ["auth_tkt"]
[challengers]
plugins = ["form;browser"]
`

// TestLoadResolvesRememberer: rememberer_name is resolved when who.toml
// loads, and a wrong name is a load error naming the key.
func TestLoadResolvesRememberer(t *testing.T) {
	t.Parallel()
	chain, err := config.Parse("who.toml", []byte(tomlOK), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	p, ok := chain.Plugin("form")
	if !ok {
		t.Fatal("no form plugin")
	}
	if err := p.(*form.Plugin).Validate(); err != nil {
		t.Fatalf("rememberer not resolved at load: %v", err)
	}
	for _, tt := range []struct{ from, to, want string }{
		{`rememberer_name = "auth_tkt"`, `rememberer_name = "auth_tk"`, "rememberer_name"},
		{`rememberer_name = "auth_tkt"`, ``, "rememberer_name"},
	} {
		_, err := config.Parse("who.toml", []byte(strings.Replace(tomlOK, tt.from, tt.to, 1)), config.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want one naming %s", tt.to, err, tt.want)
		}
	}
}
