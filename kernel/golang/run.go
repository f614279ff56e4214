package golang

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/traefik/yaegi/interp"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel/golang/cell"
)

// stepKind says how a step's source is compiled.
type stepKind int

const (
	// declStep is a sequence of top-level declarations (import, func, type,
	// var, const), compiled as a file of package main.
	declStep stepKind = iota
	// stmtStep is a sequence of statements, run in the global scope.
	stmtStep
)

// step is one piece of a cell evaluated by itself.
type step struct {
	src   string
	lines []int // cell line of each line of src; 0 for synthesized lines
	kind  stepKind
}

// importSpec is one import a cell needs.
type importSpec struct{ name, path string }

// plan is how a cell is evaluated: its automatic imports, then its steps in
// order; with trailing set, the last statement of the last step is an
// expression whose value is the cell's result.
type plan struct {
	imports  []importSpec
	steps    []step
	trailing bool
	defines  []definedName     // top-level names the cell defines
	decls    map[string]string // their declarations, for the analyzer of later cells
	scope    *cell.Scope       // what earlier cells defined (nil: unknown), see explain
}

// definedName is a top-level name a cell defines and its kind ("var",
// "const", "type", "func").
type definedName struct{ name, kind string }

// run is the state of one executing cell.
type run struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	id     int      // unique per Execute, names the cell's compiled files
	count  int      // execution count, In[count]
	source []string // the cell's lines

	mu       sync.Mutex
	goPanic  *panicInfo // the first panic of a goroutine the cell started
	stmtLine [2]int     // cell lines of the top-level statement running

	shown  *display.Bundle // what _graftrt.Show rendered
	failed error           // the error _graftrt.ShowResult was handed
	ended  atomic.Bool     // set when the cell ends, before ctx is cancelled
	// heapAtStop is the heap size at which the memory guard stopped the
	// cell.
	heapAtStop atomic.Uint64

	// drop lists compiled files that no later traceback can mention,
	// forgotten when the cell ends.
	drop []string
}

// panicInfo is a recovered panic with the interpreter's trace lines.
type panicInfo struct {
	value any
	trace []string
}

// Reasons a run is stopped other than an interrupt.
var (
	errStackOverflow = errors.New("stack overflow")
	errGoPanic       = errors.New("panic in a goroutine")
)

// maxStack is the total goroutine stack size at which a running cell is
// stopped: Go's own limit (1 GB for one goroutine) is fatal to the process,
// so deep recursion must be stopped well before it.
var maxStack uint64 = 256 << 20

// fileInfo maps positions in one compiled source back to the cell.
type fileInfo struct {
	run    int         // the run that compiled it
	count  int         // its cell's execution count (0: unknown)
	header int         // lines of the compiled file before the step's source
	lines  []int       // cell line of each step source line
	source []string    // the cell's lines, for carets under compile errors
	tf     *token.File // the parsed file in the interpreter's FileSet
}

// cellLine returns the cell line of line n of the compiled file, or 0. A
// line after the step's source (the closing brace of the wrapper yaegi's
// parser reports for an unfinished statement) is the step's last line.
func (f *fileInfo) cellLine(n int) int {
	k := n - f.header - 1
	if k >= len(f.lines) {
		k = len(f.lines) - 1
		for k > 0 && f.lines[k] == 0 {
			k--
		}
	}
	if k < 0 || k >= len(f.lines) {
		return 0
	}
	return f.lines[k]
}

// pastEnd reports whether line n of the compiled file comes after the
// step's source.
func (f *fileInfo) pastEnd(n int) bool { return n-f.header-1 >= len(f.lines) }

// fileName names the compiled source of step k of run id. Every name ends in
// "/_.go": yaegi scopes imports by a file's base name, so all cells must
// share it for an import in one cell to be visible in the next.
func fileName(id, k int) string { return "s" + strconv.Itoa(id) + "." + strconv.Itoa(k) + "/_.go" }

// cellLines splits a cell into lines.
func cellLines(code string) []string { return strings.Split(code, "\n") }

