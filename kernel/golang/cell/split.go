package cell

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"sort"
	"strings"
)

// itemKind classifies one top-level piece of a cell.
type itemKind int

const (
	itImport itemKind = iota + 1
	itType
	itConst
	itFunc // a non-generic func or a method
	itGenericFunc
	itVar  // a var declaration
	itStmt // any statement but an expression statement
	itExpr // an expression statement
)

// item is one top-level declaration or statement of a cell.
type item struct {
	kind       itemKind
	start, end int      // byte offsets in the cell
	node       ast.Node // *ast.GenDecl, *ast.FuncDecl or ast.Stmt
	defines    []string // top-level names it defines
	// declFirst says that a rewrite made the item start with a var
	// declaration.
	declFirst bool
	// free are the identifiers the item uses that it does not declare
	// itself (for funcs: what its body needs from outside).
	free []*ast.Ident
}

// tok is one token of the cell.
type tok struct {
	off int
	tok token.Token
	lit string
}

// chunk maps a parsed piece of source back to the cell.
type chunk struct {
	file  *token.File
	delta int // cell offset = file offset + delta
}

// analyzer holds the state of one Analyze call.
type analyzer struct {
	src    string
	lines  []int // offset of the start of each cell line
	scope  Scope
	fset   *token.FileSet
	chunks map[*token.File]int
	items  []*item
	edits  []edit
	// cellNames holds every name declared anywhere in the cell (top level
	// or local), used to tell package selectors from value selectors.
	cellNames map[string]bool
	imports   []Import
	// typeSteps are steps evaluated right before the types and constants
	// (see rewriteTypes); extraNames are internal names the cell defines.
	typeSteps  []Step
	extraNames []Name
	// synthTypes and synthFuncs are declarations repeated from earlier
	// cells (see rewriteTypes), evaluated with the cell's types and funcs.
	synthTypes, synthFuncs []string
	// checked is the cell's type check, done on demand by check.
	checked   *checked
	checkDone bool
	// counter numbers fresh internal names; dropImport lists import
	// paths whose uses were all rewritten away; decls are Plan.Decls.
	counter    int
	dropImport map[string]bool
	ownRange   map[*ast.RangeStmt]bool // range statements rewritten already
	decls      map[string]string
	unclosed   *tok // the innermost bracket left open at the end, if any
}

// edit replaces src[start:end] with text when a step is built.
type edit struct {
	start, end int
	text       string
}

// sortedEdits returns the edits by position, insertions before
// replacements at the same offset. Where edits overlap, the first wins.
func (a *analyzer) sortedEdits() []edit {
	sort.SliceStable(a.edits, func(i, j int) bool {
		if a.edits[i].start != a.edits[j].start {
			return a.edits[i].start < a.edits[j].start
		}
		return a.edits[i].end < a.edits[j].end
	})
	return a.edits
}

func newAnalyzer(src string, scope Scope) *analyzer {
	a := &analyzer{src: src, scope: scope, fset: token.NewFileSet(), chunks: map[*token.File]int{}, cellNames: map[string]bool{}, dropImport: map[string]bool{}, ownRange: map[*ast.RangeStmt]bool{}}
	a.lines = append(a.lines, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			a.lines = append(a.lines, i+1)
		}
	}
	return a
}

// position returns the 1-based cell line and column of a cell offset.
func (a *analyzer) position(off int) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > len(a.src) {
		off = len(a.src)
	}
	i := sort.Search(len(a.lines), func(i int) bool { return a.lines[i] > off }) - 1
	return i + 1, off - a.lines[i] + 1
}

// errorAt returns an *Error at a cell offset.
func (a *analyzer) errorAt(off int, msg string) *Error {
	line, col := a.position(off)
	return &Error{Line: line, Column: col, Msg: msg}
}

// syntaxError returns an *Error for a syntax error at a cell offset.
func (a *analyzer) syntaxError(off int, msg string) *Error {
	e := a.errorAt(off, msg)
	e.Syntax = true
	return e
}

// off maps a position in a parsed chunk to a cell offset.
func (a *analyzer) off(p token.Pos) int {
	f := a.fset.File(p)
	if f == nil {
		return 0
	}
	off := f.Offset(p) + a.chunks[f]
	// Positions in the wrapping (an implicit statement at its closing
	// brace) fall outside the cell.
	return max(0, min(off, len(a.src)))
}

