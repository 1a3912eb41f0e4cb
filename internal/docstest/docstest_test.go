package docstest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		md      string
		want    []Block
		wantErr string
	}{
		{
			name: "go and other blocks, info words",
			md:   "text\n```go\nx := 1\n```\n\n```toml\na = 1\n```\n```go listing\nfunc F()\n```\n",
			want: []Block{
				{Line: 2, Lang: "go", Info: []string{}, Code: "x := 1\n"},
				{Line: 6, Lang: "toml", Info: []string{}, Code: "a = 1\n"},
				{Line: 9, Lang: "go", Info: []string{"listing"}, Code: "func F()\n"},
			},
		},
		{
			name: "indented fence in a list",
			md:   "- item\n\n  ```go\n  if x {\n  \ty()\n  }\n  ```\n",
			want: []Block{{Line: 3, Lang: "go", Info: []string{}, Code: "if x {\n\ty()\n}\n"}},
		},
		{
			name: "a longer fence holds a shorter one",
			md:   "````md\n```go\nx\n```\n````\n",
			want: []Block{{Line: 1, Lang: "md", Info: []string{}, Code: "```go\nx\n```\n"}},
		},
		{
			name: "tildes and a fence without a language",
			md:   "~~~\nplain\n~~~\n",
			want: []Block{{Line: 1, Code: "plain\n"}},
		},
		{
			name:    "unclosed",
			md:      "a\n```go\nx := 1\n",
			wantErr: ":2: the code block is never closed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.md")
			if err := os.WriteFile(p, []byte(tt.md), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Read(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d blocks %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Line != w.Line || g.Lang != w.Lang || !slices.Equal(g.Info, w.Info) || g.Code != w.Code || g.File != p {
					t.Errorf("block %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestKindOfCode(t *testing.T) {
	tests := []struct {
		code       string
		pkg, decls bool
	}{
		{"// Command x.\npackage main\n", true, false},
		{"func F() {}\n", false, true},
		{"// A doc.\ntype T int\n", false, true},
		{"var (\n\tx = 1\n)\n", false, true},
		{"import _ \"x\"\n", false, true},
		{"x := f()\n", false, false},
		{"// a comment first\nr := httptest.NewRequest(\"GET\", \"/\", nil)\n", false, false},
		{"mux.Handle(\"/\", h)\n", false, false},
	}
	for _, tt := range tests {
		if got := HasPackageClause(tt.code); got != tt.pkg {
			t.Errorf("HasPackageClause(%q) = %v, want %v", tt.code, got, tt.pkg)
		}
		if got := IsDeclarations(tt.code); got != tt.decls {
			t.Errorf("IsDeclarations(%q) = %v, want %v", tt.code, got, tt.decls)
		}
	}
}

func TestFuncSource(t *testing.T) {
	src := "package p\n\n// Other is not it.\nfunc Other() {}\n\n// F is it.\nfunc F()   { g() }\n\nfunc (t *T) M() {}\n"
	got, err := FuncSource(src, "F")
	if err != nil {
		t.Fatal(err)
	}
	if want := "// F is it.\nfunc F() { g() }\n"; got != want {
		t.Errorf("FuncSource F = %q, want %q (doc comment kept, gofmt'd)", got, want)
	}
	if _, err := FuncSource(src, "T.M"); err != nil {
		t.Errorf("FuncSource T.M: %v", err)
	}
	if _, err := FuncSource(src, "Missing"); err == nil {
		t.Error("FuncSource of a missing func: no error")
	}
	// A fragment without a package clause works the same.
	if got, err := FuncSource("func F()   { g() }\n", "F"); err != nil || got != "func F() { g() }\n" {
		t.Errorf("FuncSource of a fragment = %q, %v", got, err)
	}
	names, err := FuncNames(src)
	if err != nil || !slices.Equal(names, []string{"Other", "F", "T.M"}) {
		t.Errorf("FuncNames = %v, %v", names, err)
	}
}

func TestFindFunc(t *testing.T) {
	blocks := []Block{
		{File: "a.md", Line: 1, Lang: "go", Code: "func A() {}\n"},
		{File: "a.md", Line: 5, Lang: "text", Code: "func B() {}\n"},
		{File: "a.md", Line: 9, Lang: "go", Code: "func C() {}\n"},
		{File: "a.md", Line: 13, Lang: "go", Code: "func C() {}\n"},
	}
	if b, _, err := FindFunc(blocks, "A"); err != nil || b.Line != 1 {
		t.Errorf("FindFunc A = %v, %v", b, err)
	}
	if _, _, err := FindFunc(blocks, "B"); err == nil {
		t.Error("FindFunc found a func in a text block")
	}
	if _, _, err := FindFunc(blocks, "C"); err == nil || !strings.Contains(err.Error(), "a.md:9, a.md:13") {
		t.Errorf("FindFunc of a func in two blocks: %v, want both named", err)
	}
}

func TestTopLevelVars(t *testing.T) {
	src := "func _() {\nst, err := f()\nvar n int\nif x := 1; x > 0 {\n\ty := 2\n}\n_, err = g()\nm, err := h()\n}\n"
	if got, want := topLevelVars(src), []string{"st", "err", "n", "m"}; !slices.Equal(got, want) {
		t.Errorf("topLevelVars = %v, want %v (nested and blank ones left out)", got, want)
	}
}

func TestFragmentImports(t *testing.T) {
	m := &docModule{pkgNames: map[string]string{"who": "github.com/gowho/gowho/who", "session": "github.com/gowho/gowho/session"}}
	tests := []struct {
		code string
		page map[string]bool
		want []string
	}{
		{"uid := who.UserID(r.Context())\nfmt.Println(uid)\n", nil, []string{"fmt", "github.com/gowho/gowho/who"}},
		// A variable of the fragment named like a package is not an import.
		{"session := open()\nsession.Close()\n", nil, nil},
		// Nor is a name the page declares, nor one it imports itself.
		{"func F() { http.Get(u); log.Print() }\n", map[string]bool{"log": true}, []string{"net/http"}},
		{"import log \"example.com/mylog\"\n\nfunc F() { log.Print() }\n", nil, nil},
		{"func F() { unknown.Thing() }\n", nil, nil},
	}
	for _, tt := range tests {
		got := m.imports(tt.code, tt.page)
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("imports(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"README.md": "readme", "docs/plugins/form.md": "docs_plugins_form", "docs/writing-plugins.md": "docs_writing_plugins"} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListing(t *testing.T) {
	tests := []struct {
		code    string
		wantErr string
	}{
		{code: "func New(o Options) (*Plugin, error)\nfunc (p *Plugin) Len() int // users loaded\n"},
		{code: "func New() {\n\t...\n}\n", wantErr: "docs/x.md:12:"},
	}
	for _, tt := range tests {
		err := listingError(Block{File: "docs/x.md", Line: 10, Lang: "go", Info: []string{"listing"}, Code: tt.code})
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("listing %q: %v, want it accepted", tt.code, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("listing %q: %v, want an error at %s", tt.code, err, tt.wantErr)
		}
	}
}

func TestAttribute(t *testing.T) {
	const root = "/repo"
	blocks := map[string][]Block{
		"README.md": {{File: "README.md", Line: 10, Lang: "go", Code: "a\nb\nc\n"}},
	}
	tests := []struct {
		name      string
		out       string
		wantFails map[string][]string // block -> its lines
		wantOther []string
	}{
		{
			name: "a call error's have/want lines stay with it",
			out: "# example.com/you/docpages/readme\n" +
				"/repo/README.md:12: not enough arguments in call to who.Require\n" +
				"\thave ()\n" +
				"\twant (func(*who.Result) bool)\n",
			wantFails: map[string][]string{"README.md:10": {
				"README.md:12: not enough arguments in call to who.Require",
				"\thave ()",
				"\twant (func(*who.Result) bool)",
			}},
		},
		{
			name:      "a line outside every block",
			out:       "/repo/README.md:40: x\nplugins/ldap/ldap.go:18:2: module lookup disabled by GOPROXY=off\n\tindented\n",
			wantOther: []string{"README.md:40: x", "plugins/ldap/ldap.go:18:2: module lookup disabled by GOPROXY=off", "\tindented"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fails, other := attribute(tt.out, root, blocks)
			got := map[string][]string{}
			for _, f := range fails {
				got[f.b.String()] = f.lines
			}
			if len(got) != len(tt.wantFails) {
				t.Fatalf("failures = %q, want %q", got, tt.wantFails)
			}
			for b, lines := range tt.wantFails {
				if !slices.Equal(got[b], lines) {
					t.Errorf("lines of %s = %q, want %q", b, got[b], lines)
				}
			}
			if !slices.Equal(other, tt.wantOther) {
				t.Errorf("other = %q, want %q", other, tt.wantOther)
			}
		})
	}
}

func TestMissingModuleHint(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{"plugins/ldap/ldap.go:18:2: module lookup disabled by GOPROXY=off\n", true},
		{"README.md:12: undefined: x\n", false},
	}
	for _, tt := range tests {
		h := missingModuleHint(tt.out)
		if (h != "") != tt.want {
			t.Errorf("missingModuleHint(%q) = %q, want a hint: %v", tt.out, h, tt.want)
		}
		if tt.want && !strings.Contains(h, "go mod download") {
			t.Errorf("the hint %q does not say to run go mod download", h)
		}
	}
}

func TestGoFenceMistake(t *testing.T) {
	tests := []struct {
		lang    string
		wantErr bool
	}{
		{"go", false},
		{"golang", true},
		{"Go", true},
		{"GO", true},
		{"toml", false},
		{"", false},
		{"gomod", false},
	}
	for _, tt := range tests {
		err := goFenceMistake(Block{File: "x.md", Line: 3, Lang: tt.lang})
		if (err != nil) != tt.wantErr {
			t.Errorf("goFenceMistake(%q) = %v, want an error: %v", tt.lang, err, tt.wantErr)
		}
	}
}
