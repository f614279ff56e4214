package golang

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/graftml/graft/kernel"
	"github.com/graftml/graft/kernel/golang/cell"
)

// Error names of failing cells (CellError.Name).
const (
	ErrSyntax      = "SyntaxError"   // the cell does not parse
	ErrCompile     = "CompileError"  // the cell parses but does not compile
	ErrPanic       = "panic"         // a panic in the cell or a goroutine it started
	ErrInterrupted = "Interrupted"   // the user interrupted the cell
	ErrOverflow    = "StackOverflow" // runaway recursion stopped before it crashed the kernel
	ErrMemory      = "MemoryLimit"   // runaway allocation stopped before it exhausted the machine
	ErrUsage       = "UsageError"    // a magic was misused
	ErrReturned    = "error"         // the cell's trailing call returned a non-nil error
)

// anyPos matches a position of a compiled cell file inside a message.
var anyPos = regexp.MustCompile(`(s\d+\.\d+/_\.go):(\d+):(\d+)`)

// where describes line n of compiled file name in the cell's own terms:
// "cell line 3" for the running cell, "In[2] line 3" for an earlier one.
func (in *Interpreter) where(r *run, name string, n int) string {
	f := in.file(name)
	if f == nil {
		return "an earlier cell"
	}
	line := f.cellLine(n)
	label := "cell"
	if f.run != r.id {
		label = "an earlier cell"
		if f.count > 0 {
			label = "In[" + strconv.Itoa(f.count) + "]"
		}
	}
	if line == 0 {
		return label
	}
	return label + " line " + strconv.Itoa(line)
}

// cleanPositions rewrites the positions of compiled files inside msg.
func (in *Interpreter) cleanPositions(r *run, msg string) string {
	msg = renamed.ReplaceAllString(msg, "")
	return anyPos.ReplaceAllStringFunc(msg, func(s string) string {
		m := anyPos.FindStringSubmatch(s)
		n, _ := strconv.Atoi(m[2])
		return in.where(r, m[1], n)
	})
}

// cellError turns a failed step into the cell's one error.
func (in *Interpreter) cellError(r *run, e *stepErr) *kernel.CellError {
	switch e.kind {
	case "syntax", "compile", "internal":
		return in.compileError(r, e)
	case "interrupt":
		return &kernel.CellError{Name: ErrInterrupted, Value: "the cell was interrupted",
			Traceback: []string{ErrInterrupted + ": the cell was stopped" + in.stmtSuffix(r)}}
	case "error":
		v := in.cleanPositions(r, e.err.Error())
		return &kernel.CellError{Name: ErrReturned, Value: v,
			Traceback: []string{ErrReturned + ": " + v, "", "cell", "\t" + in.stmtWhere(r)}}
	case "overflow":
		v := fmt.Sprintf("goroutine stacks grew past %d MB (runaway recursion?); the cell was stopped", maxStack>>20)
		return &kernel.CellError{Name: ErrOverflow, Value: v,
			Traceback: []string{ErrOverflow + ": " + v, "", "cell", "\t" + in.stmtWhere(r)}}
	case "memory":
		v := fmt.Sprintf("the heap reached %s, past graft's memory limit of %s (%%memory SIZE or %s changes it); "+
			"the cell was stopped, and what it allocated is freed unless a variable still holds it",
			formatBytes(r.heapAtStop.Load()), formatBytes(memoryLimit.Load()), MemoryLimitEnv)
		return &kernel.CellError{Name: ErrMemory, Value: v,
			Traceback: []string{ErrMemory + ": " + v, "", "cell", "\t" + in.stmtWhere(r)}}
	default:
		return in.panicError(r, e)
	}
}

func (in *Interpreter) stmtWhere(r *run) string {
	if s := r.stmt(); s[0] > 0 {
		return "cell line " + strconv.Itoa(s[0])
	}
	return "cell"
}

func (in *Interpreter) stmtSuffix(r *run) string {
	if s := r.stmt(); s[0] > 0 {
		return " at cell line " + strconv.Itoa(s[0])
	}
	return ""
}

// compileError reports a syntax or compile error at its cell line, with the
// line and a caret under the column.
func (in *Interpreter) compileError(r *run, e *stepErr) *kernel.CellError {
	name := ErrCompile
	if e.kind == "syntax" {
		name = ErrSyntax
	}
	if len(e.pos) == 0 {
		msg := in.cleanPositions(r, e.err.Error())
		if e.kind == "internal" {
			msg = "the interpreter failed on this cell: " + msg
		}
		return &kernel.CellError{Name: name, Value: msg, Traceback: []string{name + ": " + msg}}
	}
	var tb []string
	var first string
	for i, p := range e.pos {
		if i == 3 {
			tb = append(tb, fmt.Sprintf("(and %d more errors)", len(e.pos)-i))
			break
		}
		msg := in.cleanPositions(r, strings.TrimSpace(p.msg))
		if f := in.file(p.file); f != nil && f.pastEnd(p.line) {
			msg = strings.Replace(msg, "found '}'", "found the end of the cell", 1)
			p.col = len(f.source[max(f.cellLine(p.line), 1)-1]) + 1
		}
		if e.kind == "internal" {
			msg = "the interpreter failed here: " + msg
		}
		var at string
		line, source := 0, r.source
		switch f := in.file(p.file); {
		case p.cellLine > 0:
			line = p.cellLine
			at = "cell line " + strconv.Itoa(line)
		case p.file == "":
			at = "cell"
		default:
			at = in.where(r, p.file, p.line)
			if f != nil && f.run == r.id {
				line = f.cellLine(p.line)
			}
		}
		if line > 0 && p.col > 0 && line <= len(source) {
			at += ":" + strconv.Itoa(p.col)
		}
		text := at + ": " + msg
		if i == 0 {
			first = text
		}
		tb = append(tb, name+": "+text)
		if line > 0 && line <= len(source) {
			src := strings.ReplaceAll(source[line-1], "\t", "    ")
			prefix := fmt.Sprintf("%5d | ", line)
			tb = append(tb, prefix+src)
			if p.col > 0 {
				col := caretColumn(source[line-1], p.col)
				tb = append(tb, strings.Repeat(" ", len(prefix)-2)+"| "+strings.Repeat(" ", col)+"^")
			}
		}
	}
	return &kernel.CellError{Name: name, Value: first, Traceback: tb}
}