// parseChunk parses prefix+a.src[start:end]+suffix as a file and records how
// to map its positions back. Parse errors come back as *Error at cell
// positions.
func (a *analyzer) parseChunk(prefix string, start, end int, suffix string) (*ast.File, error) {
	text := prefix + a.src[start:end] + suffix
	f, err := parser.ParseFile(a.fset, "cell.go", text, parser.AllErrors)
	var tf *token.File
	a.fset.Iterate(func(f *token.File) bool { tf = f; return true }) // the last one added
	delta := start - len(prefix)
	a.chunks[tf] = delta
	if err != nil {
		if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
			e := list[0]
			off := e.Pos.Offset + delta
			if a.unclosed != nil && off >= len(strings.TrimRight(a.src, " \t\r\n")) {
				return nil, a.syntaxError(a.unclosed.off, "this "+a.unclosed.tok.String()+unclosedMsg)
			}
			msg := cleanParseMsg(e.Msg)
			if off >= end {
				// At the closing brace of the wrapping.
				msg = strings.Replace(msg, "found '}'", "found end of cell", 1)
			}
			return nil, a.syntaxError(off, msg)
		}
		return nil, &Error{Msg: err.Error(), Syntax: true}
	}
	return f, nil
}

// unclosedMsg ends the message for a bracket left open.
const unclosedMsg = " is not closed by the end of the cell"

// cleanParseMsg rewords go/parser messages that mention the wrapping.
func cleanParseMsg(msg string) string {
	msg = strings.ReplaceAll(msg, "found 'EOF'", "found end of cell")
	return msg
}

// scan tokenizes the cell.
func (a *analyzer) scan() ([]tok, error) {
	var s scanner.Scanner
	f := a.fset.AddFile("cell.go", -1, len(a.src))
	a.chunks[f] = 0
	var first *Error
	s.Init(f, []byte(a.src), func(pos token.Position, msg string) {
		if first == nil {
			first = a.syntaxError(pos.Offset, msg)
		}
	}, 0)
	var toks []tok
	for {
		p, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		toks = append(toks, tok{off: f.Offset(p), tok: t, lit: lit})
	}
	if first != nil {
		return nil, first
	}
	return toks, nil
}

// split finds the top-level items of the cell, in source order.
func (a *analyzer) split() error {
	toks, err := a.scan()
	if err != nil {
		return err
	}
	// An open bracket left at the end explains a parse error there
	// better than the parser's "expected ..." does.
	var open []tok
	for _, t := range toks {
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			open = append(open, t)
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	if len(open) > 0 {
		a.unclosed = &open[len(open)-1]
	}
	// Find the func declarations and imports: they cannot appear in a
	// function body, so they are cut out before the rest is parsed as a
	// statement list.
	type span struct {
		start, end int
		kind       token.Token
	}
	var decls []span
	depth := 0
	atStart := true
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if depth == 0 && atStart && (t.tok == token.IMPORT || t.tok == token.FUNC && isFuncDecl(toks, i)) {
			// The declaration runs to the next semicolon at depth 0.
			j := i + 1
			d := 0
			for ; j < len(toks); j++ {
				switch toks[j].tok {
				case token.LPAREN, token.LBRACK, token.LBRACE:
					d++
				case token.RPAREN, token.RBRACK, token.RBRACE:
					d--
				}
				if d <= 0 && toks[j].tok == token.SEMICOLON {
					break
				}
			}
			end := len(a.src)
			if j < len(toks) {
				end = toks[j].off
				if toks[j].lit == ";" {
					end++
				}
			}
			decls = append(decls, span{t.off, end, t.tok})
			i = j
			atStart = true
			continue
		}
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
		atStart = depth == 0 && t.tok == token.SEMICOLON
	}
	// Parse the declarations and the statement runs between them.
	prev := 0
	for _, d := range decls {
		if err := a.parseStatements(toks, prev, d.start); err != nil {
			return err
		}
		f, err := a.parseChunk("package p;", d.start, d.end, "\n")
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			a.addDecl(decl, f)
		}
		prev = d.end
	}
	return a.parseStatements(toks, prev, len(a.src))
}