// stepErr is a failure to compile or run a step.
type stepErr struct {
	kind string // "syntax", "compile", "panic", "interrupt", "overflow", "memory", "internal"
	err  error
	pos  []posError // compile errors with positions
	p    *panicInfo
}

func (e *stepErr) Error() string { return e.err.Error() }

// posError is a compile error at a position of a compiled file.
type posError struct {
	file      string
	line, col int
	msg       string
	cellLine  int // set instead of file and line for a position in the cell itself
}

// runPlan evaluates the plan's imports and steps. It returns the bundle of
// the trailing value (nil when there is none).
func (in *Interpreter) runPlan(r *run, p *plan, src []string) (*display.Bundle, *stepErr) {
	if imps := in.newImports(p.imports); len(imps) > 0 {
		var b strings.Builder
		for _, im := range imps {
			fmt.Fprintf(&b, "import %s %q\n", im.name, im.path)
		}
		s := step{src: b.String(), kind: declStep, lines: make([]int, len(imps)+1)}
		if _, err := in.runStep(r, s, 0, src, false); err != nil {
			return nil, err
		}
	}
	var result *display.Bundle
	for k, s := range p.steps {
		trailing := p.trailing && k == len(p.steps)-1 && s.kind == stmtStep
		b, err := in.runStep(r, s, k+1, src, trailing)
		if err != nil {
			return nil, err
		}
		result = b
	}
	in.notePlan(p)
	return result, nil
}

// runStep parses, rewrites, compiles and runs one step.
func (in *Interpreter) runStep(r *run, s step, k int, src []string, trailing bool) (*display.Bundle, *stepErr) {
	name := fileName(r.id, k)
	info := &fileInfo{run: r.id, count: r.count, header: 1, lines: s.lines, source: src}
	in.addFile(name, info)
	fset := in.i.FileSet()
	switch s.kind {
	case declStep:
		f, err := parser.ParseFile(fset, name, "package main\n"+s.src, parser.ParseComments)
		if f != nil {
			info.tf = fset.File(f.Pos())
		}
		if err != nil {
			return nil, syntaxErr(err)
		}
		in.dropKnownImports(f)
		if len(f.Decls) == 0 {
			return nil, nil
		}
		in.fixRedefinedTypes(f)
		rewriteFuncs(f)
		if err := in.compileAndRun(r, f, func() { in.noteDecls(fset, info, f.Decls) }); err != nil {
			return nil, err
		}
		if !declaresCode(f) {
			r.drop = append(r.drop, name)
		}
		return nil, nil
	default:
		f, err := parser.ParseFile(fset, name, "package main; func main() {\n"+s.src+"\n}", parser.ParseComments)
		if f != nil {
			info.tf = fset.File(f.Pos())
		}
		if err != nil {
			return nil, syntaxErr(err)
		}
		body := f.Decls[0].(*ast.FuncDecl).Body
		in.fixRedefinedTypes(body)
		if perr := checkTopLevel(fset, body); perr != nil {
			return nil, perr
		}
		rewriteFuncs(body)
		var last ast.Expr
		if n := len(body.List); trailing && n > 0 {
			if es, ok := body.List[n-1].(*ast.ExprStmt); ok {
				last = es.X
				body.List = body.List[:n-1]
			}
		}
		stmts := body.List
		body.List = in.instrument(fset, info, stmts)
		if len(body.List) > 0 {
			if err := in.compileAndRun(r, body, func() { in.noteStmts(fset, info, stmts) }); err != nil {
				return nil, err
			}
		}
		if !containsFuncLit(f) {
			r.drop = append(r.drop, name)
		}
		if last == nil {
			return nil, nil
		}
		return in.runTrailing(r, fset, info, last)
	}
}

