package docstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// stdImports are the standard library packages a fragment may use without
// importing them, by the name it uses.
var stdImports = map[string]string{
	"bytes":    "bytes",
	"context":  "context",
	"errors":   "errors",
	"filepath": "path/filepath",
	"fmt":      "fmt",
	"http":     "net/http",
	"httptest": "net/http/httptest",
	"io":       "io",
	"json":     "encoding/json",
	"log":      "log",
	"os":       "os",
	"sha256":   "crypto/sha256",
	"signal":   "os/signal",
	"slog":     "log/slog",
	"sql":      "database/sql",
	"strconv":  "strconv",
	"strings":  "strings",
	"subtle":   "crypto/subtle",
	"sync":     "sync",
	"template": "html/template",
	"testing":  "testing",
	"time":     "time",
	"url":      "net/url",
}

// A given is a name every fragment may use without declaring it.
type given struct {
	name, typ string
	imports   []string // the import paths typ needs
}

// givens are the names a snippet in a handler or a main function has at
// hand. A page that declares one of them itself (at the top level) keeps
// its own.
var givens = []given{
	{"chain", "*config.Chain", []string{"github.com/gowho/gowho/config"}},
	{"mux", "*http.ServeMux", []string{"net/http"}},
	{"app", "http.Handler", []string{"net/http"}},
	{"handler", "http.Handler", []string{"net/http"}},
	{"w", "http.ResponseWriter", []string{"net/http"}},
	{"r", "*http.Request", []string{"net/http"}},
	{"rec", "*httptest.ResponseRecorder", []string{"net/http/httptest"}},
	{"addr", "string", nil},
	{"ctx", "context.Context", []string{"context"}},
}

// docFiles returns README.md and every *.md under docs/, relative to the
// repository.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(repoRoot, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing docs/: %v", err)
	}
	sort.Strings(files[1:])
	return files
}

// goEnv is the environment of every go command the test runs: offline,
// on this machine's toolchain, outside any workspace.
func goEnv() []string {
	return append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
}

