package cell

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestCells runs sequences of cells through yaegi and checks the value of
// each cell's trailing expression ("<none>" when it has none).
func TestCells(t *testing.T) {
	type cell struct{ src, want string }
	tests := []struct {
		name  string
		cells []cell
	}{
		{"expression", []cell{{"1 + 2", "3"}}},
		{"statements then expression", []cell{{"x := 2\nx *= 21\nx", "42"}}},
		{"no trailing expression", []cell{{"x := 2", "<none>"}, {"x", "2"}}},
		{"func declared after use", []cell{{"y := double(21)\nfunc double(v int) int { return 2 * v }\ny", "42"}}},
		{"func uses a variable of the cell", []cell{{"k := 3\nfunc scale(v int) int { return k * v }\nscale(5)", "15"}}},
		{"func uses a variable defined later", []cell{{"func get() string { return msg }\nmsg := \"hi\"\nget()", "hi"}}},
		{"type after its use", []cell{{"p := Point{1, 2}\ntype Point struct{ X, Y int }\np.X + p.Y", "3"}}},
		{"method and type", []cell{{"func (p Pt) Sum() int { return p.X + p.Y }\ntype Pt struct{ X, Y int }\nPt{3, 4}.Sum()", "7"}}},
		{"const used by a type", []cell{{"type Grid [N]int\nconst N = 3\nlen(Grid{})", "3"}}},
		{"mutually recursive funcs", []cell{{"func even(n int) bool { if n == 0 { return true }; return odd(n-1) }\nfunc odd(n int) bool { if n == 0 { return false }; return even(n-1) }\neven(10)", "true"}}},
		{"var declarations in order", []cell{{"a := 1\nvar b = a + 1\nc := b * 10\nc", "20"}}},
		{"var first then statements", []cell{{"var total int\nfor i := 1; i <= 4; i++ { total += i }\ntotal", "10"}}},
		{"generic func", []cell{{"func Map[T, U any](xs []T, f func(T) U) []U { out := make([]U, 0, len(xs)); for _, x := range xs { out = append(out, f(x)) }; return out }\nMap([]int{1, 2}, func(x int) int { return 3 * x })", "[3 6]"}}},
		{"generic func used by a func", []cell{{"func Twice[T any](x T) []T { return []T{x, x} }\nfunc pair() []int { return Twice(7) }\npair()", "[7 7]"}}},
		{"several on a line", []cell{{"a := 1; b := 2; func f() int { return 3 }; a + b + f()", "6"}}},
		{"func literal statement", []cell{{"n := 0\nfunc() { n = 5 }()\nn", "5"}}},
		{"automatic import", []cell{{"strings.ToUpper(\"go\")", "GO"}}},
		{"automatic import with another last element", []cell{{"r := rand.New(rand.NewSource(1))\nr.Intn(1) + 7", "7"}}},
		{"explicit import after code", []cell{{"v := m.Sqrt(16)\nimport m \"math\"\nv", "4"}}},
		{"import again in a later cell", []cell{{"import \"strings\"\nstrings.Repeat(\"x\", 2)", "xx"}, {"import \"strings\"\nstrings.Repeat(\"y\", 2)", "yy"}}},
		{"redefine variable", []cell{{"x := 1", "<none>"}, {"x := 2\nx", "2"}, {"x := \"s\"\nx", "s"}}},
		{"redefine func", []cell{{"func f() int { return 1 }", "<none>"}, {"func f() string { return \"two\" }\nf()", "two"}}},
		{"comments only", []cell{{"// nothing\n/* here */", "<none>"}}},
		{"var and const groups", []cell{{"var (\n\ta = 1\n\tb = a + 1\n)\nconst (\n\tX = iota\n\tY\n\tZ\n)\na + b + Z", "5"}}},
		{"pointer method", []cell{{"type C struct{ n int }\nfunc (c *C) Inc() { c.n++ }\nc := &C{}\nc.Inc(); c.Inc()\nc.n", "2"}}},
		{"same import twice in a cell", []cell{{"import \"strings\"\nimport \"strings\"\nstrings.ToLower(\"A\")", "a"}}},
		{"explicit import after an automatic one", []cell{{"strings.ToLower(\"B\")", "b"}, {"import \"strings\"\nstrings.ToLower(\"C\")", "c"}}},
		{"global shadows a package name", []cell{{"sort := 3", "<none>"}, {"sort * 2", "6"}}},
		{"generic type", []cell{{"type Stack[T any] struct{ items []T }\nfunc (s *Stack[T]) Push(v T) { s.items = append(s.items, v) }\nvar st Stack[int]\nst.Push(4); st.Push(5)\nlen(st.items)", "2"}}},
		{"local variable named like a package", []cell{{"strings := []string{\"a\", \"b\"}\nlen(strings)", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t)
			for _, c := range tt.cells {
				if got := s.value(c.src); got != c.want {
					t.Errorf("cell %q = %s, want %s", c.src, got, c.want)
				}
			}
		})
	}
}

