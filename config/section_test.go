package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

// gwConfig is a table shaped like [gateway], for the section tests.
type gwConfig struct {
	AuthPath string `toml:"auth_path"`
	Rule     []struct {
		Path   string `toml:"path"`
		Access string `toml:"access"`
	} `toml:"rule"`
}

func gwSection(s *Section) (any, error) {
	var c gwConfig
	if err := s.Decode(&c); err != nil {
		return nil, err
	}
	var errs []error
	for i, r := range c.Rule {
		if !strings.HasPrefix(r.Path, "/") {
			errs = append(errs, &who.OptionError{Key: fmt.Sprintf("rule[%d].path", i), Err: errors.New("must start with /")})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

func loadSections(t *testing.T, src string) (*Chain, error) {
	t.Helper()
	c, err := Parse("who.toml", []byte(src), Options{Registry: testRegistry(&recorder{}), LookupEnv: env(), Logger: quiet,
		Sections: map[string]SectionFunc{"gateway": gwSection}})
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func TestSectionBuilt(t *testing.T) {
	t.Parallel()
	c, err := loadSections(t, `
[gateway]
auth_path = "/auth"
[[gateway.rule]]
path = "/public"
access = "public"
`)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := c.Section("gateway")
	if !ok {
		t.Fatal("Section(gateway) missing")
	}
	if got := v.(*gwConfig); got.AuthPath != "/auth" || len(got.Rule) != 1 || got.Rule[0].Access != "public" {
		t.Errorf("got %+v", got)
	}
	if _, ok := c.Section("other"); ok {
		t.Error("Section(other) present")
	}
}

func TestSectionAbsent(t *testing.T) {
	t.Parallel()
	c, err := loadSections(t, "[general]\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Section("gateway"); ok {
		t.Error("a file without [gateway] has its section")
	}
}

// Mistakes in an extra section name the file, the line and the key, with
// a did-you-mean, also inside the Nth table of an array of tables.
func TestSectionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown key", "[gateway]\nauth_pth = \"/a\"\n",
			[]string{`who.toml:2: [gateway]: unknown key "auth_pth" (did you mean "auth_path"?)`}},
		{"wrong type", "[gateway]\n\nauth_path = 3\n",
			[]string{`who.toml:3: [gateway]: key "auth_path" must be a string, not an integer (3)`}},
		{"nth rule key", `[gateway]
[[gateway.rule]]
path = "/ok"
[[gateway.rule]]
access = "public"
path = "nope"
`, []string{`who.toml:6: [gateway]: key "rule[1].path": must start with /`}},
		{"unknown key in rule", `[gateway]
[[gateway.rule]]
path = "/ok"
acess = "public"
`, []string{`who.toml:4: [gateway]: unknown key "rule[0].acess" (did you mean "rule[0].access"?)`}},
		{"misspelt section", "[gatway]\n",
			[]string{`who.toml:1: [gatway]: unknown section [gatway] (did you mean [gateway]? known: [general], [plugin], [identifiers], [authenticators], [challengers], [mdproviders], [gateway])`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadSections(t, tt.src)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// Without a registration, [gateway] is an unknown section as before.
func TestSectionNotRegistered(t *testing.T) {
	t.Parallel()
	_, err := Parse("who.toml", []byte("[gateway]\n"), Options{Registry: testRegistry(&recorder{}), Logger: quiet,
		Sections: map[string]SectionFunc{}})
	if !errors.Is(err, ErrUnknownKey) {
		t.Errorf("err = %v, want ErrUnknownKey", err)
	}
}