// runTrailing evaluates the cell's trailing expression through
// _graftrt.Render, so that an interpreted type with a Display or String
// method shows its own form. An expression without exactly one value (a call
// of fmt.Println, a func with no result) fails to compile that way; it then
// runs as a plain statement and shows nothing.
func (in *Interpreter) runTrailing(r *run, fset *token.FileSet, info *fileInfo, x ast.Expr) (*display.Bundle, *stepErr) {
	r.setStmt(info.cellLine(fset.Position(x.Pos()).Line), info.cellLine(fset.Position(x.End()).Line))
	b, shown, serr := in.render(r, x)
	if shown || serr != nil {
		return b, serr
	}
	plain := &ast.BlockStmt{Lbrace: x.Pos(), List: []ast.Stmt{&ast.ExprStmt{X: x}}, Rbrace: x.End()}
	prog, serr := in.compile(plain)
	if serr != nil {
		return nil, serr
	}
	_, serr = in.execute(r, prog)
	return nil, serr
}

// render evaluates `_graftrt.Show(x)`, which renders x's value with
// display.Render for the running cell. (Show returns nothing, so no bundle
// is left in the interpreter's global frame, where every value a top-level
// statement computes stays for good.) ok is false when that does not
// compile (x has no single value); serr is a failure to run.
func (in *Interpreter) render(r *run, x ast.Expr) (b *display.Bundle, ok bool, serr *stepErr) {
	prog, ok := in.compileShow(x, "Show")
	if !ok {
		// A call returning a value and an error: ShowResult shows the
		// value or fails the cell with the error.
		if prog, ok = in.compileShow(x, "ShowResult"); !ok {
			return nil, false, nil
		}
	}
	r.mu.Lock()
	r.shown, r.failed = nil, nil
	r.mu.Unlock()
	if _, serr := in.execute(r, prog); serr != nil {
		return nil, true, serr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != nil {
		return nil, true, &stepErr{kind: "error", err: r.failed}
	}
	return r.shown, true, nil
}

// compileShow compiles `_graftrt.NAME(x)`; ok is false when it does not
// compile.
func (in *Interpreter) compileShow(x ast.Expr, name string) (*interp.Program, bool) {
	block := &ast.BlockStmt{Lbrace: x.Pos(), Rbrace: x.End(), List: []ast.Stmt{callStmt(x.Pos(), name, x)}}
	prog, err := in.compile(block)
	return prog, err == nil
}

// compileAndRun compiles n (a file or a block) and runs it. compiled is
// called in between: the names n declares exist from then on, even when
// running it fails or is interrupted.
func (in *Interpreter) compileAndRun(r *run, n ast.Node, compiled func()) *stepErr {
	prog, err := in.compile(n)
	if err != nil {
		return err
	}
	compiled()
	_, err = in.execute(r, prog)
	return err
}

// compile compiles n, turning the interpreter's panics into errors.
func (in *Interpreter) compile(n ast.Node) (prog *interp.Program, serr *stepErr) {
	defer forgetRoots(in.i)
	defer func() {
		if v := recover(); v != nil {
			serr = compileErr(fmt.Errorf("%v", v), true)
		}
	}()
	prog, err := in.i.CompileAST(n)
	if err != nil {
		return nil, compileErr(err, false)
	}
	return prog, nil
}

// forgetRoots empties the list of every compiled AST that a yaegi
// interpreter keeps for its debugger (which graft does not use): without
// this, each cell's syntax tree stays in memory for the life of the kernel.
// The field is unexported, so it is reached through reflect; if a yaegi
// version lacks it, nothing happens.
func forgetRoots(i *interp.Interpreter) {
	f := reflect.ValueOf(i).Elem().FieldByName("roots")
	if !f.IsValid() || f.Kind() != reflect.Slice {
		return
	}
	f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	f.Set(reflect.Zero(f.Type()))
}

// execute runs a compiled program until it ends or the run is stopped. On a
// stop it waits (up to a second) for the interpreter to leave the program, so
// that the next cell never runs alongside it.
func (in *Interpreter) execute(r *run, prog *interp.Program) (v reflect.Value, serr *stepErr) {
	in.clearTrace()
	v, err := in.i.ExecuteWithContext(r.ctx, prog)
	if r.ctx.Err() != nil {
		in.waitStopped()
		cause := context.Cause(r.ctx)
		switch {
		case errors.Is(cause, errStackOverflow):
			return v, &stepErr{kind: "overflow", err: cause}
		case errors.Is(cause, errMemory):
			go debug.FreeOSMemory() // the stopped cell's allocations, now garbage
			return v, &stepErr{kind: "memory", err: cause}
		case errors.Is(cause, errGoPanic):
			r.mu.Lock()
			p := r.goPanic
			r.mu.Unlock()
			return v, &stepErr{kind: "panic", err: cause, p: p}
		}
		return v, &stepErr{kind: "interrupt", err: cause}
	}
	if err != nil {
		var p interp.Panic
		if errors.As(err, &p) {
			return v, &stepErr{kind: "panic", err: err, p: &panicInfo{value: p.Value, trace: in.takeTrace()}}
		}
		return v, compileErr(err, false)
	}
	return v, nil
}

// waitStopped waits until no goroutine started by ExecuteWithContext on
// behalf of this goroutine is left, or a second has passed. After an
// interrupt the interpreter stops at its next step, which takes microseconds
// unless the code is blocked inside a compiled call; then the goroutine is
// remembered, and the next cell waits for it (see waitLeftover).
func (in *Interpreter) waitStopped() {
	gid := goroutineID()
	if gid == "" {
		return
	}
	mark := []byte("created by github.com/traefik/yaegi/interp.(*Interpreter).ExecuteWithContext in goroutine " + gid + "\n")
	deadline := time.Now().Add(time.Second)
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		if !in.interpreterRunning(mark) {
			return
		}
		if time.Now().After(deadline) {
			in.leftover = mark
			return
		}
		time.Sleep(delay)
	}
}

