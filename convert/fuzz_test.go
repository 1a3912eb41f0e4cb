package convert_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/gowho/gowho/convert"
)

// FuzzConvert converts arbitrary ini bytes: Convert never panics, its
// output always parses as TOML and starts with the header, and the INI is
// left as it was given.
func FuzzConvert(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/ini/*.ini")
	more, _ := filepath.Glob(filepath.Join(goldenDir, "*.ini"))
	for _, s := range append(seeds, more...) {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[plugin:a b]\nuse = repoze.who.plugins.basicauth:make_plugin\nrealm = x\n  y\n[identifiers]\nplugins = a;b;c a;, a;x,,y a;unused,x\n"))
	f.Add([]byte("[plugin:s]\nuse = repoze.who.plugins.sql:make_metadata_plugin\nquery = '%%(x y)s ${HOME} \"\\'\nfilter = x\n[mdproviders]\nplugins = s s\n"))
	f.Add([]byte("[DEFAULT]\nsecret = ${X}\n[plugin:t]\nuse = repoze.who.plugins.auth_tkt:make_plugin\ntimeout = 1_0\nreissue_time = -1\ndigest_algo = SHA256\n[general]\nremote_user_key = _\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ini, err := convert.ParseINI(data, "/srv/app")
		if err != nil {
			return
		}
		out, probs := convert.Convert(ini, convert.Options{Source: "who.ini", Here: "/srv/app", OutDir: "/srv/conf"})
		var m map[string]any
		if _, err := toml.Decode(string(out), &m); err != nil {
			t.Fatalf("output is not TOML: %v\n%s", err, out)
		}
		if !strings.HasPrefix(string(out), "# who.toml converted by `who convert` from who.ini") {
			t.Fatalf("no header:\n%s", out)
		}
		for _, p := range probs {
			if strings.ContainsAny(p.String(), "\n\r") {
				t.Fatalf("a problem spans lines: %q", p.String())
			}
		}
		if v, _, _ := ini.Get(ini.Defaults, "here"); v != "/srv/app" && ini.Defaults.KeyLine("here") == 0 {
			t.Fatalf("here left as %q", v)
		}
	})
}

// TestInterpolationBlowUp: ten levels of repeated references are refused
// instead of expanding to 40^10 bytes.
func TestInterpolationBlowUp(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("[plugin:x]\nuse = repoze.who.plugins.basicauth:make_plugin\nl0 = xxxxxxxxxxxxxxxx\n")
	for i := 1; i <= 10; i++ {
		b.WriteString("l" + string(rune('0'+i%10)) + "x = ")
		for range 40 {
			if i == 1 {
				b.WriteString("%(l0)s")
			} else {
				b.WriteString("%(l" + string(rune('0'+(i-1)%10)) + "x)s")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("realm = %(l0x)s\n")
	ini, err := convert.ParseINI([]byte(b.String()), "/srv")
	if err != nil {
		t.Fatal(err)
	}
	out, probs := convert.Convert(ini, convert.Options{})
	if !convert.Failed(probs) || len(out) > 8<<20 {
		t.Fatalf("no problem reported, or an output of %d bytes", len(out))
	}
}

// TestSessionNameTaken: the session manager standing for Beaker gets a
// name no declared plugin has, even one declared after it.
func TestSessionNameTaken(t *testing.T) {
	t.Parallel()
	ini, err := convert.ParseINI([]byte("[plugin:b]\nuse = repoze.who.plugins.use_beaker:make_plugin\n[plugin:beaker_session]\nuse = repoze.who.plugins.basicauth:make_plugin\n"), "/srv")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := convert.Convert(ini, convert.Options{})
	if !strings.Contains(string(out), "[plugin.beaker_session2]") || strings.Count(string(out), "[plugin.beaker_session]") != 1 {
		t.Fatalf("name clash:\n%s", out)
	}
}
