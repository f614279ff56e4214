package cell

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel/golang/symbols"
)

// TestRewrites runs cells that need rewriting through yaegi and checks the
// values computed.
func TestRewrites(t *testing.T) {
	type cell struct{ src, want string }
	tests := []struct {
		name  string
		cells []cell
	}{
		{"range over int literal", []cell{{"s := 0\nfor i := range 5 { s += i }\ns", "10"}}},
		{"range over int without variable", []cell{{"n := 0\nfor range 3 { n++ }\nn", "3"}}},
		{"range over len", []cell{{"xs := []string{\"a\", \"b\"}\nout := \"\"\nfor i := range len(xs) { out += xs[len(xs)-1-i] }\nout", "ba"}}},
		{"range over int variable", []cell{{"n := 4", "<none>"}, {"p := 1\nfor i := range n { p *= i + 1 }\np", "24"}}},
		{"range over int64 keeps the type", []cell{{"var n int64 = 3\nvar s int64\nfor i := range n { s += i }\ns", "3"}}},
		{"range over named integer", []cell{{"type Count int\nc := Count(3)\nvar last Count\nfor i := range c { last = i }\nlast", "2"}}},
		{"range over int, body changes the variable", []cell{{"k := 0\nfor i := range 3 { i += 10; k++ }\nk", "3"}}},
		{"range over int, closures capture each iteration", []cell{{"var fs []func() int\nfor i := range 3 { fs = append(fs, func() int { return i }) }\nfs[0]() + 10*fs[1]() + 100*fs[2]()", "210"}}},
		{"range over int, assignment form", []cell{{"var i int\nfor i = range 4 {}\ni", "3"}}},
		{"range over int inside a func", []cell{{"func tri(n int) int { t := 0; for i := range n + 1 { t += i }; return t }\ntri(4)", "10"}}},
		{"range over int, labelled", []cell{{"c := 0\nouter:\nfor i := range 3 { for j := range 3 { if j > i { continue outer }; c++ } }\nc", "6"}}},
		{"nested ranges over int", []cell{{"c := 0\nfor i := range 3 { for range i { c++ } }\nc", "3"}}},

		{"range over func", []cell{{"func count(n int) func(func(int) bool) { return func(yield func(int) bool) { for i := 0; i < n; i++ { if !yield(i) { return } } } }\ns := 0\nfor x := range count(4) { s += x }\ns", "6"}}},
		{"range over func with break and continue", []cell{{"func nat(yield func(int) bool) { for i := 0; ; i++ { if !yield(i) { return } } }\ns := 0\nfor x := range nat {\n\tif x%2 == 1 {\n\t\tcontinue\n\t}\n\tif x > 8 {\n\t\tbreak\n\t}\n\ts += x\n}\ns", "20"}}},
		{"range over iter.Seq2", []cell{{"func pairs(m map[string]int) iter.Seq2[string, int] { return func(yield func(string, int) bool) { for _, k := range []string{\"a\", \"b\"} { if !yield(k, m[k]) { return } } } }\nout := \"\"\nfor k, v := range pairs(map[string]int{\"a\": 1, \"b\": 2}) { out += k + strconv.Itoa(v) }\nout", "a1b2"}}},
		{"range over iter.Seq declared in an earlier cell", []cell{
			{"func evens(n int) iter.Seq[int] { return func(yield func(int) bool) { for i := 0; i < n; i += 2 { if !yield(i) { return } } } }", "<none>"},
			{"t := 0\nfor v := range evens(7) { t += v }\nt", "12"}}},
		{"range over func, switch break stays", []cell{{"func three(yield func(int) bool) { _ = yield(1) && yield(2) && yield(3) }\ns := 0\nfor v := range three { switch v { case 2: break; default: s += v } }\ns", "4"}}},
		{"range over func, labelled continue", []cell{{"func three(yield func(int) bool) { _ = yield(1) && yield(2) && yield(3) }\ns := 0\nL:\nfor v := range three { for j := 0; j < 5; j++ { if j == v { continue L }; s++ } }\ns", "6"}}},
		{"range over func, blank key", []cell{{"func three(yield func(int) bool) { _ = yield(1) && yield(2) && yield(3) }\nn := 0\nfor range three { n++ }\nn", "3"}}},
		{"range over func, assignment form", []cell{{"func three(yield func(int) bool) { _ = yield(1) && yield(2) && yield(3) }\nvar v int\nfor v = range three {}\nv", "3"}}},

		{"per-iteration variable of a three-clause loop", []cell{{"var fs []func() int\nfor i := 0; i < 3; i++ { fs = append(fs, func() int { return i }) }\nfs[0]() + 10*fs[1]() + 100*fs[2]()", "210"}}},
		{"per-iteration variables of a range loop", []cell{{"var fs []func() int\nfor k, v := range []int{4, 5, 6} { fs = append(fs, func() int { return 10*k + v }) }\nfs[0]() + fs[1]() + fs[2]()", "45"}}},
		{"per-iteration address", []cell{{"var ps []*string\nfor _, s := range []string{\"a\", \"b\"} { ps = append(ps, &s) }\n*ps[0] + *ps[1]", "ab"}}},
		{"per-iteration variable inside a func", []cell{{"func mk() []func() int { var fs []func() int; for i := 0; i < 2; i++ { fs = append(fs, func() int { return i }) }; return fs }\nfs := mk()\nfs[0]()*10 + fs[1]()", "1"}}},
		{"old i := i idiom at the top level", []cell{{"var fs []func() int\nfor i := 0; i < 3; i++ {\n\ti := i\n\tfs = append(fs, func() int { return i })\n}\nfs[2]()", "2"}}},
		{"loop that assigns its variable keeps working", []cell{{"n := 0\nfor i := 0; i < 10; i++ { i += 2; n++; _ = func() int { return i } }\nn", "4"}}},
		{"min and max of ints", []cell{{"a, b := 3, 7\nmin(a, b)*10 + max(a, b, 5)", "37"}}},
		{"min of float64s", []cell{{"x, y := 2.5, -1.5\nmin(x, y)", "-1.5"}}},
		{"max of strings", []cell{{"max(\"apple\", \"pear\", \"fig\")", "pear"}}},
		{"min of untyped constants", []cell{{"v := min(3, 2.5)\nv", "2.5"}}},
		{"min of constants keeps float type", []cell{{"v := min(3, 2.0)\nv / 4", "0.5"}}},
		{"min mixing constant and float", []cell{{"f := 0.5\nmin(1, f)", "0.5"}}},
		{"max mixing constant first", []cell{{"f := 2.25\nmax(1, f)", "2.25"}}},
		{"max with NaN", []cell{{"n := math.NaN()\nmath.IsNaN(max(1.0, n))", "true"}}},
		{"min of named type", []cell{{"type Celsius float64\na, b := Celsius(20), Celsius(-3)\nfloat64(min(a, b))", "-3"}}},
		{"constant quotient added to a variable", []cell{{"i := 0\ni += 400 / 15\nm := 1\nm = m + 400/15\nconst k = 400\nz := 0\nz -= k % 15 + k/15\nfmt.Sprint(i, m, z)", "26 27 -36"}}},
		{"constant quotient as a loop step", []cell{{"n := 0\nfor i := 0; i < 400 && n < 100; i += 400 / 15 { n++ }\nn", "16"}}},
		{"typed constant quotient", []cell{{"d := time.Second\nd += time.Second / 4\nd", "1.25s"}}},
		{"division by a variable is left alone", []cell{{"a, b := 400, 15\nc := 1\nc += a / b\nc", "27"}}},
		{"clear map", []cell{{"m := map[string]int{\"a\": 1, \"b\": 2}\nclear(m)\nlen(m)", "0"}}},
		{"clear slice", []cell{{"s := []int{1, 2, 3}\nclear(s)\ns", "[0 0 0]"}}},

		{"slices.Collect of maps.Keys, sorted", []cell{{"m := map[string]int{\"b\": 1, \"a\": 2}\nslices.Sorted(maps.Keys(m))", "[a b]"}}},
		{"slices.Collect of maps.Values", []cell{{"vs := slices.Collect(maps.Values(map[string]int{\"x\": 5}))\nvs", "[5]"}}},
		{"slices.Sort", []cell{{"xs := []float64{3, 1, 2}\nslices.Sort(xs)\nxs", "[1 2 3]"}}},
		{"slices.SortFunc", []cell{{"xs := []string{\"ccc\", \"a\", \"bb\"}\nslices.SortFunc(xs, func(a, b string) int { return len(a) - len(b) })\nxs", "[a bb ccc]"}}},
		{"slices.Max and BinarySearch", []cell{{"xs := []int{1, 3, 5}\ni, ok := slices.BinarySearch(xs, 3)\nfmt.Sprint(slices.Max(xs), i, ok)", "5 1 true"}}},
		{"slices.All", []cell{{"s := 0\nfor i, v := range slices.All([]int{10, 20}) { s += i * v }\ns", "20"}}},
		{"slices.Backward", []cell{{"out := \"\"\nfor _, v := range slices.Backward([]string{\"a\", \"b\", \"c\"}) { out += v }\nout", "cba"}}},
		{"slices.Chunk", []cell{{"n := 0\nfor c := range slices.Chunk([]int{1, 2, 3, 4, 5}, 2) { n = n*10 + len(c) }\nn", "221"}}},
		{"maps.Collect of maps.All", []cell{{"m := maps.Collect(maps.All(map[string]int{\"k\": 9}))\nm[\"k\"]", "9"}}},
		{"yaegi's own slices functions still work", []cell{{"slices.Index([]int{4, 5, 6}, 6)", "2"}}},

		{"generic call needing explicit type arguments", []cell{{"func Map[T, U any](xs []T, f func(T) U) []U { out := make([]U, 0, len(xs)); for _, x := range xs { out = append(out, f(x)) }; return out }\nMap([]int{1, 2}, func(x int) string { return strings.Repeat(\"a\", x) })", "[a aa]"}}},
		{"generic func from an earlier cell", []cell{
			{"func Map[T, U any](xs []T, f func(T) U) []U { out := make([]U, 0, len(xs)); for _, x := range xs { out = append(out, f(x)) }; return out }", "<none>"},
			{"Map([]string{\"a\", \"bb\"}, func(s string) int { return len(s) })", "[1 2]"}}},

		{"global defined from a generic call", []cell{{"func Id[T any](v T) T { return v }", "<none>"}, {"a := Id(3)\nb := Id(\"s\")\nfmt.Sprintf(\"%v %v\", a, b)", "3 s"}}},
		{"globals defined from a generic call with two results", []cell{{"xs := []int{1, 3, 5}\ni, ok := slices.BinarySearch(xs, 5)\nfmt.Sprint(i, ok)", "2 true"}}},
		{"global defined from yaegi's own generic slices", []cell{{"i := slices.Index([]string{\"a\", \"b\"}, \"b\")\ni", "1"}}},
		{"global closure from a generic func with two type parameters", []cell{{"func Pair[T, U any](t T, u U) func() (T, U) { return func() (T, U) { return t, u } }\np := Pair(1, \"a\")\nfmt.Sprintln(p())", "1 a\n"}}},
		{"global defined by indexing a compiled slice, a cell later", []cell{
			{"fields := strings.Fields(\"a bc\")", "<none>"},
			{"n := len(fields[1]) + 1\nm, ok := map[string]int{\"k\": 3}[\"k\"]\nfmt.Sprint(n, m, ok)", "3 3 true"},
			{"last := fields[len(fields)-1]\nlast", "bc"}}},
		{"generic define next to an existing variable", []cell{{"func Id[T any](v T) T { return v }\nx := 1\nx, y := Id(2), Id(3)\nx + y", "5"}}},
		{"redefine a type", []cell{
			{"type T struct{ A int }", "<none>"},
			{"type T struct{ B string }\nfunc (t T) Get() string { return t.B + \"!\" }\nT{B: \"x\"}.Get()", "x!"},
			{"T{B: \"y\"}.B", "y"},
			{"type T struct{ C, D int }\nT{C: 1, D: 2}.D", "2"}}},
		{"redefine a recursive type", []cell{
			{"type Node struct{ V int }", "<none>"},
			{"type Node struct{ V int; Next *Node }\nn := &Node{V: 1, Next: &Node{V: 2}}\nn.Next.V", "2"}}},
		{"redefine a type used by a constant", []cell{
			{"type Level int", "<none>"},
			{"type Level string\nconst Debug Level = \"debug\"\nstring(Debug)", "debug"}}},

		{"redefine a generic type", []cell{
			{"type Box[T any] struct{ V T }", "<none>"},
			{"type Box[T any] struct{ W T }\nBox[int]{W: 4}.W", "4"}}},
		{"redefine a func as a type", []cell{
			{"func Thing() int { return 1 }", "<none>"},
			{"type Thing struct{ N int }\nThing{N: 6}.N", "6"}}},
		{"redefine a method", []cell{
			{"type V struct{ n int }\nfunc (v V) Show() string { return \"one\" }", "<none>"},
			{"func (v V) Show() string { return \"two\" }\nV{}.Show()", "two"}}},
		{"redefine a method, keep the others", []cell{
			{"type Acc struct{ n int }\nfunc (a *Acc) Add(v int) { a.n += v }", "<none>"},
			{"func (a Acc) Get() int { return a.n }", "<none>"},
			{"func (a *Acc) Add(v int) { a.n += 10 * v }\nx := &Acc{}\nx.Add(2)\nx.Get()", "20"},
			{"func (a Acc) Get() int { return -a.n }\ny := &Acc{}\ny.Add(1)\ny.Get()", "-10"}}},
		{"redefined type forgets old methods", []cell{
			{"type R struct{ w int }\nfunc (r R) A() int { return r.w }", "<none>"},
			{"type R struct{ v int }\nfunc (r R) B() int { return r.v }", "<none>"},
			{"func (r R) B() int { return r.v + 1 }\nR{v: 1}.B()", "2"}}},
		{"trailing fmt.Fprintln has no value", []cell{{"fmt.Fprintln(io.Discard, \"hi\")", "<none>"}}},
		{"trailing void call has no value", []cell{{"func nop() {}\nnop()", "<none>"}}},
		{"trailing call with one value", []cell{{"strings.ToUpper(\"a\")", "A"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t)
			for _, c := range tt.cells {
				if got := s.value(c.src); got != c.want {
					t.Errorf("cell %q = %s, want %s\nplan: %+v", c.src, got, c.want, s.last)
				}
			}
		})
	}
}