// TestGoBlocksCompile builds every ```go block of README.md and docs/ by
// the rule in the package doc, and reports each block that fails with its
// file and line.
func TestGoBlocksCompile(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: the doc blocks are built with go build and go vet; install Go or add it to PATH to run this test")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if keep := os.Getenv("GOWHO_DOCSTEST_DIR"); keep != "" {
		// Keep the generated module, to look at it or build it by hand.
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(keep); len(entries) > 0 {
			t.Fatalf("GOWHO_DOCSTEST_DIR=%s is not empty; give a new or empty directory", keep)
		}
		tmp = keep
		t.Logf("the doc blocks' module is in %s", keep)
	}
	m := &docModule{t: t, root: root, dir: tmp, goBin: goBin, blocks: map[string][]Block{}}
	m.writeGoMod()
	m.copyExamples()
	m.loadModulePackages()
	for _, file := range docFiles(t) {
		blocks, err := Read(filepath.Join(root, file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		for i := range blocks {
			blocks[i].File = file
			if err := goFenceMistake(blocks[i]); err != nil {
				t.Error(err)
			}
		}
		m.blocks[file] = blocks
		m.addPage(file, blocks)
	}
	if m.built == 0 {
		t.Fatal("no ```go block was found in README.md or docs/: is the repository at ../..?")
	}
	out, err := m.goCmd("build", "-gcflags=-e", "./...")
	if err == nil {
		out, err = m.goCmd("vet", "./...")
	}
	if err != nil {
		m.report(out)
	}
	t.Logf("%d blocks built, %d listings parsed, %d checked against bench/", m.built, m.listings, m.benched)
}

// docModule is the temporary module example.com/you that holds the blocks.
type docModule struct {
	t        *testing.T
	root     string // the repository, absolute
	dir      string // the module
	goBin    string
	pkgNames map[string]string // package name -> import path, this module's public packages
	blocks   map[string][]Block
	built    int
	listings int
	benched  int
	bench    map[string]string // func name -> source, from bench/*_test.go; nil until read
}

func (m *docModule) goCmd(args ...string) (string, error) {
	cmd := exec.Command(m.goBin, args...)
	cmd.Dir = m.dir
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// writeGoMod writes go.mod (the root module's requirements, and a replace
// of github.com/gowho/gowho with the repository) and the root go.sum.
func (m *docModule) writeGoMod() {
	m.t.Helper()
	cmd := exec.Command(m.goBin, "mod", "edit", "-json", filepath.Join(m.root, "go.mod"))
	cmd.Env = goEnv()
	out, err := cmd.Output()
	if err != nil {
		m.t.Fatalf("go mod edit -json go.mod: %v", err)
	}
	var mod struct {
		Module  struct{ Path string }
		Go      string
		Require []struct {
			Path, Version string
			Indirect      bool
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		m.t.Fatalf("reading the root go.mod: %v", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module example.com/you\n\ngo %s\n\nrequire %s v0.0.0\n\nreplace %s => %s\n\nrequire (\n", mod.Go, mod.Module.Path, mod.Module.Path, strconv.Quote(m.root))
	for _, r := range mod.Require {
		fmt.Fprintf(&b, "\t%s %s\n", r.Path, r.Version)
	}
	b.WriteString(")\n")
	m.write("go.mod", b.String())
	sum, err := os.ReadFile(filepath.Join(m.root, "go.sum"))
	if err != nil {
		m.t.Fatal(err)
	}
	m.write("go.sum", string(sum))
}

// copyExamples puts each Go package examples/NAME of the repository at
// example.com/you/NAME, the import path the docs give the reader's code.
func (m *docModule) copyExamples() {
	m.t.Helper()
	entries, err := os.ReadDir(filepath.Join(m.root, "examples"))
	if err != nil {
		m.t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(m.root, "examples", e.Name(), "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				m.t.Fatal(err)
			}
			m.write(filepath.Join(e.Name(), filepath.Base(f)), string(data))
		}
	}
}

// loadModulePackages lists the repository's non-internal packages by name,
// for a fragment's imports.
func (m *docModule) loadModulePackages() {
	m.t.Helper()
	// Listed from the temporary module, so the repository's go.mod is
	// never touched (-mod=mod could rewrite it).
	out, err := m.goCmd("list", "-e", "-f", "{{.Name}} {{.ImportPath}}", "github.com/gowho/gowho/...")
	if err != nil {
		m.t.Fatalf("go list github.com/gowho/gowho/...: %v\n%s", err, out)
	}
	m.pkgNames = map[string]string{}
	seen := map[string]int{}
	for line := range strings.Lines(string(out)) {
		name, path, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || name == "main" || name == "" || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal") || strings.Contains(path, "/testdata/") {
			continue
		}
		seen[name]++
		m.pkgNames[name] = path
	}
	for name, n := range seen {
		if n > 1 {
			delete(m.pkgNames, name) // ambiguous: a fragment imports it itself
		}
	}
}

func (m *docModule) write(rel, content string) {
	m.t.Helper()
	p := filepath.Join(m.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

// slug is a package name for a Markdown file: docs/plugins/form.md is
// docs_plugins_form.
func slug(file string) string {
	s := strings.TrimSuffix(file, ".md")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, s)
}

// lineDirective makes the compiler report the next line as line n of the
// Markdown file.
func (m *docModule) lineDirective(file string, n int) string {
	return fmt.Sprintf("//line %s:%d\n", filepath.Join(m.root, file), n)
}

// addPage writes the Go blocks of one Markdown file into the module.
func (m *docModule) addPage(file string, blocks []Block) {
	t := m.t
	t.Helper()
	pkg := slug(file)
	var decls, stmts []Block
	for _, b := range blocks {
		if b.Lang != "go" {
			continue
		}
		switch {
		case b.Has("listing"):
			m.listings++
			m.checkListing(b)
		case b.Has("bench"):
			m.benched++
			m.checkBench(b)
		case HasPackageClause(b.Code):
			m.built++
			m.write(filepath.Join("docpages", fmt.Sprintf("%s_%d", pkg, b.Line), "main.go"), m.lineDirective(file, b.Line+1)+b.Code)
		case IsDeclarations(b.Code):
			m.built++
			decls = append(decls, b)
		default:
			m.built++
			stmts = append(stmts, b)
		}
	}
	if len(decls)+len(stmts) == 0 {
		return
	}
	// The page's top-level names: a given of the same name is left out.
	top := map[string]bool{}
	for _, b := range decls {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+b.Code, 0)
		if err != nil {
			continue // go build reports it
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					top[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						top[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							top[n.Name] = true
						}
					}
				}
			}
		}
	}
	var gv strings.Builder
	var gvImports []string
	for _, g := range givens {
		if top[g.name] {
			continue
		}
		fmt.Fprintf(&gv, "\t%s %s\n", g.name, g.typ)
		gvImports = append(gvImports, g.imports...)
		top[g.name] = true
	}
	dir := filepath.Join("docpages", pkg)
	m.write(filepath.Join(dir, "givens.go"), "package "+pkg+"\n\n"+importDecl(gvImports)+"var (\n"+gv.String()+")\n")
	for _, b := range decls {
		m.write(filepath.Join(dir, fmt.Sprintf("line%d.go", b.Line)),
			"package "+pkg+"\n\n"+importDecl(m.imports(b.Code, top))+m.lineDirective(file, b.Line+1)+b.Code)
	}
	for _, b := range stmts {
		body := "func _() {\n" + m.lineDirective(file, b.Line+1) + b.Code + "\n"
		for _, v := range topLevelVars(body + "}\n") {
			body += "\t_ = " + v + "\n"
		}
		m.write(filepath.Join(dir, fmt.Sprintf("line%d.go", b.Line)),
			"package "+pkg+"\n\n"+importDecl(m.imports(b.Code, top))+body+"}\n")
	}
}

// importDecl is an import declaration of the paths, or "".
func importDecl(paths []string) string {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	if len(paths) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("import (\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	b.WriteString(")\n\n")
	return b.String()
}

// imports returns the import paths a fragment needs: the known packages
// whose names it uses as X in X.Sel, unless the fragment declares or
// imports that name itself or the page declares it.
func (m *docModule) imports(code string, pageNames map[string]bool) []string {
	src := "package p\n" + code
	if !IsDeclarations(code) {
		src = "package p\nfunc _() {\n" + code + "\n}\n"
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", src, 0)
	if err != nil {
		return nil // go build reports the syntax error at its line
	}
	declared := map[string]bool{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		declared[name] = true
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		case *ast.Field:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		case *ast.TypeSpec:
			declared[n.Name.Name] = true
		case *ast.FuncDecl:
			if n.Recv == nil {
				declared[n.Name.Name] = true
			}
		}
		return true
	})
	var paths []string
	for name := range used {
		if declared[name] || pageNames[name] {
			continue
		}
		if p, ok := stdImports[name]; ok {
			paths = append(paths, p)
		} else if p, ok := m.pkgNames[name]; ok {
			paths = append(paths, p)
		}
	}
	return paths
}

// topLevelVars returns the variables declared by the top-level statements
// of the one function in src.
func topLevelVars(src string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, 0)
	if err != nil || len(f.Decls) == 0 {
		return nil
	}
	fd, ok := f.Decls[0].(*ast.FuncDecl)
	if !ok || fd.Body == nil {
		return nil
	}
	var names []string
	add := func(id *ast.Ident) {
		if id.Name != "_" && !slices.Contains(names, id.Name) {
			names = append(names, id.Name)
		}
	}
	for _, s := range fd.Body.List {
		switch s := s.(type) {
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE {
				for _, l := range s.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						add(id)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := s.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						add(id)
					}
				}
			}
		}
	}
	return names
}

