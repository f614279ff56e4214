// Package golang is the language half of graft's Jupyter kernel: it runs Go
// cells with the yaegi interpreter, keeping state across cells, streaming
// output while a cell runs, turning panics and compile errors into one error
// per failing cell, and answering the editor's completion, inspection and
// is-complete questions. It implements kernel.Language.
//
// What a cell sees:
//
//   - the standard library and the packages of Options.Exports, imported
//     automatically when the cell uses them (strings.ToUpper, tensor.New …);
//   - ctx, a context.Context that is done when the cell is interrupted (or
//     ends), to pass to long-running calls such as train.Run;
//   - os.Stdout and os.Stderr, which stream to the frontend as they are
//     written, and os.Stdin (also read by fmt.Scan*), which prompts the
//     frontend for a line each time it runs dry;
//   - display.Show and friends, which reach the cell's output.
//
// The value of a trailing expression is the cell's result (Out[n]), shown
// through display.Render; an expression without exactly one value (a call of
// fmt.Println, a func without results) shows nothing.
//
// An interpreted type's Display method (or Error or String) is seen by
// display.Render, display.Show and the trailing expression when the value's
// static type is that type (or a pointer to it, or a non-empty interface
// such as display.Displayer); h.Update(v) on a *display.Handle is rewritten
// as h.Update(display.Render(v)) so that it is seen there too. A limit of
// yaegi v0.16.1 remains: a value stored in a variable of type any (or
// returned as any) keeps no interpreted type — the variable holds a struct
// without methods, which no type switch or reflection can recover — so it
// shows as its fields, and so does a value passed to display.Show through a
// function value (f := display.Show).
package golang

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/traefik/yaegi/interp"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
	"github.com/graftml/graft/kernel/golang/cell"
	"github.com/graftml/graft/kernel/golang/stdsymbols"
	"github.com/graftml/graft/kernel/golang/symbols"
)

// Options configures an Interpreter.
type Options struct {
	// Version is graft's version, reported as the implementation version.
	Version string
	// Env is the environment cells see through os.Getenv and %env; nil
	// means a copy of the process environment. Cells cannot change the
	// process environment.
	Env []string
	// Exports are extra yaegi symbol tables (key "IMPORTPATH/NAME" →
	// symbols, as in stdsymbols.Symbols) made available to cells, in
	// addition to the standard library and graft's packages (symbols).
	Exports []interp.Exports
}

// Interpreter runs Go cells. It implements kernel.Language. Execute runs one
// cell at a time; Complete, Inspect and IsComplete may run concurrently with
// it. An Interpreter installs its own display.Frontend while a cell runs, so
// only one Interpreter per process should execute cells at a time.
type Interpreter struct {
	opts Options
	io   *cellIO
	pkgs *packageIndex

	execMu sync.Mutex // one Execute (or Reset) at a time

	imu sync.RWMutex
	i   *interp.Interpreter // replaced by Reset
	st  *state              // replaced by Reset

	cur     atomic.Pointer[run] // the running cell, nil between cells
	runs    int                 // counts Execute calls, names compiled files
	renames int                 // counts redefined types (see fixRedefinedTypes)

	traceMu sync.Mutex
	trace   []string // yaegi's panic lines since the step started

	stdoutFile, stderrFile *os.File // what cells see as os.Stdout and os.Stderr
	stdinFile              *Stdin   // what cells see as os.Stdin

	ctxMu   sync.Mutex
	cellCtx context.Context // what cells see as ctx

	// leftover identifies an interrupted cell's interpreter goroutine that
	// was still blocked in a compiled call when the interrupt was reported;
	// nil when there is none (see waitLeftover).
	leftover []byte
	stackBuf []byte // goroutine dumps while waiting for an interrupted cell
}

// Interface check.
var _ kernel.Language = (*Interpreter)(nil)

