package golang

import (
	"strings"
	"testing"
)

// TestCompileErrorMessages checks that common mistakes give the Go
// compiler's message at the cell position, with the line and a caret, and
// that mistakes Go tolerates in a notebook give none.
func TestCompileErrorMessages(t *testing.T) {
	in := newInterp(t)
	mustExec(t, in, 1, "func pair() (int, error) { return 1, nil }\nh := display.Show(display.Text(\"a\"))\nt := tensor.New([]float32{1}, 1)")
	cases := []struct {
		code  string
		value string // "" for no error
		caret string // the source line and caret lines of the traceback
	}{
		// yaegi: "constant definition loop".
		{"y := undefinedThing + 1", "cell line 1:6: undefined: undefinedThing",
			"    1 | y := undefinedThing + 1\n      |      ^"},
		{"y := 2\nundefinedThing + y", "cell line 2:1: undefined: undefinedThing", ""},
		{`tensor.New("x")`, `cell line 1:12: cannot use "x" (untyped string constant) as []float32 value in argument to tensor.New`,
			"    1 | tensor.New(\"x\")\n      |            ^"},
		{"t.NoSuchMethod()", "cell line 1:3: t.NoSuchMethod undefined (type *tensor.Tensor has no field or method NoSuchMethod)", ""},
		{"t.Add(3)", "cell line 1:7: cannot use 3 (untyped int constant) as *tensor.Tensor value in argument to t.Add", ""},
		{"h.Update(1, 2)", "cell line 1:13: too many arguments in call to h.Update\n\thave (number, number)\n\twant (any)", ""},
		// yaegi: "unsupported assign expression".
		{"a, b := 1", "cell line 1:9: assignment mismatch: 2 variables but 1 value", ""},
		// yaegi runs these, taking the first value.
		{"n := strconv.Atoi(\"12\")", "cell line 1:6: assignment mismatch: 1 variable but strconv.Atoi returns 2 values", ""},
		{"pair() + 1", "cell line 1:1: multiple-value pair() (value of type (int, error)) in single-value context", ""},
		// yaegi runs this, returning 0.
		{"func sign(x int) int {\n\tif x > 0 {\n\t\treturn 1\n\t}\n}", "cell line 5:1: missing return", "    5 | }\n      | ^"},
		{"x := 1 + \"s\"", `cell line 1:6: invalid operation: 1 + "s" (mismatched types untyped int and untyped string)`, ""},
		{"i := 1\ns := \"s\"\ni + s", "cell line 3:1: invalid operation: i + s (mismatched types int and string)", ""},
		{"strings.ToUpper(\"a\", \"b\")", "cell line 1:22: too many arguments in call to strings.ToUpper\n\thave (string, string)\n\twant (string)", ""},
		{"func g(a int) int { return a }\ng()", "cell line 2:3: not enough arguments in call to g\n\thave ()\n\twant (int)", ""},
		{"var s string = 1", "cell line 1:16: cannot use 1 (untyped int constant) as string value in variable declaration", ""},
		// yaegi: a panic of reflect at run time.
		{"var k int\nk()", "cell line 2:1: invalid operation: cannot call k (variable of type int): int is not a function", ""},
		// yaegi: a failure inside its compiler.
		{"if 1 {\n}", "cell line 1:4: non-boolean condition in if statement", ""},
		// yaegi: a wrong line.
		{"p := 3\np++\nq := p.x", "cell line 3:8: p.x undefined (type int has no field or method x)", ""},
		{"import \"os/exec\"", "cell line 1:8: package os/exec is not available in a cell: graft's interpreter has no symbols for it", ""},
		{"z := 1 +", "cell line 1:9: expected operand, found end of cell", ""},
		// Tolerated in a notebook: unused imports and variables.
		{"import \"bytes\"\nfunc unused() {\n\tv := 1\n}", "", ""},
	}
	for k, c := range cases {
		_, res := exec(t, in, k+2, c.code)
		if c.value == "" {
			if res.Error != nil {
				t.Errorf("%q: %s: %q, want no error", c.code, res.Error.Name, res.Error.Value)
			}
			continue
		}
		if res.Error == nil {
			t.Errorf("%q: no error, want %q", c.code, c.value)
			continue
		}
		name := ErrCompile
		if strings.Contains(c.value, "expected") {
			name = ErrSyntax
		}
		if res.Error.Name != name || res.Error.Value != c.value {
			t.Errorf("%q:\n got %s: %q\nwant %s: %q", c.code, res.Error.Name, res.Error.Value, name, c.value)
			continue
		}
		tb := strings.Join(res.Error.Traceback, "\n")
		if !strings.HasPrefix(tb, name+": "+c.value+"\n") || !strings.Contains(tb, c.caret) {
			t.Errorf("%q: traceback\n%s\nwant it to start with the error and show\n%s", c.code, tb, c.caret)
		}
	}
}