// checkListing parses a ```go listing block as declarations.
func (m *docModule) checkListing(b Block) {
	if err := listingError(b); err != nil {
		m.t.Error(err)
	}
}

// listingError is why a ```go listing block does not parse as Go
// declarations, with its lines in the Markdown file; nil when it parses.
func listingError(b Block) error {
	src := b.Code
	offset := b.Line // the code's first line is b.Line+1
	if !HasPackageClause(src) {
		src = "package p\n" + src
		offset--
	}
	_, err := parser.ParseFile(token.NewFileSet(), "", src, 0)
	if err == nil {
		return nil
	}
	var msgs []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if n, rest, ok := lineOf(line); ok {
			line = fmt.Sprintf("%s:%d:%s", b.File, n+offset, rest)
		}
		msgs = append(msgs, line)
	}
	return fmt.Errorf("%s: the ```go listing block does not parse as Go declarations:\n\t%s", b, strings.Join(msgs, "\n\t"))
}

// lineOf splits go/parser's "LINE:COL: msg" (without a file name).
func lineOf(s string) (int, string, bool) {
	num, rest, ok := strings.Cut(s, ":")
	n, err := strconv.Atoi(num)
	return n, rest, ok && err == nil
}

// checkBench checks that every func of a ```go bench block is written,
// identically, in a bench/*_test.go file, where bench's module builds it.
func (m *docModule) checkBench(b Block) {
	t := m.t
	if m.bench == nil {
		m.bench = map[string]string{}
		files, _ := filepath.Glob(filepath.Join(m.root, "bench", "*_test.go"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			names, err := FuncNames(string(data))
			if err != nil {
				t.Errorf("bench/%s: %v", filepath.Base(f), err)
				continue
			}
			for _, n := range names {
				if src, err := FuncSource(string(data), n); err == nil {
					m.bench[n] = src
				}
			}
		}
	}
	names, err := FuncNames(b.Code)
	if err != nil {
		t.Errorf("%s: the ```go bench block does not parse: %v", b, err)
		return
	}
	if len(names) == 0 {
		t.Errorf("%s: a ```go bench block must declare the funcs bench/*_test.go builds; this one declares none", b)
	}
	for _, n := range names {
		doc, _ := FuncSource(b.Code, n)
		got, ok := m.bench[n]
		switch {
		case !ok:
			t.Errorf("%s: func %s of this ```go bench block is in no bench/*_test.go file: copy it there, so bench's module builds and tests it", b, n)
		case got != doc:
			t.Errorf("%s: func %s differs from its copy in bench/*_test.go; make them the same.\nin the doc:\n%s\nin bench:\n%s", b, n, doc, got)
		}
	}
}

// mdPos finds "FILE.md:LINE" in a line of go build or vet output.
var mdPos = regexp.MustCompile(`(\S+\.md):(\d+)`)

// A blockFailure is the go command's output about one block.
type blockFailure struct {
	b     Block
	lines []string
}

// cacheHint is added to the report when the go command could not find a
// module the root go.mod requires: the blocks are built offline, from the
// module cache.
const cacheHint = "the module cache lacks a module the repository's go.mod requires (the blocks are built with GOPROXY=off): run `go mod download` in the repository (and in bench/), then run the test again; if a block imports a module go.mod does not require, add it there or drop the import"

// missingModuleHint is cacheHint when the go command's output says it
// could not look a module up, else "".
func missingModuleHint(out string) string {
	if strings.Contains(out, "disabled by GOPROXY=off") {
		return cacheHint
	}
	return ""
}

// goFenceMistake is why a block's fence language is a misspelt "go"
// (```golang, ```Go), which the test would skip without a word; nil for
// any other language.
func goFenceMistake(b Block) error {
	if b.Lang != "go" && (strings.EqualFold(b.Lang, "go") || strings.EqualFold(b.Lang, "golang")) {
		return fmt.Errorf("%s: the fence says %q: write ```go, so that internal/docstest builds the block (or ```go listing for an outline)", b, b.Lang)
	}
	return nil
}

// attribute groups the go command's output by the block each line names
// (a line indented by a tab, such as the have/want lines of a call error,
// goes with the line before it), and returns the rest. root is removed
// from the paths.
func attribute(out, root string, blocks map[string][]Block) (fails []*blockFailure, other []string) {
	byBlock := map[string]*blockFailure{}
	var last *blockFailure // the failure of the line before, for continuation lines
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		line = strings.ReplaceAll(line, root+string(filepath.Separator), "")
		if line == "" || strings.HasPrefix(line, "# ") {
			last = nil
			continue
		}
		if last != nil && strings.HasPrefix(line, "\t") {
			last.lines = append(last.lines, line)
			continue
		}
		last = nil
		sm := mdPos.FindStringSubmatch(line)
		var blk *Block
		if sm != nil {
			n, _ := strconv.Atoi(sm[2])
			file := filepath.ToSlash(sm[1])
			for i, b := range blocks[file] {
				if b.Lang == "go" && n > b.Line && n <= b.Line+strings.Count(b.Code, "\n")+1 {
					blk = &blocks[file][i]
					break
				}
			}
		}
		if blk == nil {
			other = append(other, line)
			continue
		}
		f := byBlock[blk.String()]
		if f == nil {
			f = &blockFailure{b: *blk}
			byBlock[blk.String()] = f
			fails = append(fails, f)
		}
		f.lines = append(f.lines, line)
		last = f
	}
	return fails, other
}

// report attributes the go command's output to the blocks it names and
// reports each failing block once, by its file and line.
func (m *docModule) report(out string) {
	t := m.t
	t.Helper()
	fails, other := attribute(out, m.root, m.blocks)
	for _, f := range fails {
		t.Errorf("%s: the ```go block does not build (rule: internal/docstest's package doc):\n\t%s", f.b, strings.Join(f.lines, "\n\t"))
	}
	if len(other) > 0 || len(fails) == 0 {
		t.Errorf("go build/vet of the doc blocks failed:\n%s", strings.Join(other, "\n"))
	}
	if h := missingModuleHint(out); h != "" {
		t.Error(h)
	}
	if testing.Verbose() {
		var buf bytes.Buffer
		_ = filepath.WalkDir(filepath.Join(m.dir, "docpages"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				fmt.Fprintf(&buf, "== %s\n%s\n", strings.TrimPrefix(p, m.dir), data)
			}
			return nil
		})
		t.Logf("the generated files:\n%s", buf.String())
	}
}