// New returns an interpreter with the standard library and the packages of
// opts.Exports available to cells.
func New(opts Options) (*Interpreter, error) {
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	c, err := newCellIO()
	if err != nil {
		return nil, fmt.Errorf("golang: creating the pipes for os.Stdout and os.Stderr: %w", err)
	}
	if err := setupMemoryLimit(); err != nil {
		fmt.Fprintln(os.Stderr, "graft:", err)
	}
	in := &Interpreter{opts: opts, io: c, cellCtx: context.Background()}
	in.stdoutFile, in.stderrFile = c.files[0], c.files[1]
	in.stdinFile = &Stdin{r: &c.stdin}
	in.pkgs = newPackageIndex(in.tables())
	if err := in.reset(); err != nil {
		c.close()
		return nil, err
	}
	return in, nil
}

// Reset forgets all state: a fresh interpreter replaces the current one.
func (in *Interpreter) Reset() error {
	in.execMu.Lock()
	defer in.execMu.Unlock()
	return in.reset()
}

func (in *Interpreter) reset() error {
	i := interp.New(interp.Options{
		Stdout: streamWriter{in.io, 0},
		Stderr: traceWriter{in},
		Stdin:  &in.io.stdin,
		Env:    append([]string(nil), in.opts.Env...),
	})
	for _, e := range in.tables() {
		if err := i.Use(e); err != nil {
			return fmt.Errorf("golang: loading symbol tables: %w", err)
		}
	}
	if err := i.Use(in.rtExports()); err != nil {
		return fmt.Errorf("golang: loading the cell runtime: %w", err)
	}
	if err := i.Use(interp.Exports{"os/os": {
		"Stdout": reflect.ValueOf(&in.stdoutFile).Elem(),
		"Stderr": reflect.ValueOf(&in.stderrFile).Elem(),
		"Stdin":  reflect.ValueOf(&in.stdinFile).Elem(),
	}}); err != nil {
		return fmt.Errorf("golang: redirecting os.Stdout: %w", err)
	}
	for _, src := range append(prelude, cell.Prelude()...) {
		if _, err := i.Eval(src); err != nil {
			return fmt.Errorf("golang: evaluating the prelude %q: %w", src, err)
		}
	}
	st := newState()
	st.imports["_graftrt"] = rtPath
	in.imu.Lock()
	in.i, in.st = i, st
	in.imu.Unlock()
	return nil
}

// tables returns the symbol tables cells may import from: the standard
// library, graft's packages, then Options.Exports.
func (in *Interpreter) tables() []interp.Exports {
	return append([]interp.Exports{stdsymbols.Symbols, symbols.Symbols}, in.opts.Exports...)
}

// current returns the current yaegi interpreter and state.
func (in *Interpreter) current() (*interp.Interpreter, *state) {
	in.imu.RLock()
	defer in.imu.RUnlock()
	return in.i, in.st
}

// Info describes Go for kernel_info_reply.
func (in *Interpreter) Info() kernel.LanguageInfo {
	v := strings.TrimPrefix(runtime.Version(), "go")
	return kernel.LanguageInfo{
		Name:              "go",
		Version:           v,
		MIMEType:          "text/x-go",
		FileExtension:     ".go",
		PygmentsLexer:     "go",
		CodeMirrorMode:    "go",
		Implementation:    "graft",
		ImplementationVer: in.opts.Version,
		Banner: "graft " + in.opts.Version + " — Go " + v + " cells (interpreted by yaegi) with graft's tensor and nn packages.\n" +
			"Type %help for magics; NAME? shows documentation.",
		HelpLinks: []kernel.HelpLink{
			{Text: "Go documentation", URL: "https://go.dev/doc/"},
			{Text: "Go standard library", URL: "https://pkg.go.dev/std"},
			{Text: "graft", URL: "https://github.com/graftml/graft"},
			{Text: "graft packages", URL: "https://pkg.go.dev/github.com/graftml/graft"},
		},
	}
}

// Execute runs one cell. Outputs stream to out while it runs; a failing cell
// returns its one error in the Result and writes nothing about it to out.
func (in *Interpreter) Execute(ctx context.Context, req kernel.ExecuteRequest, out kernel.Output) kernel.Result {
	in.execMu.Lock()
	defer in.execMu.Unlock()
	if req.Silent {
		out = discard{out}
	}
	if res, ok := in.magic(ctx, req, out); ok {
		return res
	}
	return in.execCode(ctx, req, req.Code, out)
}