// interpreterRunning says whether a goroutine that mark (the "created by"
// line of its stack) identifies is still running. It is called on the
// interrupt path only, under execMu, and reuses one buffer for the dump.
func (in *Interpreter) interpreterRunning(mark []byte) bool {
	if in.stackBuf == nil {
		in.stackBuf = make([]byte, 4<<20)
	}
	n := runtime.Stack(in.stackBuf, true)
	return bytes.Contains(in.stackBuf[:n], mark)
}

// waitLeftover makes a cell wait for an interrupted cell that was still
// inside a compiled call when its interrupt was reported, so that two cells
// never run at once and the old one cannot go on with its remaining
// statements during the new one. An interrupt of the waiting cell ends the
// wait (and the cell); the next cell waits again.
func (in *Interpreter) waitLeftover(ctx context.Context) error {
	if in.leftover == nil {
		return nil
	}
	told := false
	for delay := time.Millisecond; in.interpreterRunning(in.leftover); delay = min(2*delay, 50*time.Millisecond) {
		if !told {
			in.io.write(1, []byte("graft: waiting for the interrupted cell to return from a compiled call (interrupt to stop waiting)\n"))
			told = true
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(delay):
		}
	}
	in.leftover = nil
	return nil
}

// goroutineID returns the id of the calling goroutine, as runtime.Stack
// prints it.
func goroutineID() string {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	s := strings.TrimPrefix(string(buf[:n]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return ""
}

// watchCell stops r when goroutine stacks grow past maxStack (runaway
// recursion) or when the cell grows the heap past the memory limit (see
// memory.go), and returns a func that ends the watch.
func watchCell(r *run) (stop func()) {
	done := make(chan struct{})
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		startHeap := sample[1].Value.Uint64()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-r.ctx.Done():
				return
			case <-t.C:
				metrics.Read(sample)
				if sample[0].Value.Uint64() > maxStack {
					r.cancel(errStackOverflow)
					return
				}
				heap := sample[1].Value.Uint64()
				if limit := memoryLimit.Load(); limit > 0 && heap > limit && heap > startHeap+memoryGrowthSlack {
					r.heapAtStop.Store(heap)
					r.cancel(errMemory)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

func (r *run) setStmt(first, last int) {
	r.mu.Lock()
	r.stmtLine = [2]int{first, last}
	r.mu.Unlock()
}

func (r *run) stmt() [2]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stmtLine
}

// syntaxErr wraps a parse error.
func syntaxErr(err error) *stepErr {
	e := &stepErr{kind: "syntax", err: err}
	var list scanner.ErrorList
	if errors.As(err, &list) {
		for _, s := range list {
			e.pos = append(e.pos, posError{file: s.Pos.Filename, line: s.Pos.Line, col: s.Pos.Column, msg: s.Msg})
		}
	}
	return e
}

// compileErr wraps an error of yaegi's compiler (or one of its panics).
func compileErr(err error, internal bool) *stepErr {
	e := &stepErr{kind: "compile", err: err}
	if internal {
		e.kind = "internal"
	}
	msg := strings.TrimSpace(err.Error())
	msg = strings.ReplaceAll(msg, "CFG post-order panic: ", "")
	if m := posPrefix.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		rest := msg[len(m[0]):]
		// A compiler panic may nest a second, more precise position.
		if m2 := posPrefix.FindStringSubmatch(rest); m2 != nil {
			m, rest = m2, rest[len(m2[0]):]
			line, _ = strconv.Atoi(m[2])
			col, _ = strconv.Atoi(m[3])
		}
		e.pos = append(e.pos, posError{file: m[1], line: line, col: col, msg: rest})
	}
	return e
}

// checkTopLevel rejects statements that cannot work at the top level of a
// cell: a defer there would stay registered with the interpreter's global
// frame and run again at the end of every later cell.
func checkTopLevel(fset *token.FileSet, body *ast.BlockStmt) *stepErr {
	var bad ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if bad != nil {
			return false
		}
		switch n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.DeferStmt:
			bad = n
			return false
		}
		return true
	})
	if bad == nil {
		return nil
	}
	p := fset.Position(bad.Pos())
	msg := "defer outside a function is not supported in a cell (it would run at the end of every later cell); put the code in a func and call it"
	return &stepErr{kind: "compile", err: errors.New(msg), pos: []posError{{file: p.Filename, line: p.Line, col: p.Column, msg: msg}}}
}

