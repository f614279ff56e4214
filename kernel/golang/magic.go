package golang

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
)

// magicHelp lists the magics, for %help and for the error of an unknown one.
var magicHelp = [][2]string{
	{"%help", "this list"},
	{"%time CODE", "run CODE (the rest of the line) and print how long it took"},
	{"%%time", "(first line of a cell) run the rest of the cell and print how long it took"},
	{"%who", "list the variables, constants, funcs and types cells declared, with their types"},
	{"%reset", "forget everything cells declared (a fresh interpreter)"},
	{"%env", "list the environment cells see"},
	{"%env NAME", "show one environment variable"},
	{"%env NAME=VALUE", "set an environment variable for cells"},
	{"%doc NAME", "show the documentation of NAME (pkg.Func, pkg.Type.Method, a variable …)"},
	{"NAME?", "the same as %doc NAME"},
	{"%threads", "show GOMAXPROCS, the number of threads graft's kernels use"},
	{"%threads N", "set GOMAXPROCS to N"},
	{"%memory", "show the heap and the memory limit past which a cell that grows the heap is stopped"},
	{"%memory SIZE", "set the memory limit: 12GiB, 800MiB, 90% (of the machine) or off"},
}

// magic runs a cell that starts with a magic (or ends with ?); ok is false
// for a plain Go cell.
func (in *Interpreter) magic(ctx context.Context, req kernel.ExecuteRequest, out kernel.Output) (res kernel.Result, ok bool) {
	code := strings.TrimSpace(req.Code)
	if strings.HasPrefix(code, "%%") {
		first, rest, _ := strings.Cut(strings.TrimLeft(req.Code, " \t\r\n"), "\n")
		name := strings.TrimSpace(strings.TrimPrefix(first, "%%"))
		if name != "time" {
			return usage("unknown cell magic %%" + name + "; the cell magic is %%time"), true
		}
		// Keep the cell's line numbers: the magic line becomes blank.
		req.Code = "\n" + rest
		return in.timed(ctx, req, out), true
	}
	if strings.HasPrefix(code, "%") {
		line, rest, _ := strings.Cut(code, "\n")
		if strings.TrimSpace(rest) != "" && !strings.HasPrefix(line, "%time") {
			return usage("a line magic must be alone in its cell (or use %%time for a whole cell)"), true
		}
		name, arg, _ := strings.Cut(strings.TrimPrefix(line, "%"), " ")
		arg = strings.TrimSpace(arg)
		switch name {
		case "help":
			in.text(out, helpText())
		case "time":
			if rest != "" {
				arg += "\n" + rest
			}
			req.Code = arg
			return in.timed(ctx, req, out), true
		case "who":
			in.text(out, in.who())
		case "reset":
			if err := in.reset(); err != nil {
				return kernel.Result{Error: &kernel.CellError{Name: ErrUsage, Value: err.Error(), Traceback: []string{ErrUsage + ": " + err.Error()}}}, true
			}
		case "env":
			return in.env(ctx, req, arg, out), true
		case "doc":
			return in.doc(arg), true
		case "threads":
			return in.threads(arg, out), true
		case "memory":
			return in.memory(arg, out), true
		default:
			return usage("unknown magic %" + name + "; magics: " + magicNames()), true
		}
		return kernel.Result{}, true
	}
	if strings.HasSuffix(code, "?") && !strings.Contains(code, "\n") {
		name := strings.TrimRight(code, "?")
		if isDottedName(name) {
			return in.doc(name), true
		}
	}
	return kernel.Result{}, false
}

func usage(msg string) kernel.Result {
	return kernel.Result{Error: &kernel.CellError{Name: ErrUsage, Value: msg, Traceback: []string{ErrUsage + ": " + msg}}}
}

func magicNames() string {
	var names []string
	seen := map[string]bool{}
	for _, m := range magicHelp {
		n, _, _ := strings.Cut(m[0], " ")
		if strings.HasPrefix(n, "%") && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return strings.Join(names, " ")
}

func helpText() string {
	var b strings.Builder
	b.WriteString("graft Go kernel magics:\n")
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, m := range magicHelp {
		fmt.Fprintf(w, "  %s\t%s\n", m[0], m[1])
	}
	w.Flush()
	b.WriteString("\nCells mix declarations and statements; a trailing expression is shown as Out[n].\n")
	b.WriteString("Packages are imported automatically; ctx is cancelled when the cell is interrupted.\n")
	return b.String()
}

// text writes s to the cell's stdout.
func (in *Interpreter) text(out kernel.Output, s string) {
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	out.Stream("stdout", s)
}

// timed runs the cell and prints its wall time after its output.
func (in *Interpreter) timed(ctx context.Context, req kernel.ExecuteRequest, out kernel.Output) kernel.Result {
	start := time.Now()
	res := in.execCode(ctx, req, req.Code, out)
	if res.Error == nil {
		in.text(out, "Wall time: "+formatDuration(time.Since(start)))
	}
	return res
}

// formatDuration prints d with three significant digits, as %time does.
func formatDuration(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s >= 1:
		return strconv.FormatFloat(s, 'f', 3, 64) + " s"
	case s >= 1e-3:
		return strconv.FormatFloat(s*1e3, 'f', 3, 64) + " ms"
	default:
		return strconv.FormatFloat(s*1e6, 'f', 1, 64) + " µs"
	}
}

