package golang

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// splitCell separates a cell's top-level func, type and import declarations
// (evaluated first, as a file) from its statements (evaluated after, in
// order). var and const declarations stay with the statements, so that they
// may use what earlier statements computed. It is the kernel's own plan for
// a cell when the cell analyzer does not give one.
func splitCell(code string) (decls, stmts step) {
	decls.kind, stmts.kind = declStep, stmtStep
	src := []byte(code)
	fset := token.NewFileSet()
	file := fset.AddFile("", -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, scanner.ScanComments)
	type tok struct {
		pos token.Pos
		tok token.Token
		lit string
	}
	var toks []tok
	for {
		pos, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		toks = append(toks, tok{pos, t, lit})
	}
	// Chunks of the source at depth 0, each a declaration or not.
	type chunk struct {
		start, end int // byte offsets
		decl       bool
	}
	var chunks []chunk
	depth := 0
	begin := -1 // start of the current top-level statement, -1 between them
	comment := -1
	isDecl := false
	for k, t := range toks {
		off := file.Offset(t.pos)
		if depth == 0 && begin < 0 {
			if t.tok == token.COMMENT {
				if comment < 0 {
					comment = off
				}
				continue
			}
			if t.tok == token.SEMICOLON {
				continue
			}
			begin = off
			isDecl = t.tok == token.TYPE || t.tok == token.IMPORT || (t.tok == token.FUNC && isFuncDecl(toks[k+1:], func(i int) token.Token { return toks[k+1+i].tok }))
			if isDecl && comment >= 0 {
				begin = comment
			}
			comment = -1
		}
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		case token.SEMICOLON:
			if depth == 0 && begin >= 0 {
				end := off
				if t.lit == ";" {
					end++
				}
				chunks = append(chunks, chunk{begin, end, isDecl})
				begin = -1
			}
		}
	}
	if begin >= 0 {
		chunks = append(chunks, chunk{begin, len(src), isDecl})
	}
	if depth != 0 || len(chunks) == 0 {
		// Unbalanced: let the parser report it on the whole cell.
		stmts.src = code
		stmts.lines = identityLines(code)
		return step{kind: declStep}, stmts
	}
	lineOf := func(off int) int { return strings.Count(code[:off], "\n") + 1 }
	add := func(st *step, c chunk) {
		text := code[c.start:c.end]
		// Start at the beginning of the line to keep columns.
		ls := strings.LastIndexByte(code[:c.start], '\n') + 1
		if strings.TrimSpace(code[ls:c.start]) == "" {
			text = code[ls:c.end]
		} else {
			text = strings.Repeat(" ", len([]rune(code[ls:c.start]))) + text
		}
		first := lineOf(c.start)
		n := strings.Count(text, "\n") + 1
		for i := 0; i < n; i++ {
			st.lines = append(st.lines, first+i)
		}
		st.src += text + "\n"
	}
	for _, c := range chunks {
		if c.decl {
			add(&decls, c)
		} else {
			add(&stmts, c)
		}
	}
	// Each source ends with a newline: the last line it adds is synthesized.
	if decls.src != "" {
		decls.lines = append(decls.lines, 0)
	}
	if stmts.src != "" {
		stmts.lines = append(stmts.lines, 0)
	}
	return decls, stmts
}

// isFuncDecl decides whether the tokens after `func` start a declaration
// (`func name(`, `func (r T) name(`) rather than a function literal
// (`func() {...}()`).
func isFuncDecl[T any](rest []T, tok func(int) token.Token) bool {
	if len(rest) == 0 {
		return false
	}
	if tok(0) == token.IDENT {
		return true
	}
	if tok(0) != token.LPAREN {
		return false
	}
	depth := 0
	for i := range rest {
		switch tok(i) {
		case token.LPAREN:
			depth++
		case token.RPAREN:
			depth--
			if depth == 0 {
				return i+1 < len(rest) && tok(i+1) == token.IDENT
			}
		}
	}
	return false
}

func identityLines(code string) []int {
	n := strings.Count(code, "\n") + 1
	lines := make([]int, n)
	for k := range lines {
		lines[k] = k + 1
	}
	return lines
}

// fallbackPlan plans a cell with splitCell, importing the packages it uses.
func (in *Interpreter) fallbackPlan(code string) (*plan, *stepErr) {
	if strings.TrimSpace(code) == "" {
		return &plan{}, nil
	}
	decls, stmts := splitCell(code)
	p := &plan{}
	fset := token.NewFileSet()
	if decls.src != "" {
		p.steps = append(p.steps, decls)
		if f, err := parser.ParseFile(fset, "", "package main\n"+decls.src, 0); err == nil {
			p.imports = append(p.imports, in.autoImports(f)...)
		}
	}
	if strings.TrimSpace(stmts.src) != "" {
		p.steps = append(p.steps, stmts)
		f, err := parser.ParseFile(fset, "", "package main; func main() {\n"+stmts.src+"\n}", 0)
		if err == nil {
			p.imports = appendImports(p.imports, in.autoImports(f))
			body := f.Decls[0].(*ast.FuncDecl).Body.List
			if len(body) > 0 {
				_, p.trailing = body[len(body)-1].(*ast.ExprStmt)
			}
		}
	}
	return p, nil
}

func appendImports(list, more []importSpec) []importSpec {
	for _, m := range more {
		dup := false
		for _, l := range list {
			if l.name == m.name {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, m)
		}
	}
	return list
}
