// Package docstest keeps the Go code of README.md and docs/ compiling.
// Its test, TestGoBlocksCompile, reads every ```go block of README.md and
// of every *.md under docs/ (docs/plugins too), builds them with `go build`
// and `go vet` in a temporary module that replaces github.com/gowho/gowho
// with this repository (offline: GOPROXY=off, GOFLAGS=-mod=mod, the root
// go.sum), and names the file and line of every block that fails.
//
// The rule a block follows is decided by its first lines and by the words
// after "go" on its opening fence:
//
//   - A block with a package clause is a file of its own, built as its own
//     package (a `package main` is a program).
//   - A block without one is a fragment of its page: the fragments of one
//     .md file are one package. A fragment that starts with a declaration
//     (func, type, var, const, import) is a file of that package; any
//     other is the body of a function, and each variable it declares at
//     its top level counts as used (a fragment may stop after the line
//     that declares what the reader goes on with).
//   - A fragment gets an import for each package name it uses (`http.`,
//     `who.`, `config.`) and does not declare: every non-internal package
//     of this module by its name (who, config, session, cookiestore,
//     basicauth, ...) and the common standard library packages listed in
//     compile_test.go's stdImports (http, httptest, fmt, log, slog,
//     context, errors, time, os, strings, ...). Anything else it imports
//     itself.
//   - A fragment may use, without declaring them, the names listed in
//     compile_test.go's givens: chain (*config.Chain), mux
//     (*http.ServeMux), app and handler (http.Handler), w
//     (http.ResponseWriter), r (*http.Request), rec
//     (*httptest.ResponseRecorder), addr (string) and ctx
//     (context.Context), what a snippet in a handler or a main function
//     has at hand; a page that declares one of them keeps its own.
//   - Imports of example.com/you/NAME (the reader's module) are the
//     repository's examples/NAME: docs/writing-plugins.md's apikey plugin
//     is examples/apikey.
//   - ```go listing: a listing (signatures, an outline); it must parse as
//     Go declarations and is not built.
//   - ```go bench: code that needs a module only bench/ requires (chi); the
//     block is built by bench's tests: every func it declares must be
//     written, identically, in a bench/*_test.go file.
//
// A fence spelt ```golang or ```Go is an error (it would be skipped).
// The module cache must hold the root go.mod's requirements (GOPROXY=off);
// on a fresh machine run `go mod download` first, as the test's error says.
//
// Errors name the Markdown file and line (the generated files carry
// //line directives). Set GOWHO_DOCSTEST_DIR to a new directory to keep
// the generated module and build it by hand.
//
// The package also gives tests the blocks themselves (Read) and the source
// of one function (FuncSource), so a test can run the very code a page
// shows: internal/docstest's router test runs README.md's routes function
// and bench's runs the chi one of docs/concepts.md.
package docstest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"strings"
)

// A Block is one fenced code block of a Markdown file.
type Block struct {
	File string   // the path given to Read
	Line int      // the line of the opening fence, from 1
	Lang string   // the fence's first word: "go", "toml", "" ...
	Info []string // the words after Lang ("listing", "bench")
	Code string   // the block's lines without the fence's indentation
}

// Has reports whether word is among the block's info words.
func (b Block) Has(word string) bool {
	for _, w := range b.Info {
		if w == word {
			return true
		}
	}
	return false
}

// String is file:line of the block's opening fence.
func (b Block) String() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