// who lists what cells declared.
func (in *Interpreter) who() string {
	declared := in.declared()
	if len(declared) == 0 {
		return "Nothing declared yet."
	}
	globals := in.globals()
	names := make([]string, 0, len(declared))
	for n := range declared {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "Name\tKind\tType\tValue")
	for _, n := range names {
		kind := declared[n]
		typ, val := "", ""
		switch kind {
		case "var", "const":
			if v, ok := globals[n]; ok && v.IsValid() {
				typ, val = describe(v)
			}
		case "package":
			typ, _ = in.importPath(n)
		case "type", "func":
			typ = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", n, kind, typ, val)
	}
	w.Flush()
	return b.String()
}

// describe returns a value's type and a one-line, shortened form of it.
func describe(v reflect.Value) (typ, val string) {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	typ = v.Type().String()
	if v.CanInterface() {
		x := v.Interface()
		if c, ok := constantValue(x); ok {
			return "untyped constant", c
		}
		val = display.Render(x).Text()
	}
	val = strings.Join(strings.Fields(val), " ")
	if len(val) > 60 {
		val = val[:57] + "..."
	}
	return typ, val
}

// constantValue formats a go/constant value (how yaegi keeps untyped
// constants).
func constantValue(x any) (string, bool) {
	if c, ok := x.(interface {
		ExactString() string
		Kind() interface{ String() string }
	}); ok {
		return c.ExactString(), true
	}
	if s, ok := x.(fmt.Stringer); ok && strings.HasPrefix(reflect.TypeOf(x).String(), "constant.") {
		return s.String(), true
	}
	return "", false
}

// env lists, shows or sets environment variables of the interpreter.
func (in *Interpreter) env(ctx context.Context, req kernel.ExecuteRequest, arg string, out kernel.Output) kernel.Result {
	var code string
	switch name, value, set := strings.Cut(arg, "="); {
	case arg == "":
		code = `func() string { e := os.Environ(); sort.Strings(e); return strings.Join(e, "\n") }()`
	case set:
		name = strings.TrimSpace(name)
		if name == "" {
			return usage("%env NAME=VALUE needs a NAME")
		}
		value = strings.TrimSpace(value)
		code = "os.Setenv(" + quote(name) + ", " + quote(value) + ")"
		if r := in.evalString(ctx, code); r.Error != nil {
			return r.Result
		}
		// Compiled packages (graft's own) read the process environment.
		os.Setenv(name, value)
		in.text(out, "env: "+name+"="+value)
		return kernel.Result{}
	default:
		code = "os.Getenv(" + quote(strings.TrimSpace(arg)) + ")"
	}
	res := in.evalString(ctx, code)
	if res.Error == nil {
		in.text(out, res.text)
	}
	return res.Result
}

// stringResult is a Result with the string value of an evaluated expression.
type stringResult struct {
	kernel.Result
	text string
}

// evalString evaluates a Go expression of type string (or error) in the
// interpreter, with the packages it names imported.
func (in *Interpreter) evalString(ctx context.Context, expr string) stringResult {
	var text string
	out := &captureOutput{}
	res := in.execCode(ctx, kernel.ExecuteRequest{}, "fmt.Sprint("+expr+")", out)
	if len(out.results) > 0 {
		if s, err := strconv.Unquote(out.results[0].Text()); err == nil {
			text = s
		} else {
			text = out.results[0].Text()
		}
	}
	return stringResult{Result: res, text: text}
}

// captureOutput keeps a cell's results and discards its other output.
type captureOutput struct {
	discard
	results []display.Bundle
}

func (c *captureOutput) Result(b display.Bundle) { c.results = append(c.results, b) }

// threads shows or sets GOMAXPROCS.
func (in *Interpreter) threads(arg string, out kernel.Output) kernel.Result {
	if arg != "" {
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return usage("%threads N needs a positive number of threads, not " + quote(arg))
		}
		runtime.GOMAXPROCS(n)
	}
	in.text(out, fmt.Sprintf("GOMAXPROCS=%d (this machine has %d CPUs)", runtime.GOMAXPROCS(0), runtime.NumCPU()))
	return kernel.Result{}
}

// memory shows the heap and the memory limit, or sets the limit.
func (in *Interpreter) memory(arg string, out kernel.Output) kernel.Result {
	if arg != "" {
		n, err := parseMemorySize(arg, totalMemory())
		if err != nil {
			return usage("%memory: " + err.Error())
		}
		setMemoryLimit(n)
	}
	in.text(out, memoryReport())
	return kernel.Result{}
}

// doc shows documentation for name in the pager.
func (in *Interpreter) doc(name string) kernel.Result {
	name = strings.TrimSpace(name)
	if name == "" {
		return usage("%doc needs a name, for example %doc strings.Split")
	}
	text, ok := in.describeName(name)
	if !ok {
		return usage("no documentation for " + name)
	}
	b := display.NewBundle(text)
	return kernel.Result{Pager: &b}
}

// isDottedName reports whether s is an identifier or a dotted chain of them.
func isDottedName(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !isIdent(part) {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || isLetter(c) || (i > 0 && isDigit(c))) {
			return false
		}
	}
	return true
}
