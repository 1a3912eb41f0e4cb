package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/gowho/gowho/plugins/all"
	"github.com/gowho/gowho/who"
)

// fuzzRegistry holds the fakes and the real plugins, so the fuzzer meets
// resolvers, cycles and real option structs.
func fuzzRegistry() *who.Registry {
	reg := testRegistry(&recorder{})
	for _, name := range who.Plugins() {
		reg.Register(name, func(spec who.PluginSpec) (any, error) {
			f, _, err := who.DefaultRegistry.Factory(name)
			if err != nil {
				return nil, err
			}
			return f(spec)
		})
	}
	return reg
}

// FuzzParse checks that no who.toml makes Parse panic, that it returns
// either a chain or an error whose every line starts with the file name
// (what `who check` prints), and that the error never shows the value of
// ${S}, an environment variable.
//
//	go test -run='^$' -fuzz=FuzzParse -fuzztime=2m ./config
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.toml")
	more, _ := filepath.Glob("testdata/errors/*.toml")
	for _, file := range append(seeds, more...) {
		data, err := os.ReadFile(file)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("[plugin.a]\nuse = \"ref\"\nrefs = [\"b\"]\n[plugin.b]\nuse = \"ref\"\nrefs = [\"a\"]\n[authenticators]\nplugins = [\"a;unused\"]\n"))
	f.Add([]byte("[general]\nrequest_classifier = \"c\"\nchallenge_decider = \"${X}\"\n[plugin.c]\nuse = \"classifier\"\n[identifiers]\nplugins = [\"ident;a,b\", \"all\"]\n"))
	f.Add([]byte("[plugin.a]\nuse = \"all\"\ntls = { ca_file = 1 }\nservers = [{addr = \"x\"}]\nttl = \"5m\"\n"))
	f.Add([]byte("[plugin.a]\nuse = \"all\"\nttl = \"${S}\"\ncount = \"${S}\"\n[plugin.b]\nuse = \"htpasswd\"\nfilename = \"${S}\"\n[identifiers]\nplugins = [\"${S}\"]\n"))
	f.Add([]byte("[general]\nrequest_classifier = \"${S}\"\n[plugin.s]\nuse = \"session\"\nstore = \"redis\"\nredis_url = \"redis://u:${S}@h:port/0\"\n"))
	const secret = "fuzz-secret-value"
	reg := fuzzRegistry()
	const file = "testdata/errors/fuzz.toml"
	lookup := env("X=passthrough", "EMPTY=", "S="+secret)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(file, data, Options{Registry: reg, Logger: quiet, LookupEnv: lookup})
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a chain and an error")
			}
			if strings.Contains(err.Error(), secret) && !strings.Contains(string(data), secret) {
				t.Fatalf("the error shows the value of ${S}:\n%v", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, file+":") {
					t.Fatalf("error line does not start with %q: %q", file+":", line)
				}
			}
			return
		}
		if c == nil || c.middleware == nil {
			t.Fatal("Parse returned neither a chain nor an error")
		}
		// What `who check` describes the chain from.
		_, _, _, _ = c.Stages(), c.Plugins(), c.General(), c.Classifications()
		_ = c.Close()
	})
}