// instrument puts a call of _graftrt.At before each top-level statement so
// that a panic's traceback names the statement the cell was running.
func (in *Interpreter) instrument(fset *token.FileSet, info *fileInfo, stmts []ast.Stmt) []ast.Stmt {
	out := make([]ast.Stmt, 0, 2*len(stmts))
	for _, s := range stmts {
		first := info.cellLine(fset.Position(s.Pos()).Line)
		last := info.cellLine(fset.Position(s.End()).Line)
		out = append(out, callStmt(s.Pos(), "At", intLit(s.Pos(), first), intLit(s.Pos(), last)), s)
	}
	return out
}

// callStmt builds `_graftrt.NAME(args...)` at pos.
func callStmt(pos token.Pos, name string, args ...ast.Expr) ast.Stmt {
	return &ast.ExprStmt{X: rtCall(pos, name, args...)}
}

func rtCall(pos token.Pos, name string, args ...ast.Expr) *ast.CallExpr {
	return &ast.CallExpr{
		Fun:    &ast.SelectorExpr{X: &ast.Ident{NamePos: pos, Name: "_graftrt"}, Sel: &ast.Ident{NamePos: pos, Name: name}},
		Lparen: pos, Args: args, Rparen: pos,
	}
}

func intLit(pos token.Pos, n int) ast.Expr {
	return &ast.BasicLit{ValuePos: pos, Kind: token.INT, Value: strconv.Itoa(n)}
}