// execCode runs Go code as a cell.
func (in *Interpreter) execCode(ctx context.Context, req kernel.ExecuteRequest, code string, out kernel.Output) kernel.Result {
	in.runs++
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &run{ctx: runCtx, cancel: cancel, id: in.runs, count: req.ExecutionCount, source: cellLines(code)}
	defer r.ended.Store(true)

	in.cur.Store(r)
	defer in.cur.Store(nil)
	in.io.begin(out)
	defer in.io.end()
	prev := display.SetFrontend(frontend{in.io})
	defer display.SetFrontend(prev)
	stopWatch := watchCell(r)
	defer stopWatch()
	if err := in.waitLeftover(runCtx); err != nil {
		return kernel.Result{Error: in.cellError(r, &stepErr{kind: "interrupt", err: err})}
	}
	in.setCtx(runCtx)

	defer func() {
		for _, name := range r.drop {
			in.dropFile(name)
		}
	}()
	var res kernel.Result
	b, serr := in.runCode(r, code)
	in.io.sync()
	if serr != nil {
		res.Error = in.cellError(r, serr)
		return res
	}
	if b != nil {
		if o := in.io.output(); o != nil {
			o.Result(*b)
		}
	}
	if len(req.UserExpressions) > 0 {
		res.UserExpressions = in.userExpressions(r, req.UserExpressions)
	}
	return res
}

// runCode plans and runs code; it returns the trailing value's bundle.
func (in *Interpreter) runCode(r *run, code string) (b *display.Bundle, serr *stepErr) {
	defer func() {
		if v := recover(); v != nil {
			b, serr = nil, compileErr(fmt.Errorf("%v", v), true)
		}
	}()
	p, perr := in.plan(code)
	if perr != nil {
		return nil, perr
	}
	b, serr = in.runPlan(r, p, cellLines(code))
	if serr != nil {
		serr = in.explain(r, code, p, serr)
	}
	return b, serr
}

// setCtx points the cells' ctx at the running cell's context.
func (in *Interpreter) setCtx(ctx context.Context) {
	in.ctxMu.Lock()
	in.cellCtx = ctx
	in.ctxMu.Unlock()
}

// userExpressions evaluates each expression after the cell.
func (in *Interpreter) userExpressions(r *run, exprs map[string]string) map[string]kernel.ExpressionResult {
	res := make(map[string]kernel.ExpressionResult, len(exprs))
	k := 0
	for name, src := range exprs {
		k++
		b, serr := in.evalExpr(r, src, 1000+k)
		if serr != nil {
			res[name] = kernel.ExpressionResult{Error: in.cellError(r, serr)}
			continue
		}
		res[name] = kernel.ExpressionResult{Value: b}
	}
	return res
}

// evalExpr evaluates one expression and renders its value.
func (in *Interpreter) evalExpr(r *run, src string, k int) (display.Bundle, *stepErr) {
	name := fileName(r.id, k)
	info := &fileInfo{run: r.id, count: r.count, header: 0, lines: []int{1}, source: []string{src}}
	in.addFile(name, info)
	defer in.dropFile(name)
	x, err := parser.ParseExprFrom(in.i.FileSet(), name, src, 0)
	if x != nil {
		info.tf = in.i.FileSet().File(x.Pos())
	}
	if err != nil {
		return display.Bundle{}, syntaxErr(err)
	}
	file := &ast.File{Name: ast.NewIdent("main"), Decls: []ast.Decl{&ast.GenDecl{Tok: token.VAR, Specs: []ast.Spec{&ast.ValueSpec{Names: []*ast.Ident{ast.NewIdent("_")}, Values: []ast.Expr{x}}}}}}
	if imps := in.newImports(in.autoImports(file)); len(imps) > 0 {
		var b strings.Builder
		for _, im := range imps {
			fmt.Fprintf(&b, "import %s %q\n", im.name, im.path)
		}
		if _, serr := in.runStep(r, step{src: b.String(), kind: declStep, lines: make([]int, len(imps)+1)}, k+1000, nil, false); serr != nil {
			return display.Bundle{}, serr
		}
	}
	b, ok, serr := in.render(r, x)
	if serr != nil {
		return display.Bundle{}, serr
	}
	if !ok {
		// Report why it does not compile.
		_, serr = in.compile(&ast.BlockStmt{Lbrace: x.Pos(), List: []ast.Stmt{&ast.ExprStmt{X: rtCall(x.Pos(), "Render", x)}}, Rbrace: x.End()})
		if serr == nil {
			serr = compileErr(errors.New("the expression has no single value"), false)
		}
		return display.Bundle{}, serr
	}
	if b == nil {
		return display.NewBundle(""), nil
	}
	return *b, nil
}

