// Package docgen builds the documentation index of package docs from Go
// sources with go/build, go/parser and go/doc: the standard library packages
// yaegi exposes (from $GOROOT/src) and graft's exported packages (from the
// module's sources), for linux/amd64.
package docgen

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/graftml/graft/kernel/golang/docs"
	"github.com/graftml/graft/kernel/golang/internal/symgen"
	"github.com/graftml/graft/kernel/golang/symbols"
)

// Module is graft's module path.
const Module = "github.com/graftml/graft"

// extraStd lists standard library packages documented although package
// stdsymbols has no table for them.
var extraStd = []string{"iter"}

// Source is one package to document.
type Source struct {
	Path string // import path
	Dir  string // directory holding its sources
}

// StdSources returns the standard library packages to document: those of
// package stdsymbols (symgen.Std) that have a directory in $GOROOT/src, plus
// extraStd.
func StdSources() ([]Source, error) {
	goroot := build.Default.GOROOT
	if goroot == "" {
		return nil, errors.New("GOROOT is unknown")
	}
	seen := map[string]bool{}
	var out []Source
	add := func(p string) {
		dir := filepath.Join(goroot, "src", filepath.FromSlash(p))
		if p == "." || seen[p] || isInternal(p) {
			return
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return
		}
		seen[p] = true
		out = append(out, Source{Path: p, Dir: dir})
	}
	for _, p := range symgen.Std.Paths {
		add(p)
	}
	for _, p := range extraStd {
		add(p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// GraftSources returns graft's exported packages (symbols.Paths), with their
// directories under the module root root.
func GraftSources(root string) []Source {
	var out []Source
	for _, p := range symbols.Paths() {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, Module), "/")
		out = append(out, Source{Path: p, Dir: filepath.Join(root, filepath.FromSlash(rel))})
	}
	return out
}

func isInternal(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == "internal" || part == "vendor" {
			return true
		}
	}
	return false
}

// ModuleRoot returns the directory of the go.mod enclosing dir.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or above", dir)
		}
	}
}

// buildContext selects the files of one platform, so the index does not
// depend on the machine that generates it.
func buildContext() build.Context {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "linux", "amd64"
	ctx.CgoEnabled = true
	ctx.BuildTags = nil
	return ctx
}

// Generate documents the standard library and graft's packages (graft's
// sources found from the module enclosing dir) and returns the index file.
func Generate(dir string) ([]byte, error) {
	pkgs, err := BuildAll(dir)
	if err != nil {
		return nil, err
	}
	return docs.Encode(runtime.Version(), pkgs)
}

// BuildAll documents the standard library and graft's packages, graft's
// sources found from the module enclosing dir.
func BuildAll(dir string) ([]docs.Package, error) {
	root, err := ModuleRoot(dir)
	if err != nil {
		return nil, err
	}
	std, err := StdSources()
	if err != nil {
		return nil, err
	}
	return Build(append(std, GraftSources(root)...))
}

