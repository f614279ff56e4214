package golang

import (
	"context"
	"fmt"
	"go/ast"
	"go/printer"
	"go/token"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/traefik/yaegi/interp"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel/golang/cell"
)

// rtPath is the import path of the runtime support package that every cell
// sees as _graftrt (see rtExports).
const rtPath = "graft.internal/cellrt"

// prelude is evaluated once per interpreter: the runtime support package and
// the predeclared ctx. ctx is an interpreted global rather than a symbol of a
// dot-imported package: yaegi v0.16.1 cannot resolve a dot-imported variable
// on the right of a := inside a block ("undefined: ctx").
var prelude = []string{
	`import _graftrt "` + rtPath + `"`,
	`var ctx = _graftrt.CellContext()`,
}

// state is what the kernel knows about the names cells have declared; it is
// read by Complete, Inspect and %who while a cell may be running.
type state struct {
	mu       sync.RWMutex
	kinds    map[string]string   // name → "func", "type", "var", "const"
	imports  map[string]string   // package name in cells → import path
	methods  map[string][]string // interpreted type → its methods
	varTypes map[string]string   // global → the interpreted type it was declared with
	decls    map[string]string   // func or type → its declaration as written, with its doc
	// cellDecls are the declarations the cell analyzer made of the names
	// cells defined (cell.Plan.Decls), given back to it for later cells.
	cellDecls map[string]string
	files     map[string]*fileInfo
}

func newState() *state {
	return &state{
		kinds:     map[string]string{},
		imports:   map[string]string{},
		methods:   map[string][]string{},
		varTypes:  map[string]string{},
		decls:     map[string]string{},
		cellDecls: map[string]string{},
		files:     map[string]*fileInfo{},
	}
}

func (in *Interpreter) addFile(name string, f *fileInfo) {
	in.st.mu.Lock()
	in.st.files[name] = f
	in.st.mu.Unlock()
}

func (in *Interpreter) dropFile(name string) {
	in.st.mu.Lock()
	f := in.st.files[name]
	delete(in.st.files, name)
	in.st.mu.Unlock()
	if f != nil && f.tf != nil {
		// Nothing can report a position in it any more.
		in.i.FileSet().RemoveFile(f.tf)
	}
}

func (in *Interpreter) file(name string) *fileInfo {
	in.st.mu.RLock()
	defer in.st.mu.RUnlock()
	return in.st.files[name]
}

// newImports returns the imports not yet made (an import made twice is an
// error in yaegi).
func (in *Interpreter) newImports(imps []importSpec) []importSpec {
	in.st.mu.RLock()
	defer in.st.mu.RUnlock()
	var out []importSpec
	for _, im := range imps {
		if p, ok := in.st.imports[im.name]; !ok || p != im.path {
			out = append(out, im)
		}
	}
	return out
}

// dropKnownImports removes from f the imports that earlier cells already
// made with the same name and path, so that a cell can be run twice.
func (in *Interpreter) dropKnownImports(f *ast.File) {
	in.st.mu.RLock()
	defer in.st.mu.RUnlock()
	decls := f.Decls[:0]
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			decls = append(decls, d)
			continue
		}
		specs := g.Specs[:0]
		for _, s := range g.Specs {
			name, path := importName(s.(*ast.ImportSpec))
			if p, ok := in.st.imports[name]; ok && p == path {
				continue
			}
			specs = append(specs, s)
		}
		g.Specs = specs
		if len(specs) > 0 {
			decls = append(decls, g)
		}
	}
	f.Decls = decls
}

// importName returns the name an import spec binds and its path.
func importName(s *ast.ImportSpec) (name, path string) {
	path = strings.Trim(s.Path.Value, "`\"")
	if s.Name != nil {
		return s.Name.Name, path
	}
	return packageName(path), path
}