// TestRewriteErrors checks the constructs that cannot be rewritten.
func TestRewriteErrors(t *testing.T) {
	seq := "func three(yield func(int) bool) { _ = yield(1) && yield(2) && yield(3) }\n"
	tests := []struct{ src, want string }{
		{seq + "func first() int {\n\tfor v := range three {\n\t\treturn v\n\t}\n\treturn 0\n}", "cell line 4:3: range over a function (for ... := range three) cannot run here with a return statement in its body"},
		{seq + "L:\nfor i := 0; i < 2; i++ {\n\tfor v := range three {\n\t\tif v > i {\n\t\t\tcontinue L\n\t\t}\n\t}\n}", "cell line 6:4: range over a function (for ... := range three) cannot run here with a continue to a label outside the loop in its body"},
		{"p := iter.Pull", "cell line 1:6: iter.Pull is not available"},
		{"import m \"math\"\nimport m \"strings\"", "cell line 2:8: package name m is imported twice in this cell"},
	}
	for _, tt := range tests {
		_, err := Analyze(tt.src, Scope{Package: func(n string) (string, bool) { p, ok := testPackages[n]; return p, ok }})
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(e.Error(), tt.want) || e.Syntax {
			t.Errorf("Analyze(%q) error = %v, want prefix %q (not a syntax error)", tt.src, err, tt.want)
		}
	}
}

