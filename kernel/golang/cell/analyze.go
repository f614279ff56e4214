package cell

import (
	"fmt"
	"go/ast"
	"strconv"
	"strings"
)

// Analyze parses one cell and plans its evaluation; see Plan for how to run
// the result. A cell that does not parse, or uses a construct that cannot
// run in yaegi, gives an *Error at the cell position concerned.
//
// The order of evaluation is: imports (explicit ones, and automatic ones for
// selectors pkg.Name whose pkg is declared nowhere and resolves through
// Scope.Package); then the cell's types and constants together (one step,
// so they may refer to each other in any order); then each generic func in a
// step of its own; then the rest (vars, statements) in source order, with
// the cell's non-generic funcs and methods in one step placed before the
// first statement, or, when they use variables the cell defines, right after
// the last statement defining one; finally a trailing expression statement
// in a step of its own (Plan.Trailing).
func Analyze(src string, scope Scope) (plan *Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			plan, err = nil, &Error{Msg: fmt.Sprintf("internal error analysing the cell (please report it): %v", r)}
		}
	}()
	a := newAnalyzer(src, scope)
	if err := a.split(); err != nil {
		return nil, err
	}
	if err := a.collectImports(); err != nil {
		return nil, err
	}
	if err := a.rewrite(); err != nil {
		return nil, err
	}
	return a.plan(), nil
}

// pathName returns the default package name for an import path: its last
// element, skipping a major-version element such as v2.
func pathName(path string) string {
	parts := strings.Split(path, "/")
	name := parts[len(parts)-1]
	if len(parts) > 1 && len(name) > 1 && name[0] == 'v' {
		if _, err := strconv.Atoi(name[1:]); err == nil {
			name = parts[len(parts)-2]
		}
	}
	return name
}

// known reports whether a name is defined by an earlier cell.
func (a *analyzer) known(name string) bool {
	if _, ok := a.scope.Globals[name]; ok {
		return true
	}
	return a.scope.Defined[name]
}

// collectImports gathers the explicit imports of the cell and the automatic
// ones its selectors need.
func (a *analyzer) collectImports() error {
	bound := map[string]string{} // local name -> path, for this cell
	for _, it := range a.items {
		if it.kind != itImport {
			continue
		}
		for _, spec := range it.node.(*ast.GenDecl).Specs {
			s := spec.(*ast.ImportSpec)
			path, err := strconv.Unquote(s.Path.Value)
			if err != nil {
				return a.errorAt(a.off(s.Path.Pos()), fmt.Sprintf("invalid import path %s", s.Path.Value))
			}
			im := Import{Path: path}
			if s.Name != nil {
				im.Name = s.Name.Name
			}
			im.Line, _ = a.position(a.off(s.Pos()))
			if !a.available(path) {
				return a.errorAt(a.off(s.Path.Pos()), unavailable(path))
			}
			name := im.LocalName()
			if name == "_" || name == "." {
				a.imports = append(a.imports, im)
				continue
			}
			if old, ok := a.scope.Imports[name]; ok {
				if old == path {
					continue // already imported by an earlier cell
				}
				return a.errorAt(a.off(s.Pos()), fmt.Sprintf("package name %s is already imported as %q; import %q under another name: import x %q", name, old, path, path))
			}
			if old, ok := bound[name]; ok {
				if old == path {
					continue
				}
				return a.errorAt(a.off(s.Pos()), fmt.Sprintf("package name %s is imported twice in this cell, as %q and %q; give one an alias", name, old, path))
			}
			bound[name] = path
			a.imports = append(a.imports, im)
		}
	}
	if a.scope.Package == nil {
		return nil
	}
	for _, it := range a.items {
		if it.kind == itImport {
			continue
		}
		ast.Inspect(it.node, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok || x.Obj != nil {
				return true
			}
			name := x.Name
			if a.cellNames[name] || a.known(name) || bound[name] != "" || a.scope.Imports[name] != "" {
				return true
			}
			path, ok := a.scope.Package(name)
			if !ok {
				return true
			}
			im := Import{Path: path}
			if pathName(path) != name {
				im.Name = name
			}
			bound[name] = path
			a.imports = append(a.imports, im)
			return true
		})
	}
	return nil
}

// available reports whether cells can import the package at path: it has
// a symbol table, or yaegi interprets it from source, or it is iter, whose
// uses the analyzer rewrites. Without Scope.Symbols every path is.
func (a *analyzer) available(path string) bool {
	if a.scope.Symbols == nil || a.scope.Symbols(path) != nil {
		return true
	}
	_, generic := genericSources()[path]
	return generic || path == "iter"
}

// unavailable explains that a package cannot be imported.
func unavailable(path string) string {
	if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
		return fmt.Sprintf("package %s is not available in a cell: graft's interpreter has no symbols for it", path)
	}
	return fmt.Sprintf("package %s is not available in a cell: cells import the standard library and graft's packages, not other modules", path)
}

// builder assembles the source of a step and its line map.
type builder struct {
	a     *analyzer
	sb    strings.Builder
	lines []int
}

func (a *analyzer) newBuilder() *builder {
	return &builder{a: a, lines: []int{0}}
}

// add appends text; line is the cell line of its first character (0 when
// synthesized) and original says whether later lines of text continue the
// cell (true) or are synthesized (false).
func (b *builder) add(text string, line int, original bool) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '\n' && c != ' ' && b.lines[len(b.lines)-1] == 0 {
			b.lines[len(b.lines)-1] = line
		}
		b.sb.WriteByte(c)
		if c == '\n' {
			b.lines = append(b.lines, 0)
			if original && line > 0 {
				line++
			} else {
				line = 0
			}
		}
	}
}