// plan decides how to evaluate a cell with the cell analyzer (falling back
// to the kernel's own split when the analyzer fails internally).
func (in *Interpreter) plan(code string) (*plan, *stepErr) {
	if strings.TrimSpace(code) == "" {
		return &plan{}, nil
	}
	sc := in.scope()
	cp, err := cell.Analyze(code, sc)
	if err != nil {
		var ce *cell.Error
		if errors.As(err, &ce) && !strings.HasPrefix(ce.Msg, "internal error") {
			return nil, cellErr(ce)
		}
		return in.fallbackPlan(code)
	}
	p := &plan{trailing: cp.Trailing, decls: cp.Decls, scope: &sc}
	for _, n := range cp.Defines {
		p.defines = append(p.defines, definedName{name: n.Name, kind: nameKinds[n.Kind]})
	}
	for _, im := range cp.Imports {
		p.imports = append(p.imports, importSpec{name: im.LocalName(), path: im.Path})
	}
	for _, s := range cp.Steps {
		kind := stmtStep
		if s.Kind == cell.Decls {
			kind = declStep
		}
		p.steps = append(p.steps, step{src: s.Source, lines: s.Lines, kind: kind})
	}
	if p.trailing && (len(cp.Steps) == 0 || cp.Steps[len(cp.Steps)-1].Kind != cell.Expression) {
		p.trailing = false
	}
	return p, nil
}

// nameKinds maps the cell analyzer's kinds of names to the kernel's.
var nameKinds = map[cell.NameKind]string{cell.VarName: "var", cell.ConstName: "const", cell.TypeName: "type", cell.FuncName: "func"}

// scope describes what earlier cells defined, for the cell analyzer.
func (in *Interpreter) scope() cell.Scope {
	sc := cell.Scope{
		Globals: map[string]reflect.Type{},
		Defined: map[string]bool{},
		Types:   map[string]bool{},
		Imports: map[string]string{},
		Decls:   map[string]string{},
		Symbols: in.pkgs.table,
		Package: in.pkgs.lookup,
	}
	for name, v := range in.globals() {
		if v.IsValid() {
			sc.Globals[name] = v.Type()
		}
	}
	in.st.mu.RLock()
	defer in.st.mu.RUnlock()
	for name, kind := range in.st.kinds {
		if kind != "var" {
			sc.Defined[name] = true
		}
		if kind == "type" {
			sc.Types[name] = true
		}
	}
	for _, name := range cell.PreludeNames() {
		sc.Defined[name] = true
	}
	for name, path := range in.st.imports {
		sc.Imports[name] = path
	}
	for name, d := range in.st.cellDecls {
		sc.Decls[name] = d
	}
	return sc
}

// globals returns the interpreter's global variables; empty when yaegi
// cannot list them (after some failed compilations it panics).
func (in *Interpreter) globals() (g map[string]reflect.Value) {
	defer func() {
		if recover() != nil {
			g = map[string]reflect.Value{}
		}
	}()
	i, _ := in.current()
	return i.Globals()
}

// cellErr turns an error of the cell analyzer into a step error at its
// cell position.
func cellErr(e *cell.Error) *stepErr {
	kind := "compile"
	if e.Syntax {
		kind = "syntax"
	}
	return &stepErr{kind: kind, err: e, pos: []posError{{cellLine: e.Line, col: e.Column, msg: e.Msg}}}
}

