package cell

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"sort"
	"strconv"
	"strings"
)

// checked is the outcome of type-checking a cell.
type checked struct {
	info *types.Info
	pkg  *types.Package
	errs []types.Error // what go/types reported, in the cell and elsewhere
}

// typeOf returns the type of an expression of the cell, or nil if unknown.
func (c *checked) typeOf(e ast.Expr) types.Type {
	if c == nil {
		return nil
	}
	tv, ok := c.info.Types[e]
	if !ok || tv.Type == nil {
		return nil
	}
	if b, ok := tv.Type.(*types.Basic); ok && b.Kind() == types.Invalid {
		return nil
	}
	return tv.Type
}

// check type-checks the cell with what earlier cells defined, once; errors
// are tolerated (what can be typed is typed). It returns nil if the check
// cannot run at all.
func (a *analyzer) check() *checked {
	if a.checkDone {
		return a.checked
	}
	a.checkDone = true
	im := importerFor(a.scope.Symbols)

	// Earlier cells' declarations, less those this cell redefines.
	redefined := map[string]bool{}
	for _, it := range a.items {
		for _, n := range it.defines {
			redefined[n] = true
		}
	}
	var files []*ast.File
	var imports strings.Builder
	imports.WriteString("package main\n")
	importNames := map[string]bool{}
	addImport := func(name, path string) {
		if importNames[name] {
			return
		}
		importNames[name] = true
		if name == pathName(path) {
			imports.WriteString("import " + strconv.Quote(path) + "\n")
		} else {
			imports.WriteString("import " + name + " " + strconv.Quote(path) + "\n")
		}
	}
	for _, name := range sortedKeys(a.scope.Imports) {
		addImport(name, a.scope.Imports[name])
	}
	for _, im := range a.imports {
		if n := im.LocalName(); n != "_" && n != "." {
			addImport(n, im.Path)
		}
	}
	var decls strings.Builder
	decls.WriteString(imports.String())
	seen := map[string]bool{}
	declared := map[string]bool{}
	for _, name := range sortedKeys(a.scope.Decls) {
		base := name
		if i := strings.IndexByte(name, '.'); i >= 0 {
			base = name[:i] // a method T.M goes with its type
		}
		src := a.scope.Decls[name]
		if redefined[base] || seen[src] || src == "" {
			continue
		}
		seen[src] = true
		declared[name] = true
		decls.WriteString(src)
		decls.WriteString("\n")
	}
	if f, err := parser.ParseFile(a.fset, "earlier.go", decls.String(), parser.SkipObjectResolution); err == nil {
		// Only signatures matter to the cell.
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				fd.Body = nil
			}
		}
		files = append(files, f)
	}

	// The cell: its declarations at package level, everything else in the
	// body of one function, in source order.
	cellImports, err := parser.ParseFile(a.fset, "imports.go", imports.String(), parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	file := &ast.File{Name: ast.NewIdent("main"), Decls: cellImports.Decls}
	body := &ast.BlockStmt{}
	for _, it := range a.items {
		switch it.kind {
		case itImport:
		case itType, itConst:
			if ds, ok := it.node.(*ast.DeclStmt); ok {
				file.Decls = append(file.Decls, ds.Decl)
			} else {
				file.Decls = append(file.Decls, it.node.(ast.Decl))
			}
		case itFunc, itGenericFunc:
			file.Decls = append(file.Decls, it.node.(ast.Decl))
		default:
			body.List = append(body.List, it.node.(ast.Stmt))
		}
	}
	if len(body.List) > 0 {
		body.Lbrace, body.Rbrace = body.List[0].Pos(), body.List[len(body.List)-1].End()
		file.Decls = append(file.Decls, &ast.FuncDecl{Name: ast.NewIdent("_"), Type: &ast.FuncType{Func: body.Lbrace, Params: &ast.FieldList{}}, Body: body})
	}
	files = append(files, file)

	run := func(extra map[string]types.Type) *checked {
		info := &types.Info{
			Types:     map[ast.Expr]types.TypeAndValue{},
			Defs:      map[*ast.Ident]types.Object{},
			Uses:      map[*ast.Ident]types.Object{},
			Instances: map[*ast.Ident]types.Instance{},
		}
		pkg := types.NewPackage("main", "main")
		for name, t := range a.scope.Globals {
			if declared[name] || redefined[name] || t == nil {
				continue
			}
			pkg.Scope().Insert(types.NewVar(token.NoPos, pkg, name, im.goType(t, pkg)))
		}
		for name, t := range extra {
			pkg.Scope().Insert(types.NewVar(token.NoPos, pkg, name, t))
		}
		c := &checked{info: info, pkg: pkg}
		conf := types.Config{Importer: im, FakeImportC: true, Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				c.errs = append(c.errs, te)
			}
		}}
		_ = types.NewChecker(&conf, a.fset, pkg, info).Files(files)
		return c
	}
	c := run(nil)

	// Funcs that use the cell's variables see them as package-level
	// variables (as they are in the interpreter): check again with them.
	extra := map[string]types.Type{}
	for _, it := range a.items {
		if it.kind != itFunc && it.kind != itGenericFunc {
			continue
		}
		for _, id := range it.free {
			if obj := a.cellVar(c, id.Name); obj != nil {
				extra[id.Name] = obj.Type()
			}
		}
	}
	if len(extra) > 0 {
		c = run(extra)
	}
	a.checked = c
	return c
}

// cellVar returns the variable a top-level statement of the cell defines
// under name, if any.
func (a *analyzer) cellVar(c *checked, name string) types.Object {
	var found types.Object
	def := func(id *ast.Ident) {
		if id.Name == name {
			if v, ok := c.info.Defs[id].(*types.Var); ok {
				found = v
			}
		}
	}
	for _, it := range a.items {
		switch n := it.node.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						def(id)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := n.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, spec := range g.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						def(id)
					}
				}
			}
		}
	}
	return found
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