// packageName is the name of the package at path: its last element, skipping
// a major-version suffix (math/rand/v2 → rand).
func packageName(path string) string {
	parts := strings.Split(path, "/")
	name := parts[len(parts)-1]
	if len(parts) > 1 && len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
		name = parts[len(parts)-2]
	}
	return name
}

// notePlan records what a cell that ran to the end defined, as the cell
// analyzer saw it.
func (in *Interpreter) notePlan(p *plan) {
	in.st.mu.Lock()
	defer in.st.mu.Unlock()
	for _, n := range p.defines {
		if n.kind != "" {
			in.st.kinds[n.name] = n.kind
		}
	}
	for name, d := range p.decls {
		in.st.cellDecls[name] = d
	}
}

// noteDecls records the names a compiled file declared.
func (in *Interpreter) noteDecls(fset *token.FileSet, info *fileInfo, decls []ast.Decl) {
	in.st.mu.Lock()
	defer in.st.mu.Unlock()
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				in.st.kinds[d.Name.Name] = "func"
				in.st.decls[d.Name.Name] = declText(fset, info, d.Pos(), d.Doc, &ast.FuncDecl{Name: d.Name, Type: d.Type})
				continue
			}
			if t := cell.ReceiverType(d.Recv); t != "" {
				in.st.methods[t] = appendUnique(in.st.methods[t], d.Name.Name)
			}
		case *ast.GenDecl:
			in.noteGenDecl(fset, info, d)
		}
	}
}

// declText prints a declaration (with its doc comment) as written. When
// the compiled source lost the comment, it is taken from the comment lines
// just above the declaration in the cell.
func declText(fset *token.FileSet, info *fileInfo, pos token.Pos, doc *ast.CommentGroup, n any) string {
	var b strings.Builder
	if doc != nil {
		for _, line := range strings.Split(strings.TrimRight(doc.Text(), "\n"), "\n") {
			b.WriteString("// " + line + "\n")
		}
	} else if info != nil {
		l := info.cellLine(fset.Position(pos).Line) - 1 // 1-based line above
		first := l
		for first >= 1 && first <= len(info.source) && strings.HasPrefix(strings.TrimSpace(info.source[first-1]), "//") {
			first--
		}
		for k := first + 1; k <= l; k++ {
			b.WriteString(strings.TrimSpace(info.source[k-1]) + "\n")
		}
	}
	if err := printer.Fprint(&b, fset, n); err != nil {
		return ""
	}
	return b.String()
}