// autoImports returns imports for the package names f uses as pkg.Name
// without importing or declaring them.
func (in *Interpreter) autoImports(f *ast.File) []importSpec {
	local := map[string]bool{}
	for _, im := range f.Imports {
		name, _ := importName(im)
		local[name] = true
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						local[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				local[id.Name] = true
			}
		case *ast.TypeSpec:
			local[n.Name.Name] = true
		case *ast.FuncDecl:
			if n.Recv == nil {
				local[n.Name.Name] = true
			}
		case *ast.Field:
			for _, id := range n.Names {
				local[id.Name] = true
			}
		}
		return true
	})
	declared := in.declared()
	seen := map[string]bool{}
	var imps []importSpec
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || local[id.Name] || seen[id.Name] {
			return true
		}
		if _, ok := declared[id.Name]; ok {
			return true
		}
		if path, ok := in.pkgs.lookup(id.Name); ok {
			seen[id.Name] = true
			imps = append(imps, importSpec{name: id.Name, path: path})
		}
		return true
	})
	return imps
}

// packageIndex maps package names to the import paths cells may use.
type packageIndex struct {
	byName map[string]string
	syms   map[string]map[string]reflect.Value // import path → exported symbols
	raw    map[string]map[string]reflect.Value // import path → the whole table
}

// preferred settles names that several importable packages share.
var preferred = map[string]string{
	"rand":     "math/rand",
	"template": "text/template",
	"scanner":  "text/scanner",
	"pprof":    "runtime/pprof",
	"constant": "go/constant",
}

func newPackageIndex(tables []interp.Exports) *packageIndex {
	ix := &packageIndex{byName: map[string]string{}, syms: map[string]map[string]reflect.Value{}, raw: map[string]map[string]reflect.Value{}}
	for _, t := range tables {
		for key := range t {
			if key == "." {
				continue
			}
			i := strings.LastIndexByte(key, '/')
			if i < 0 {
				continue
			}
			path := key[:i]
			name := key[i+1:]
			if ix.syms[path] == nil {
				ix.syms[path] = map[string]reflect.Value{}
				ix.raw[path] = map[string]reflect.Value{}
			}
			for n, v := range t[key] {
				ix.raw[path][n] = v
				if !strings.HasPrefix(n, "_") {
					ix.syms[path][n] = v
				}
			}
			old, ok := ix.byName[name]
			switch {
			case !ok:
				ix.byName[name] = path
			case preferred[name] == path:
				ix.byName[name] = path
			case preferred[name] == old:
			case strings.Count(path, "/") < strings.Count(old, "/") || (strings.Count(path, "/") == strings.Count(old, "/") && path < old):
				ix.byName[name] = path
			}
		}
	}
	return ix
}

// lookup returns the import path for a package name.
func (ix *packageIndex) lookup(name string) (string, bool) {
	p, ok := ix.byName[name]
	return p, ok
}

// symbols returns the exported symbols of the package at path.
func (ix *packageIndex) symbols(path string) map[string]reflect.Value { return ix.syms[path] }

// table returns the whole symbol table of the package at path (wrappers
// included), or nil.
func (ix *packageIndex) table(path string) map[string]reflect.Value { return ix.raw[path] }

// names returns the package names cells can use without importing.
func (ix *packageIndex) names() []string {
	out := make([]string, 0, len(ix.byName))
	for n := range ix.byName {
		out = append(out, n)
	}
	return out
}

// quote quotes s for Go source.
func quote(s string) string { return strconv.Quote(s) }

// WithOutput implements kernel.OutsideCellOutput: while f runs — a comm
// callback the kernel calls for the frontend's comm_open, comm_msg or
// comm_close — what the callback prints or displays goes to out, which the
// kernel sends under that comm message.
func (in *Interpreter) WithOutput(out kernel.Output, f func()) {
	in.execMu.Lock()
	defer in.execMu.Unlock()
	in.io.begin(out)
	defer in.io.end()
	prev := display.SetFrontend(frontend{in.io})
	defer display.SetFrontend(prev)
	f()
	in.io.sync()
}