// TestRewriteLines checks that rewritten steps keep their cell lines.
func TestRewriteLines(t *testing.T) {
	src := "total := 0\nfor i := range 3 {\n\ttotal += i\n}\nfunc gen(yield func(int) bool) {\n\t_ = yield(5)\n}\nfor v := range gen {\n\ttotal += v\n}\ntotal"
	plan, err := Analyze(src, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Source: "func gen(yield func(int) bool) {\n\t_ = yield(5)\n}", Lines: []int{5, 6, 7}, Kind: Decls},
		{Source: "total := 0\nfor kʹ1, nʹ2 := 0, 3; kʹ1 < nʹ2; kʹ1++ { i := kʹ1;\n\ttotal += i\n}\ngen(func(v int) bool {\n\ttotal += v\n; return true })", Lines: []int{1, 2, 3, 4, 8, 9, 10}, Kind: Statements},
		{Source: "total", Lines: []int{11}, Kind: Expression},
	}
	if !reflect.DeepEqual(plan.Steps, want) {
		t.Errorf("steps =\n%#v\nwant\n%#v", plan.Steps, want)
	}
}

// TestImportConflict checks that importing a package under a name an
// earlier cell gave another package is reported.
func TestImportConflict(t *testing.T) {
	_, err := Analyze("import m \"strings\"\nm.ToUpper(\"a\")", Scope{Imports: map[string]string{"m": "math"}})
	want := `cell line 1:8: package name m is already imported as "math"; import "strings" under another name: import x "strings"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestMethodRedefinitionNeedsDecls checks the error when the type of a
// redefined method is unknown.
func TestMethodRedefinitionNeedsDecls(t *testing.T) {
	_, err := Analyze("func (v V) Show() string { return \"\" }", Scope{Decls: map[string]string{"V.Show": "func (v V) Show() string { return \"x\" }"}})
	want := "cell line 1:1: method V.Show is already defined by an earlier cell and cannot be replaced on its own; run it together with the declaration of type V"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestDisplayUpdateRewrite checks that h.Update(v) on a *display.Handle
// renders v first, so that an interpreted Displayer shows richly, and that
// other Update methods and bundles are left alone.
func TestDisplayUpdateRewrite(t *testing.T) {
	s := newSession(t)
	std := s.scope.Symbols
	s.scope.Symbols = func(path string) map[string]reflect.Value {
		if path == displayPath {
			return symbols.Symbols[path+"/display"]
		}
		return std(path)
	}
	s.scope.Imports["display"] = displayPath
	s.scope.Globals["h"] = reflect.TypeFor[*display.Handle]()
	s.scope.Globals["b"] = reflect.TypeFor[display.Bundle]()
	tests := []struct{ src, want string }{
		{"h.Update(card{\"x\"})", "h.Update(display.Render(card{\"x\"}))"},
		{"func tick(i int) {\n\th.Update(i * 2)\n}", "\th.Update(display.Render(i * 2))"},
		{"h.Update(b)", "h.Update(b)"},
		{"type counter struct{ n int }\nfunc (c *counter) Update(v any) {}\nc := &counter{}\nc.Update(1)", "c.Update(1)"},
	}
	for _, tt := range tests {
		src := "type card struct{ T string }\n" + tt.src
		plan, err := Analyze(src, s.scope)
		if err != nil {
			t.Errorf("Analyze(%q): %v", src, err)
			continue
		}
		var all []string
		for _, st := range plan.Steps {
			all = append(all, st.Source)
		}
		if !strings.Contains(strings.Join(all, "\n"), tt.want) {
			t.Errorf("Analyze(%q) steps\n%s\nlack %q", src, strings.Join(all, "\n---\n"), tt.want)
		}
	}
}