// explain replaces the interpreter's account of a failed cell with the Go
// compiler's (from cell.Check) where the interpreter's is about the
// interpreter: a compile error in its own wording ("constant definition
// loop" for an undefined name) or at a wrong line, a failure inside its
// compiler, or a panic of reflect (calling an int) that Go would have
// refused to compile. When the check finds nothing (a construct yaegi
// cannot run, or a name the check cannot see), the interpreter's error
// stays; a panic is replaced only by errors of the statement that panicked.
func (in *Interpreter) explain(r *run, code string, p *plan, serr *stepErr) *stepErr {
	if p.scope == nil {
		return serr
	}
	line := 0
	switch serr.kind {
	case "compile", "internal":
	case "panic":
		if serr.err == errGoPanic || serr.p == nil || !strings.HasPrefix(fmt.Sprint(serr.p.value), "reflect") {
			return serr
		}
		if line = r.stmt()[0]; line == 0 {
			return serr
		}
	default:
		return serr
	}
	errs := cell.Check(code, *p.scope)
	errs = slices.DeleteFunc(errs, func(e *cell.Error) bool { return e.Line == 0 || line > 0 && e.Line != line })
	if len(errs) == 0 {
		return serr
	}
	e := &stepErr{kind: "compile", err: errs[0]}
	for _, ce := range errs {
		e.pos = append(e.pos, posError{cellLine: ce.Line, col: ce.Column, msg: ce.Msg})
	}
	return e
}

// caretColumn converts a 1-based byte column of line into the display
// column of the caret (tabs shown as four spaces).
func caretColumn(line string, col int) int {
	n := 0
	for i, c := range line {
		if i >= col-1 {
			break
		}
		if c == '\t' {
			n += 4
		} else {
			n++
		}
	}
	return n
}

// panicError reports a panic with a Go-style traceback in cell lines.
func (in *Interpreter) panicError(r *run, e *stepErr) *kernel.CellError {
	value := e.err.Error()
	var trace []string
	if e.p != nil {
		value = in.cleanPositions(r, panicValue(e.p.value))
		trace = e.p.trace
	}
	if e.kind == "panic" && e.err == errGoPanic {
		value += " (in a goroutine)"
	}
	tb := []string{"panic: " + value, ""}
	stmt := r.stmt()
	frames := 0
	for _, line := range trace {
		m := panicLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		file, fn := m[1], m[4]
		n, _ := strconv.Atoi(m[2])
		f := in.file(file)
		if fn == "main" {
			// The cell's top level: yaegi's position there is only a guess
			// of the node that ran; the statement marker is exact.
			fn = "cell"
			at := in.where(r, file, n)
			if f != nil && f.run == r.id {
				if l := f.cellLine(n); stmt[0] > 0 && (l < stmt[0] || l > stmt[1]) {
					at = "cell line " + strconv.Itoa(stmt[0])
				}
			}
			tb = append(tb, fn, "\t"+at)
			frames++
			continue
		}
		fn = strings.TrimPrefix(fn, "main.") + "(...)"
		tb = append(tb, fn, "\t"+in.where(r, file, n))
		frames++
	}
	if frames == 0 {
		tb = append(tb, "cell", "\t"+in.stmtWhere(r))
	}
	return &kernel.CellError{Name: ErrPanic, Value: value, Traceback: tb}
}

// panicValue formats a panic's value as Go prints it, translating the
// messages of reflect that stand for Go's runtime errors in interpreted code.
func panicValue(v any) string {
	if rv, ok := v.(reflect.Value); ok {
		if !rv.IsValid() || !rv.CanInterface() {
			return "<nil>"
		}
		v = rv.Interface()
	}
	var s string
	switch x := v.(type) {
	case error:
		s = x.Error()
	case fmt.Stringer:
		s = x.String()
	case string:
		s = x
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Struct, reflect.Slice, reflect.Map, reflect.Array, reflect.Pointer:
			s = fmt.Sprintf("%#v", v)
		default:
			s = fmt.Sprint(v)
		}
	}
	switch {
	case strings.HasPrefix(s, "reflect: slice index out of range"),
		strings.HasPrefix(s, "reflect: array index out of range"),
		strings.HasPrefix(s, "reflect: string index out of range"):
		return "runtime error: index out of range"
	case strings.HasPrefix(s, "reflect: slice bounds out of range"),
		strings.HasPrefix(s, "reflect.Value.Slice: slice index out of bounds"),
		strings.HasPrefix(s, "reflect.Value.Slice3: slice index out of bounds"):
		return "runtime error: slice bounds out of range"
	case s == "reflect.Value.Call: call of nil function":
		return "runtime error: invalid memory address or nil pointer dereference (call of a nil func)"
	case strings.HasPrefix(s, "reflect: call of reflect.Value.") && strings.HasSuffix(s, " on zero Value"):
		return "runtime error: invalid memory address or nil pointer dereference"
	case s == "errors: *target must be interface or implement error":
		// yaegi gives compiled code no methods of types declared in cells.
		return s + " (errors.As cannot match an error type declared in a cell: " +
			"declare the target as an interface, `var target error`, or compare with a sentinel error and errors.Is)"
	}
	return s
}