// Build parses and documents srcs (concurrently) and returns the packages
// sorted by path, with members of types promoted through embedded types
// resolved across all of srcs.
func Build(srcs []Source) ([]docs.Package, error) {
	parsed := make([]*pkgInfo, len(srcs))
	errs := make([]error, len(srcs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, s := range srcs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			parsed[i], errs[i] = parsePackage(s)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	byPath := map[string]*pkgInfo{}
	for _, p := range parsed {
		byPath[p.Path] = p
	}
	out := make([]docs.Package, len(parsed))
	for i, p := range parsed {
		p.promote(byPath)
		sortMembers(p.Members)
		out[i] = p.Package
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func sortMembers(ms []docs.Member) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Recv != ms[j].Recv {
			return ms[i].Recv < ms[j].Recv
		}
		return ms[i].Name < ms[j].Name
	})
}

// typeRef names a type declared in a package.
type typeRef struct{ pkg, name string }

// pkgInfo is a package being documented, with what promotion needs.
type pkgInfo struct {
	docs.Package
	// own holds the methods and fields declared on each type (by type name),
	// embedded the types each struct or interface type embeds, in order.
	own      map[string][]docs.Member
	embedded map[string][]typeRef
}

func parsePackage(s Source) (*pkgInfo, error) {
	ctx := buildContext()
	bp, err := ctx.ImportDir(s.Dir, 0)
	if err != nil {
		return nil, fmt.Errorf("docgen: %s: %w", s.Path, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range append(bp.GoFiles, bp.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(s.Dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("docgen: %s: %w", s.Path, err)
		}
		files = append(files, f)
	}
	// Import names per file, to resolve qualified embedded types.
	imports := map[string]map[string]string{}
	for _, f := range files {
		m := map[string]string{}
		for _, spec := range f.Imports {
			p := strings.Trim(spec.Path.Value, `"`)
			name := importName(p)
			if spec.Name != nil {
				name = spec.Name.Name
			}
			m[name] = p
		}
		imports[fset.File(f.Pos()).Name()] = m
	}
	dp, err := doc.NewFromFiles(fset, files, s.Path)
	if err != nil {
		return nil, fmt.Errorf("docgen: %s: %w", s.Path, err)
	}
	p := &pkgInfo{
		Package:  docs.Package{Path: s.Path, Name: dp.Name, Synopsis: dp.Synopsis(dp.Doc), Doc: dp.Doc},
		own:      map[string][]docs.Member{},
		embedded: map[string][]typeRef{},
	}
	g := &gen{fset: fset}
	p.addValues(g, dp.Consts, docs.KindConst)
	p.addValues(g, dp.Vars, docs.KindVar)
	p.addFuncs(g, dp.Funcs, "")
	for _, t := range dp.Types {
		spec := typeSpec(t)
		if spec == nil {
			continue
		}
		p.Members = append(p.Members, docs.Member{
			Name: t.Name, Kind: docs.KindType,
			Signature: g.node(&ast.GenDecl{Tok: token.TYPE, Specs: []ast.Spec{spec}}),
			Doc:       t.Doc,
		})
		p.addValues(g, t.Consts, docs.KindConst)
		p.addValues(g, t.Vars, docs.KindVar)
		p.addFuncs(g, t.Funcs, "")
		p.addFuncs(g, t.Methods, t.Name)
		file := imports[fset.File(t.Decl.Pos()).Name()]
		ref := func(e ast.Expr) (typeRef, bool) { return resolve(e, s.Path, file) }
		switch tt := spec.Type.(type) {
		case *ast.StructType:
			p.addFields(g, t.Name, tt.Fields, ref)
		case *ast.InterfaceType:
			p.addInterfaceMethods(g, t.Name, tt.Methods, ref)
		}
	}
	for _, m := range p.Members {
		if m.Recv != "" {
			p.own[m.Recv] = append(p.own[m.Recv], m)
		}
	}
	return p, nil
}

// importName guesses the package name of an import path: its last element,
// skipping a major version suffix such as "v2".
func importName(p string) string {
	base := path.Base(p)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	return base
}

func typeSpec(t *doc.Type) *ast.TypeSpec {
	for _, s := range t.Decl.Specs {
		if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.Name == t.Name {
			return ts
		}
	}
	return nil
}

// resolve names the type an embedded field refers to: T, *T, pkg.T, T[X].
func resolve(e ast.Expr, self string, imports map[string]string) (typeRef, bool) {
	switch x := e.(type) {
	case *ast.StarExpr:
		return resolve(x.X, self, imports)
	case *ast.IndexExpr:
		return resolve(x.X, self, imports)
	case *ast.IndexListExpr:
		return resolve(x.X, self, imports)
	case *ast.Ident:
		return typeRef{self, x.Name}, true
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			if p, ok := imports[id.Name]; ok {
				return typeRef{p, x.Sel.Name}, true
			}
		}
	}
	return typeRef{}, false
}

type gen struct{ fset *token.FileSet }

// node prints n in gofmt style, without comments.
func (g *gen) node(n any) string {
	var buf bytes.Buffer
	cfg := printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}
	if err := cfg.Fprint(&buf, g.fset, n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return buf.String()
}

func (p *pkgInfo) addFuncs(g *gen, fs []*doc.Func, recv string) {
	for _, f := range fs {
		decl := *f.Decl
		decl.Body, decl.Doc = nil, nil
		kind := docs.KindFunc
		if recv != "" {
			kind = docs.KindMethod
		}
		p.Members = append(p.Members, docs.Member{Name: f.Name, Recv: recv, Kind: kind, Signature: g.node(&decl), Doc: f.Doc})
	}
}

// maxValueLen bounds the initial value shown in a const or var signature;
// longer or multi-line values are left out.
const maxValueLen = 80

// addValues adds each exported name of const or var groups. A spec that
// repeats the previous one implicitly (iota groups) shows the previous type.
func (p *pkgInfo) addValues(g *gen, vs []*doc.Value, kind string) {
	for _, v := range vs {
		var prevType ast.Expr
		for _, s := range v.Decl.Specs {
			vs := s.(*ast.ValueSpec)
			typ := vs.Type
			if typ == nil && len(vs.Values) == 0 {
				typ = prevType
			}
			if vs.Type != nil || len(vs.Values) > 0 {
				prevType = vs.Type
			}
			d := joinDocs(v.Doc, vs.Doc.Text(), vs.Comment.Text())
			for i, name := range vs.Names {
				if !name.IsExported() {
					continue
				}
				sig := kind + " " + name.Name
				if typ != nil {
					sig += " " + g.node(typ)
				}
				if len(vs.Values) == len(vs.Names) {
					if val := g.node(vs.Values[i]); len(val) <= maxValueLen && !strings.Contains(val, "\n") {
						sig += " = " + val
					}
				}
				p.Members = append(p.Members, docs.Member{Name: name.Name, Kind: kind, Signature: sig, Doc: d})
			}
		}
	}
}

// joinDocs joins the distinct non-empty texts: a value's doc is its group's
// doc, its own doc and its line comment.
func joinDocs(texts ...string) string {
	var parts []string
	for _, t := range texts {
		if t != "" && !slices.Contains(parts, t) {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

func commentText(groups ...*ast.CommentGroup) string {
	for _, c := range groups {
		if t := c.Text(); t != "" {
			return t
		}
	}
	return ""
}

func (p *pkgInfo) addFields(g *gen, typeName string, fl *ast.FieldList, ref func(ast.Expr) (typeRef, bool)) {
	for _, f := range fl.List {
		d := commentText(f.Doc, f.Comment)
		if len(f.Names) == 0 {
			// An embedded field is named after its type.
			r, ok := ref(f.Type)
			if !ok || !token.IsExported(r.name) {
				continue
			}
			p.embedded[typeName] = append(p.embedded[typeName], r)
			p.Members = append(p.Members, docs.Member{Name: r.name, Recv: typeName, Kind: docs.KindField, Signature: g.node(f.Type), Doc: d})
			continue
		}
		for _, n := range f.Names {
			if n.IsExported() {
				p.Members = append(p.Members, docs.Member{Name: n.Name, Recv: typeName, Kind: docs.KindField, Signature: n.Name + " " + g.node(f.Type), Doc: d})
			}
		}
	}
}

func (p *pkgInfo) addInterfaceMethods(g *gen, typeName string, fl *ast.FieldList, ref func(ast.Expr) (typeRef, bool)) {
	for _, f := range fl.List {
		ft, isMethod := f.Type.(*ast.FuncType)
		if !isMethod || len(f.Names) == 0 {
			// An embedded interface (or a type-set term of a constraint).
			if r, ok := ref(f.Type); ok {
				p.embedded[typeName] = append(p.embedded[typeName], r)
			}
			continue
		}
		name := f.Names[0].Name
		if !token.IsExported(name) {
			continue
		}
		decl := &ast.FuncDecl{
			Recv: &ast.FieldList{List: []*ast.Field{{Type: ast.NewIdent(typeName)}}},
			Name: ast.NewIdent(name),
			Type: ft,
		}
		p.Members = append(p.Members, docs.Member{Name: name, Recv: typeName, Kind: docs.KindMethod, Signature: g.node(decl), Doc: commentText(f.Doc, f.Comment)})
	}
}

// promote adds to each type the methods and fields of the types it embeds,
// following Go's rule: the shallowest depth wins, and a name found twice at
// the same depth is ambiguous and not promoted.
func (p *pkgInfo) promote(all map[string]*pkgInfo) {
	for typeName, direct := range p.embedded {
		have := map[string]bool{}
		for _, m := range p.own[typeName] {
			have[m.Name] = true
		}
		visited := map[typeRef]bool{{p.Path, typeName}: true}
		level := direct
		for len(level) > 0 {
			var next []typeRef
			found := map[string][]docs.Member{}
			for _, r := range level {
				if visited[r] {
					continue
				}
				visited[r] = true
				src, ok := all[r.pkg]
				if !ok {
					continue
				}
				for _, m := range src.own[r.name] {
					if !have[m.Name] {
						m.Recv = typeName
						found[m.Name] = append(found[m.Name], m)
					}
				}
				next = append(next, src.embedded[r.name]...)
			}
			for name, ms := range found {
				have[name] = true
				if len(ms) == 1 {
					p.Members = append(p.Members, ms[0])
				}
			}
			level = next
		}
	}
}