// Read returns every fenced code block (``` or ~~~, indented or not) of the
// Markdown file at path, in order. An unclosed fence is an error naming its
// line.
func Read(path string) ([]Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("docstest: %w", err)
	}
	var (
		blocks []Block
		cur    *Block
		fence  string // the opening fence's run of ` or ~
		indent int
		code   strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " \t")
		if cur == nil {
			run := fenceRun(trimmed)
			if run == "" {
				continue
			}
			words := strings.Fields(trimmed[len(run):])
			b := Block{File: path, Line: n}
			if len(words) > 0 {
				b.Lang, b.Info = words[0], words[1:]
			}
			cur, fence, indent = &b, run, len(line)-len(trimmed)
			code.Reset()
			continue
		}
		if run := fenceRun(trimmed); run != "" && run[0] == fence[0] && len(run) >= len(fence) && strings.TrimSpace(trimmed[len(run):]) == "" {
			cur.Code = code.String()
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		// Remove up to the fence's indentation, as CommonMark does.
		i := 0
		for i < indent && i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		code.WriteString(line[i:])
		code.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("docstest: %s: %w", path, err)
	}
	if cur != nil {
		return blocks, fmt.Errorf("docstest: %s:%d: the code block is never closed (add a line with %s)", path, cur.Line, fence)
	}
	return blocks, nil
}

// fenceRun returns the run of three or more ` or ~ that opens s, or "".
func fenceRun(s string) string {
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return ""
	}
	i := 0
	for i < len(s) && s[i] == s[0] {
		i++
	}
	if i < 3 {
		return ""
	}
	return s[:i]
}

// HasPackageClause reports whether Go source code starts (after comments)
// with a package clause.
func HasPackageClause(code string) bool {
	return firstToken(code) == token.PACKAGE
}

// IsDeclarations reports whether a fragment (Go code without a package
// clause) starts with a declaration, so it belongs at the top level of a
// file rather than in a function body.
func IsDeclarations(code string) bool {
	switch firstToken(code) {
	case token.FUNC, token.TYPE, token.VAR, token.CONST, token.IMPORT:
		return true
	}
	return false
}

// firstToken returns the first token of code that is not a comment.
func firstToken(code string) token.Token {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	for {
		_, tok, _ := s.Scan()
		if tok != token.SEMICOLON { // an automatic one after a comment line
			return tok
		}
	}
}

// FuncSource returns the gofmt'd source, doc comment included, of the
// top-level func (or method: "Type.Name") called name in the Go file src.
// src may also be a fragment without a package clause.
func FuncSource(src, name string) (string, error) {
	prefix := ""
	if !HasPackageClause(src) {
		prefix = "package p\n"
	}
	full := prefix + src
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", full, parser.ParseComments)
	if err != nil {
		return "", fmt.Errorf("docstest: %w", err)
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || funcName(fd) != name {
			continue
		}
		start := fd.Pos()
		if fd.Doc != nil {
			start = fd.Doc.Pos()
		}
		text := full[fset.Position(start).Offset:fset.Position(fd.End()).Offset]
		const head = "package p\n\n"
		out, err := format.Source([]byte(head + text))
		if err != nil {
			return "", fmt.Errorf("docstest: %w", err)
		}
		return strings.TrimPrefix(string(out), head), nil
	}
	return "", fmt.Errorf("docstest: no func %s in the source", name)
}

// FuncNames returns the names of the top-level funcs of Go source src (or
// a fragment), methods as "Type.Name".
func FuncNames(src string) ([]string, error) {
	prefix := ""
	if !HasPackageClause(src) {
		prefix = "package p\n"
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", prefix+src, 0)
	if err != nil {
		return nil, fmt.Errorf("docstest: %w", err)
	}
	var names []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			names = append(names, funcName(fd))
		}
	}
	return names, nil
}

// FindFunc returns the ```go block of blocks that declares func name, and
// its source (FuncSource). It is an error when none or several do.
func FindFunc(blocks []Block, name string) (Block, string, error) {
	var found []Block
	var src string
	for _, b := range blocks {
		if b.Lang != "go" {
			continue
		}
		if s, err := FuncSource(b.Code, name); err == nil {
			found = append(found, b)
			src = s
		}
	}
	switch len(found) {
	case 0:
		return Block{}, "", fmt.Errorf("docstest: no ```go block declares func %s", name)
	case 1:
		return found[0], src, nil
	}
	var where []string
	for _, b := range found {
		where = append(where, b.String())
	}
	return Block{}, "", errors.New("docstest: func " + name + " is declared by several blocks: " + strings.Join(where, ", "))
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}