// addItem appends an item on a line of its own, at its cell column, with
// the edits that fall inside it applied.
func (b *builder) addItem(it *item) {
	if b.sb.Len() > 0 && !strings.HasSuffix(b.sb.String(), "\n") {
		b.add("\n", 0, false)
	}
	line, col := b.a.position(it.start)
	b.add(strings.Repeat(" ", col-1), line, false)
	pos := it.start
	for _, e := range b.a.edits { // sorted by plan
		if e.start < pos || e.end > it.end {
			continue
		}
		l, _ := b.a.position(pos)
		b.add(b.a.src[pos:e.start], l, true)
		l, _ = b.a.position(e.start)
		b.add(e.text, l, false)
		pos = e.end
	}
	l, _ := b.a.position(pos)
	b.add(b.a.src[pos:it.end], l, true)
}

// addSynth appends synthesized source on lines of its own.
func (b *builder) addSynth(src string) {
	if b.sb.Len() > 0 && !strings.HasSuffix(b.sb.String(), "\n") {
		b.add("\n", 0, false)
	}
	b.add(src, 0, false)
}

// step returns the assembled step.
func (b *builder) step(kind StepKind) Step {
	return Step{Source: b.sb.String(), Lines: b.lines, Kind: kind}
}

// plan orders the items into steps.
func (a *analyzer) plan() *Plan {
	a.sortedEdits()
	p := &Plan{Decls: a.decls}
	for _, im := range a.imports {
		if !a.dropImport[im.Path] {
			p.Imports = append(p.Imports, im)
		}
	}
	for _, it := range a.items {
		for _, n := range it.defines {
			p.Defines = append(p.Defines, Name{Name: n, Kind: nameKind(it.kind)})
		}
	}
	for _, n := range a.extraNames {
		p.Defines = append(p.Defines, n)
	}

	// Types and constants first, together.
	b := a.newBuilder()
	for _, it := range a.items {
		if it.kind == itType || it.kind == itConst {
			b.addItem(it)
		}
	}
	for _, src := range a.synthTypes {
		b.addSynth(src)
	}
	if b.sb.Len() > 0 {
		p.Steps = append(p.Steps, b.step(Decls))
	}
	// Aliases of redefined types (see rewriteTypes) come after them.
	p.Steps = append(p.Steps, a.typeSteps...)

	// The rest in source order, with funcs placed after the variables they
	// need.
	var rest []*item
	definedAt := map[string]int{} // name -> index in rest of its last definition
	for _, it := range a.items {
		switch it.kind {
		case itVar, itStmt, itExpr:
			rest = append(rest, it)
			for _, n := range it.defines {
				definedAt[n] = len(rest)
			}
		}
	}
	needs := func(it *item) int {
		at := 0
		for _, id := range it.free {
			if i, ok := definedAt[id.Name]; ok && i > at {
				at = i
			}
		}
		return at
	}
	groupAt, groupNames := 0, map[string]bool{}
	var group, generics []*item
	for _, it := range a.items {
		switch it.kind {
		case itFunc:
			group = append(group, it)
			if at := needs(it); at > groupAt {
				groupAt = at
			}
			for _, n := range it.defines {
				groupNames[n] = true
			}
		case itGenericFunc:
			generics = append(generics, it)
		}
	}
	usesGroup := func(it *item) bool {
		for _, id := range it.free {
			if groupNames[id.Name] {
				return true
			}
		}
		return false
	}
	genericAt := map[*item]int{}
	for _, g := range generics {
		genericAt[g] = needs(g)
		if usesGroup(g) && groupAt > genericAt[g] {
			genericAt[g] = groupAt
		}
	}
	var cur *builder
	var curKind StepKind
	flush := func() {
		if cur != nil && cur.sb.Len() > 0 {
			p.Steps = append(p.Steps, cur.step(curKind))
		}
		cur = nil
	}
	emitFuncs := func(at int) {
		for _, late := range []bool{false, true} {
			for _, g := range generics {
				if genericAt[g] == at && usesGroup(g) == late {
					flush()
					gb := a.newBuilder()
					gb.addItem(g)
					p.Steps = append(p.Steps, gb.step(Decls))
				}
			}
			if !late && groupAt == at && len(group) > 0 {
				flush()
				gb := a.newBuilder()
				for _, f := range group {
					gb.addItem(f)
				}
				for _, src := range a.synthFuncs {
					gb.addSynth(src)
				}
				p.Steps = append(p.Steps, gb.step(Decls))
			}
		}
	}
	trailing := len(a.items) > 0 && a.items[len(a.items)-1].kind == itExpr
	for i, it := range rest {
		emitFuncs(i)
		kind := Statements
		if trailing && i == len(rest)-1 {
			kind = Expression
		}
		if cur == nil || curKind != kind || kind == Expression {
			flush()
			cur, curKind = a.newBuilder(), kind
			if it.kind == itVar || it.declFirst {
				// yaegi parses a source starting with var as
				// declarations, where a var cannot use variables
				// that statements defined ("variable definition
				// loop"); an empty statement first makes it a
				// statement list.
				cur.add(";\n", 0, false)
			}
		}
		cur.addItem(it)
	}
	flush()
	emitFuncs(len(rest))
	p.Trailing = trailing
	return p
}

func nameKind(k itemKind) NameKind {
	switch k {
	case itType:
		return TypeName
	case itConst:
		return ConstName
	case itFunc, itGenericFunc:
		return FuncName
	}
	return VarName
}