// isFuncDecl reports whether the func keyword at toks[i], at the start of a
// top-level statement, begins a declaration (func f, func (r T) m) rather
// than a function literal.
func isFuncDecl(toks []tok, i int) bool {
	if i+1 >= len(toks) {
		return false
	}
	switch toks[i+1].tok {
	case token.IDENT:
		return true
	case token.LPAREN:
		// func (recv) Name( is a method; func (params) ... a literal.
		d := 0
		for j := i + 1; j < len(toks); j++ {
			switch toks[j].tok {
			case token.LPAREN:
				d++
			case token.RPAREN:
				d--
			}
			if d == 0 {
				return j+2 < len(toks) && toks[j+1].tok == token.IDENT && (toks[j+2].tok == token.LPAREN || toks[j+2].tok == token.LBRACK)
			}
		}
	}
	return false
}

// stmtPrefix wraps a statement run in a function body for parsing.
const stmtPrefix = "package p;func _(){"

// parseStatements parses a.src[start:end] as a statement list, if it holds
// anything but semicolons and comments.
func (a *analyzer) parseStatements(toks []tok, start, end int) error {
	empty := true
	for _, t := range toks {
		if t.off >= start && t.off < end && t.tok != token.SEMICOLON {
			empty = false
			break
		}
	}
	if empty {
		return nil
	}
	f, err := a.parseChunk(stmtPrefix, start, end, "\n}")
	if err != nil {
		return err
	}
	body := f.Decls[0].(*ast.FuncDecl).Body
	for _, s := range body.List {
		a.addStmt(s, f)
	}
	return nil
}

// addDecl records a declaration parsed as part of a file.
func (a *analyzer) addDecl(decl ast.Decl, f *ast.File) {
	it := &item{start: a.off(decl.Pos()), end: a.off(decl.End()), node: decl}
	switch d := decl.(type) {
	case *ast.FuncDecl:
		it.kind = itFunc
		if d.Type.TypeParams != nil && len(d.Type.TypeParams.List) > 0 {
			it.kind = itGenericFunc
		}
		if d.Recv == nil && d.Name.Name != "_" {
			it.defines = []string{d.Name.Name}
		}
		it.free = f.Unresolved
	case *ast.GenDecl:
		it.kind = genKind(d.Tok)
		it.defines = genNames(d)
		it.free = f.Unresolved
	}
	a.collectNames(decl)
	a.items = append(a.items, it)
}

// addStmt records a top-level statement of a statement run.
func (a *analyzer) addStmt(s ast.Stmt, f *ast.File) {
	if _, ok := s.(*ast.EmptyStmt); ok {
		return
	}
	it := &item{start: a.off(s.Pos()), end: a.off(s.End()), node: s, kind: itStmt, free: f.Unresolved}
	switch s := s.(type) {
	case *ast.ExprStmt:
		it.kind = itExpr
	case *ast.DeclStmt:
		if g, ok := s.Decl.(*ast.GenDecl); ok {
			it.kind = genKind(g.Tok)
			it.defines = genNames(g)
		}
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE {
			for _, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					it.defines = append(it.defines, id.Name)
				}
			}
		}
	}
	a.collectNames(s)
	a.items = append(a.items, it)
}

func genKind(t token.Token) itemKind {
	switch t {
	case token.IMPORT:
		return itImport
	case token.TYPE:
		return itType
	case token.CONST:
		return itConst
	}
	return itVar
}

// genNames returns the names a var, const or type declaration defines.
func genNames(g *ast.GenDecl) []string {
	var names []string
	for _, spec := range g.Specs {
		switch s := spec.(type) {
		case *ast.ValueSpec:
			for _, n := range s.Names {
				if n.Name != "_" {
					names = append(names, n.Name)
				}
			}
		case *ast.TypeSpec:
			names = append(names, s.Name.Name)
		}
	}
	return names
}

// collectNames adds every name declared within n to a.cellNames.
func (a *analyzer) collectNames(n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if n.Obj != nil && n.Obj.Kind != ast.Lbl {
				if d, ok := n.Obj.Decl.(ast.Node); ok && d != nil {
					a.cellNames[n.Name] = true
				}
			}
		case *ast.FuncDecl:
			a.cellNames[n.Name.Name] = true
		case *ast.TypeSpec:
			a.cellNames[n.Name.Name] = true
		}
		return true
	})
}