// rewriteFuncs makes panics inside goroutines recoverable and keeps the
// panic trace accurate:
//
//   - `go f(a, b)` becomes a block that evaluates f's arguments first (as Go
//     does) and starts a goroutine whose deferred recover reports a panic to
//     the kernel instead of crashing it;
//   - `recover()` becomes `_graftrt.Recovered(recover())`, which forgets the
//     trace of a panic the code handled itself.
func rewriteFuncs(root ast.Node) {
	gen := map[ast.Node]bool{} // nodes this rewrite made, not to be rewritten again
	wrap := func(x ast.Expr) ast.Expr {
		if isRecoverCall(x) {
			c := rtCall(x.Pos(), "Recovered", x)
			gen[c] = true
			return c
		}
		return x
	}
	stmts := func(list []ast.Stmt) {
		for i, s := range list {
			list[i] = rewriteStmt(s, gen)
		}
	}
	ast.Inspect(root, func(n ast.Node) bool {
		if n == nil || gen[n] {
			return false
		}
		switch n := n.(type) {
		case *ast.BlockStmt:
			stmts(n.List)
		case *ast.CaseClause:
			stmts(n.Body)
		case *ast.CommClause:
			stmts(n.Body)
		case *ast.LabeledStmt:
			n.Stmt = rewriteStmt(n.Stmt, gen)
		case *ast.CallExpr:
			for i, a := range n.Args {
				n.Args[i] = wrap(a)
			}
		case *ast.AssignStmt:
			for i, a := range n.Rhs {
				n.Rhs[i] = wrap(a)
			}
		case *ast.ValueSpec:
			for i, a := range n.Values {
				n.Values[i] = wrap(a)
			}
		case *ast.ExprStmt:
			n.X = wrap(n.X)
		case *ast.ReturnStmt:
			for i, a := range n.Results {
				n.Results[i] = wrap(a)
			}
		}
		return true
	})
}

func isRecoverCall(x ast.Expr) bool {
	c, ok := x.(*ast.CallExpr)
	if !ok || len(c.Args) != 0 {
		return false
	}
	id, ok := c.Fun.(*ast.Ident)
	return ok && id.Name == "recover"
}

// builtins cannot be used as values, so `go BUILTIN(...)` is left alone.
var builtins = map[string]bool{
	"append": true, "cap": true, "clear": true, "close": true, "complex": true, "copy": true,
	"delete": true, "imag": true, "len": true, "make": true, "max": true, "min": true, "new": true,
	"panic": true, "print": true, "println": true, "real": true, "recover": true,
}

// rewriteStmt rewrites a go statement (see rewriteFuncs); other statements
// are returned as they are. The nodes it makes are added to gen.
func rewriteStmt(s ast.Stmt, gen map[ast.Node]bool) ast.Stmt {
	g, ok := s.(*ast.GoStmt)
	if !ok || gen[g] {
		return s
	}
	pos := g.Go
	call := g.Call
	if id, ok := call.Fun.(*ast.Ident); ok && builtins[id.Name] {
		return s
	}
	ident := func(name string) *ast.Ident { return &ast.Ident{NamePos: pos, Name: name} }
	var lhs, rhs []ast.Expr
	fun := call.Fun
	switch f := call.Fun.(type) {
	case *ast.Ident:
	case *ast.SelectorExpr:
		if _, ok := f.X.(*ast.Ident); !ok {
			lhs, rhs = append(lhs, ident("_graftGoF")), append(rhs, f)
			fun = ident("_graftGoF")
		}
	default:
		lhs, rhs = append(lhs, ident("_graftGoF")), append(rhs, f)
		fun = ident("_graftGoF")
	}
	args := make([]ast.Expr, len(call.Args))
	for i, a := range call.Args {
		if _, lit := a.(*ast.BasicLit); lit {
			args[i] = a
			continue
		}
		name := "_graftGoA" + strconv.Itoa(i)
		lhs, rhs = append(lhs, ident(name)), append(rhs, a)
		args[i] = ident(name)
	}
	// defer func() { if r := recover(); r != nil { _graftrt.GoPanic(r) } }()
	handler := &ast.FuncLit{
		Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{Opening: pos, Closing: pos}},
		Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{&ast.IfStmt{
			If: pos,
			Init: &ast.AssignStmt{Lhs: []ast.Expr{ident("_graftGoR")}, TokPos: pos, Tok: token.DEFINE,
				Rhs: []ast.Expr{&ast.CallExpr{Fun: ident("recover"), Lparen: pos, Rparen: pos}}},
			Cond: &ast.BinaryExpr{X: ident("_graftGoR"), OpPos: pos, Op: token.NEQ, Y: ident("nil")},
			Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{callStmt(pos, "GoPanic", ident("_graftGoR"))}},
		}}},
	}
	inner := &ast.CallExpr{Fun: fun, Lparen: call.Lparen, Args: args, Ellipsis: call.Ellipsis, Rparen: call.Rparen}
	goFunc := &ast.FuncLit{
		Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{Opening: pos, Closing: pos}},
		Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{
			&ast.DeferStmt{Defer: pos, Call: &ast.CallExpr{Fun: handler, Lparen: pos, Rparen: pos}},
			&ast.ExprStmt{X: inner},
		}},
	}
	newGo := &ast.GoStmt{Go: pos, Call: &ast.CallExpr{Fun: goFunc, Lparen: pos, Rparen: pos}}
	gen[newGo], gen[handler] = true, true
	// The call's own arguments were moved out or are literals; only a
	// function value that stays inline needs the walk.
	if _, ok := fun.(*ast.Ident); !ok || len(lhs) == 0 {
		gen[goFunc] = true
	}
	if len(lhs) == 0 {
		return newGo
	}
	return &ast.BlockStmt{Lbrace: pos, Rbrace: g.End(), List: []ast.Stmt{
		&ast.AssignStmt{Lhs: lhs, TokPos: pos, Tok: token.DEFINE, Rhs: rhs},
		newGo,
	}}
}