// TestPlanShape checks the steps a mixed cell becomes and their line maps.
func TestPlanShape(t *testing.T) {
	src := "x := f(2)\nimport \"fmt\"\nfunc f(v int) int {\n\treturn v + 1\n}\ntype T int; const c = 2\nfmt.Sprint(x)\n"
	plan, err := Analyze(src, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Import{{Path: "fmt", Line: 2}}; !reflect.DeepEqual(plan.Imports, want) {
		t.Errorf("imports = %+v, want %+v", plan.Imports, want)
	}
	want := []Step{
		{Source: "type T int\n            const c = 2", Lines: []int{6, 6}, Kind: Decls},
		{Source: "func f(v int) int {\n\treturn v + 1\n}", Lines: []int{3, 4, 5}, Kind: Decls},
		{Source: "x := f(2)", Lines: []int{1}, Kind: Statements},
		{Source: "fmt.Sprint(x)", Lines: []int{7}, Kind: Expression},
	}
	if !reflect.DeepEqual(plan.Steps, want) {
		t.Errorf("steps =\n%#v\nwant\n%#v", plan.Steps, want)
	}
	if !plan.Trailing {
		t.Error("Trailing = false, want true")
	}
	wantNames := []Name{{"x", VarName}, {"f", FuncName}, {"T", TypeName}, {"c", ConstName}}
	if !reflect.DeepEqual(plan.Defines, wantNames) {
		t.Errorf("defines = %v, want %v", plan.Defines, wantNames)
	}
}

// TestSyntaxErrors checks that syntax errors name the cell position.
func TestSyntaxErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"x := 1\ny := )", "cell line 2:6: expected operand, found ')'"},
		{"func f() {\n\treturn 1 +\n}", "cell line 3:1: expected operand, found '}'"},
		{"a := 1\nfunc g( {}", "cell line 2:9: "},
		{"s := \"abc", "cell line 1:6: string literal not terminated"},
		{"x := 1\nfor {", "cell line 2:5: this { is not closed by the end of the cell"},
		{"f(1,\n  2", "cell line 1:2: this ( is not closed by the end of the cell"},
	}
	for _, tt := range tests {
		_, err := Analyze(tt.src, Scope{})
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Analyze(%q) error = %v, want *Error", tt.src, err)
			continue
		}
		if !strings.HasPrefix(e.Error(), tt.want) {
			t.Errorf("Analyze(%q) error = %q, want prefix %q", tt.src, e.Error(), tt.want)
		}
		if !e.Syntax {
			t.Errorf("Analyze(%q) error %q is not marked Syntax", tt.src, e.Error())
		}
	}
}

func TestIsComplete(t *testing.T) {
	tests := []struct{ src, status, indent string }{
		{"", "complete", ""},
		{"  \n\t", "complete", ""},
		{"x := 1", "complete", ""},
		{"for i := 0; i < 3; i++ {", "incomplete", Indent},
		{"func f() {\n\tif true {", "incomplete", Indent + Indent},
		{"fmt.Println(1,", "incomplete", Indent},
		{"x := []int{", "incomplete", Indent},
		{"s := `raw\nstill", "incomplete", ""},
		{"x := 1 +", "incomplete", ""},
		{"/* comment", "incomplete", ""},
		{"x := )", "invalid", ""},
		{"x := 1 2\ny := {", "invalid", ""},
		{"}", "invalid", ""},
		{"%time", "complete", ""},
		{"%env A=B\n%who", "complete", ""},
		{"strings.Split?", "complete", ""},
		{"x?", "complete", ""},
		{"func f() int { return 1 }\nf()", "complete", ""},
	}
	for _, tt := range tests {
		status, indent := IsComplete(tt.src)
		if status != tt.status || indent != tt.indent {
			t.Errorf("IsComplete(%q) = %q, %q; want %q, %q", tt.src, status, indent, tt.status, tt.indent)
		}
	}
}