// noteStmts records the names top-level statements declared.
func (in *Interpreter) noteStmts(fset *token.FileSet, info *fileInfo, stmts []ast.Stmt) {
	in.st.mu.Lock()
	defer in.st.mu.Unlock()
	for _, s := range stmts {
		switch s := s.(type) {
		case *ast.AssignStmt:
			if s.Tok != token.DEFINE {
				continue
			}
			for k, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					in.st.kinds[id.Name] = "var"
					delete(in.st.varTypes, id.Name)
					if len(s.Rhs) == len(s.Lhs) {
						if t := litType(s.Rhs[k]); t != "" {
							in.st.varTypes[id.Name] = t
						}
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := s.Decl.(*ast.GenDecl); ok {
				in.noteGenDecl(fset, info, g)
			}
		}
	}
}

// litType returns the type name of `T{...}` or `&T{...}`, or "".
func litType(x ast.Expr) string {
	if u, ok := x.(*ast.UnaryExpr); ok && u.Op == token.AND {
		x = u.X
	}
	if c, ok := x.(*ast.CompositeLit); ok {
		if id, ok := c.Type.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// noteGenDecl records one import, type, var or const declaration; the
// caller holds st.mu.
func (in *Interpreter) noteGenDecl(fset *token.FileSet, info *fileInfo, g *ast.GenDecl) {
	for _, s := range g.Specs {
		switch s := s.(type) {
		case *ast.ImportSpec:
			name, path := importName(s)
			if name != "_" && name != "." {
				in.st.imports[name] = path
			}
		case *ast.TypeSpec:
			in.st.kinds[s.Name.Name] = "type"
			delete(in.st.methods, s.Name.Name)
			doc := s.Doc
			if doc == nil && len(g.Specs) == 1 {
				doc = g.Doc
			}
			in.st.decls[s.Name.Name] = declText(fset, info, g.Pos(), doc, &ast.GenDecl{Tok: token.TYPE, Specs: []ast.Spec{&ast.TypeSpec{Name: s.Name, TypeParams: s.TypeParams, Assign: s.Assign, Type: s.Type}}})
		case *ast.ValueSpec:
			kind := "var"
			if g.Tok == token.CONST {
				kind = "const"
			}
			for k, id := range s.Names {
				if id.Name == "_" {
					continue
				}
				in.st.kinds[id.Name] = kind
				delete(in.st.varTypes, id.Name)
				if t, ok := s.Type.(*ast.Ident); ok {
					in.st.varTypes[id.Name] = t.Name
				} else if k < len(s.Values) {
					if t := litType(s.Values[k]); t != "" {
						in.st.varTypes[id.Name] = t
					}
				}
			}
		}
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	list = append(list, s)
	sort.Strings(list)
	return list
}

// declared returns the names cells declared, with their kinds.
func (in *Interpreter) declared() map[string]string {
	in.st.mu.RLock()
	defer in.st.mu.RUnlock()
	m := make(map[string]string, len(in.st.kinds)+len(in.st.imports))
	for n, k := range in.st.kinds {
		if !internalName(n) {
			m[n] = k
		}
	}
	for n := range in.st.imports {
		if !strings.HasPrefix(n, "_graft") {
			m[n] = "package"
		}
	}
	return m
}

// internalName reports whether a name was made by the kernel or the cell
// analyzer rather than by the user.
func internalName(n string) bool { return strings.HasPrefix(n, "_graft") || cell.IsInternal(n) }

// importPath returns the path of a package name imported by a cell.
func (in *Interpreter) importPath(name string) (string, bool) {
	in.st.mu.RLock()
	defer in.st.mu.RUnlock()
	p, ok := in.st.imports[name]
	return p, ok
}

// panicLine matches the line yaegi prints for each frame a panic unwinds.
var panicLine = regexp.MustCompile(`^(\S+):(\d+):(\d+): panic: (.*)\(\.\.\.\)\n?$`)

// posPrefix matches the position that starts a yaegi error message.
var posPrefix = regexp.MustCompile(`^(\S+?/_\.go|_\.go|\d+):(\d+):(\d+): `)

// traceWriter receives yaegi's own stderr: the per-frame lines it prints
// while a panic unwinds are kept for the traceback; everything else (the log
// package, print and println) goes to the cell's stderr.
type traceWriter struct{ in *Interpreter }

func (w traceWriter) Write(p []byte) (int, error) {
	if panicLine.Match(p) {
		w.in.traceMu.Lock()
		w.in.trace = append(w.in.trace, string(p))
		w.in.traceMu.Unlock()
		return len(p), nil
	}
	w.in.io.write(1, p)
	return len(p), nil
}

func (in *Interpreter) clearTrace() {
	in.traceMu.Lock()
	in.trace = nil
	in.traceMu.Unlock()
}

func (in *Interpreter) takeTrace() []string {
	in.traceMu.Lock()
	defer in.traceMu.Unlock()
	t := in.trace
	in.trace = nil
	return t
}

// rtExports is the runtime support package cells import as _graftrt.
func (in *Interpreter) rtExports() interp.Exports {
	render, show, showResult := reflect.ValueOf(display.Render), reflect.ValueOf(in.show), reflect.ValueOf(in.showResult)
	// yaegi wraps an interpreted value passed to these as `any` so that its
	// Display, Error or String method is seen.
	shown := []reflect.Type{reflect.TypeFor[display.Displayer](), reflect.TypeFor[error](), reflect.TypeFor[fmt.Stringer]()}
	return interp.Exports{
		rtPath + "/cellrt": {
			"Render":      render,
			"Show":        show,
			"ShowResult":  showResult,
			"At":          reflect.ValueOf(in.at),
			"Recovered":   reflect.ValueOf(in.recovered),
			"GoPanic":     reflect.ValueOf(in.goPanic),
			"CellContext": reflect.ValueOf(func() context.Context { return cellContext{in} }),
		},
		".": {"MapTypes": reflect.ValueOf(map[reflect.Value][]reflect.Type{render: shown, show: shown, showResult: shown})},
		// time.Sleep wakes up when the cell is interrupted.
		"time/time": {"Sleep": reflect.ValueOf(in.sleep)},
	}
}

// show renders a cell's trailing value (or a user expression) for the
// running cell. The handle display.Show returns is not shown: a cell
// ending in display.Show(x) shows x once, as IPython's display(x) does.
func (in *Interpreter) show(v any) {
	if _, ok := v.(*display.Handle); ok {
		return
	}
	b := display.Render(v)
	if r := in.cur.Load(); r != nil {
		r.mu.Lock()
		r.shown = &b
		r.mu.Unlock()
	}
}

// cellContext is the ctx cells see: it stands for the context of whichever
// cell is running when it is asked, so one value serves every cell.
type cellContext struct{ in *Interpreter }

func (c cellContext) current() context.Context {
	c.in.ctxMu.Lock()
	defer c.in.ctxMu.Unlock()
	return c.in.cellCtx
}

// Deadline implements context.Context.
func (c cellContext) Deadline() (time.Time, bool) { return c.current().Deadline() }

// Done implements context.Context.
func (c cellContext) Done() <-chan struct{} { return c.current().Done() }

// Err implements context.Context.
func (c cellContext) Err() error { return c.current().Err() }

// Value implements context.Context.
func (c cellContext) Value(key any) any { return c.current().Value(key) }

// String names the context in printed values.
func (c cellContext) String() string { return "ctx (the running cell's context)" }

// showResult renders the value of a trailing call that returns a value and
// an error, or, when the error is not nil, makes it the cell's error.
func (in *Interpreter) showResult(v any, err error) {
	if err == nil {
		in.show(v)
		return
	}
	if r := in.cur.Load(); r != nil {
		r.mu.Lock()
		r.failed = err
		r.mu.Unlock()
	}
}

// at records the cell lines of the top-level statement about to run.
func (in *Interpreter) at(first, last int) {
	if r := in.cur.Load(); r != nil {
		r.setStmt(first, last)
	}
}

// recovered is called with the result of each recover() in cells: a panic
// the code handled itself leaves no trace behind.
func (in *Interpreter) recovered(v any) any {
	if v != nil {
		in.clearTrace()
	}
	return v
}

// goPanic is called when a goroutine started by a cell panics. While a cell
// runs, the panic stops it and becomes its error; between cells it is
// written to stderr of the next cell.
func (in *Interpreter) goPanic(v any) {
	p := &panicInfo{value: v, trace: in.takeTrace()}
	if r := in.cur.Load(); r != nil {
		r.mu.Lock()
		if r.goPanic == nil {
			r.goPanic = p
		}
		r.mu.Unlock()
		r.cancel(errGoPanic)
		return
	}
	in.io.write(1, []byte("panic in a goroutine (after its cell ended): "+panicValue(v)+"\n"))
}

// sleep is the time.Sleep of cells: it returns early when the running cell
// is interrupted.
func (in *Interpreter) sleep(d time.Duration) {
	r := in.cur.Load()
	if r == nil {
		time.Sleep(d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.ctx.Done():
		if r.ended.Load() {
			// The cell ended normally; a goroutine it started sleeps on.
			<-t.C
		}
	}
}
