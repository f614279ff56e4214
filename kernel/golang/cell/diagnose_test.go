package cell

import (
	"go/ast"
	"reflect"
	"slices"
	"testing"
)

// TestCheck checks the Go compiler's errors for cells and what Check leaves
// out in a notebook.
func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		setup []string // earlier cells
		src   string
		want  []string // Error() of each error
	}{
		{"undefined name", nil, "y := undefinedThing + 1", []string{"cell line 1:6: undefined: undefinedThing"}},
		{"undefined package member", nil, "strings.NoSuch(1)", []string{"cell line 1:9: undefined: strings.NoSuch"}},
		{"undefined method", []string{"type T struct{ A int }\nfunc (t T) Get() int { return t.A }"}, "t := T{1}\nt.Gett()",
			[]string{"cell line 2:3: t.Gett undefined (type T has no field or method Gett)"}},
		{"wrong argument type", nil, `strings.Repeat(3, "x")`, []string{
			`cell line 1:16: cannot use 3 (untyped int constant) as string value in argument to strings.Repeat`,
			`cell line 1:19: cannot use "x" (untyped string constant) as int value in argument to strings.Repeat`}},
		{"mismatched operands", []string{"n := 1"}, "s := \"a\"\nn + s", []string{"cell line 2:1: invalid operation: n + s (mismatched types int and string)"}},
		{"errors in funcs and statements in source order", nil, "a := 1 + \"s\"\nfunc f() int { return \"no\" }",
			[]string{`cell line 1:6: invalid operation: 1 + "s" (mismatched types untyped int and untyped string)`,
				`cell line 2:23: cannot use "no" (untyped string constant) as int value in return statement`}},
		// What Go reports but a notebook tolerates.
		{"unused variable, import and label", nil, "import \"strings\"\nfunc f() {\n\tv := 1\nL:\n}", nil},
		{"redefinition in the cell", nil, "x := 1\nx := 2", nil},
		{"expression statements", []string{"n := 1"}, "n + 1\nn * 2", nil},
		{"a name the check cannot see", nil, "y := ghost + 1", nil},
		// A package name not used as pkg.Name is not imported for the check.
		{"a package used without selector", nil, "y := strings", nil},
		{"syntax error", nil, "x := )", []string{"cell line 1:6: expected operand, found ')'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t)
			for _, src := range tt.setup {
				if _, err := s.run(src); err != nil {
					t.Fatalf("setup %q: %v", src, err)
				}
			}
			// ghost is known to the interpreter, not to the check.
			s.scope.Defined["ghost"] = true
			var got []string
			for _, e := range Check(tt.src, s.scope) {
				got = append(got, e.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check(%q) =\n%q\nwant\n%q", tt.src, got, tt.want)
			}
		})
	}
}

// TestSilentMistakes checks that Analyze rejects, with Go's message, the
// mistakes yaegi would run anyway, and accepts their correct forms.
func TestSilentMistakes(t *testing.T) {
	tests := []struct{ src, want string }{
		{"func f() int {\n\tfor {\n\t\tbreak\n\t}\n}", "cell line 5:1: missing return"},
		{"g := func() (int, error) {\n\tif true {\n\t\treturn 1, nil\n\t}\n}", "cell line 5:1: missing return"},
		{"n := strconv.Atoi(\"1\")", "cell line 1:6: assignment mismatch: 1 variable but strconv.Atoi returns 2 values"},
		{"func two() (int, int) { return 1, 2 }\nx := two() + 1", "cell line 2:6: multiple-value two() (value of type (int, int)) in single-value context"},
		{"func two() (int, int) { return 1, 2 }\nfunc one() int { return two() }", "cell line 2:25: too many return values\n\thave (int, int)\n\twant (int)"},
		{"a, b := 1", "cell line 1:9: assignment mismatch: 2 variables but 1 value"},
		// Correct forms.
		{"func f() int {\n\tfor {\n\t}\n}", ""},
		{"func f(x int) int {\n\tswitch {\n\tcase x > 0:\n\t\treturn 1\n\tdefault:\n\t\treturn 0\n\t}\n}", ""},
		{"func f() int {\n\tif true {\n\t\treturn 1\n\t}\n\tpanic(\"no\")\n}", ""},
		{"v, err := strconv.Atoi(\"1\")", ""},
		{"m := map[string]int{}\nv, ok := m[\"a\"]", ""},
		{"func two() (int, int) { return 1, 2 }\nfunc sum(a, b int) int { return a + b }\nsum(two())", ""},
		// Other errors are left to the interpreter (and Check).
		{"y := undefinedThing + 1", ""},
	}
	for _, tt := range tests {
		s := newSession(t)
		_, err := Analyze(tt.src, s.scope)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Analyze(%q) error = %q, want %q", tt.src, got, tt.want)
		}
	}
}

// TestMayHaveResults checks the syntactic guess that decides whether a
// call needs the type check.
func TestMayHaveResults(t *testing.T) {
	s := newSession(t)
	src := "func one() int { return 1 }\nfunc two() (a, b int) { return }\nx := []any{len(\"a\"), float64(1), []byte(\"a\"), strings.ToUpper(\"a\"), strconv.Atoi(\"1\"), one(), two(), s.M(), func() (int, int) { return 1, 2 }(), strings.Builder{}}"
	a := newAnalyzer(src, s.scope)
	if err := a.split(); err != nil {
		t.Fatal(err)
	}
	if err := a.collectImports(); err != nil {
		t.Fatal(err)
	}
	var got []bool
	a.walk(func(n ast.Node, _ []ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			got = append(got, a.mayHaveResults(call))
			return false
		}
		return true
	})
	want := []bool{false, false, false, false, true, false, true, true, true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mayHaveResults = %v, want %v", got, want)
	}
}