// fixRedefinedTypes lets a cell redefine a type. yaegi resolves a type
// declaration whose name it already knows to the old type, so the new one
// is declared under a fresh name (its references to itself renamed too) and
// the old name becomes an alias of it:
//
//	type point struct{ X, Y, Z int }
//
// becomes
//
//	type _graftR3_point struct{ X, Y, Z int }
//	type point = _graftR3_point
//
// Errors that name the fresh name are shown with the old one (see
// cleanPositions).
func (in *Interpreter) fixRedefinedTypes(root ast.Node) {
	declared := in.declared()
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			return false
		case *ast.GenDecl:
			if n.Tok != token.TYPE {
				return false
			}
			var specs []ast.Spec
			for _, sp := range n.Specs {
				ts := sp.(*ast.TypeSpec)
				if declared[ts.Name.Name] != "type" || ts.TypeParams != nil || ts.Assign != 0 {
					specs = append(specs, ts)
					continue
				}
				in.renames++
				fresh := "_graftR" + strconv.Itoa(in.renames) + "_" + ts.Name.Name
				renameIdents(ts.Type, ts.Name.Name, fresh)
				specs = append(specs,
					&ast.TypeSpec{Doc: ts.Doc, Name: &ast.Ident{NamePos: ts.Name.NamePos, Name: fresh}, Type: ts.Type},
					&ast.TypeSpec{Name: ts.Name, Assign: ts.Name.End(), Type: &ast.Ident{NamePos: ts.Name.NamePos, Name: fresh}})
			}
			if len(specs) > 1 && n.Lparen == 0 {
				n.Lparen, n.Rparen = n.TokPos, n.End()-1
			}
			n.Specs = specs
			return false
		}
		return true
	})
}

// renameIdents renames the identifiers old in a type expression (not field
// names or selectors).
func renameIdents(x ast.Node, old, fresh string) {
	ast.Inspect(x, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if n.Type != nil {
				renameIdents(n.Type, old, fresh)
			}
			return false
		case *ast.SelectorExpr:
			return false
		case *ast.Ident:
			if n.Name == old {
				n.Name = fresh
			}
		}
		return true
	})
}

// renamed matches the fresh names of redefined types.
var renamed = regexp.MustCompile(`_graftR\d+_`)

// declaresCode reports whether a file declares funcs or methods (whose
// positions may appear in later tracebacks).
func declaresCode(f *ast.File) bool {
	for _, d := range f.Decls {
		if _, ok := d.(*ast.FuncDecl); ok {
			return true
		}
	}
	return containsFuncLit(f)
}

func containsFuncLit(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			found = true
		}
		return !found
	})
	return found
}
