package cell

import (
	"reflect"
	"testing"

	"github.com/graftml/graft/kernel/golang/stdsymbols"
)

// benchScope is a scope like the kernel's after a few cells.
func benchScope() Scope {
	return Scope{
		Globals: map[string]reflect.Type{"x": reflect.TypeOf(0), "xs": reflect.TypeOf([]float64{})},
		Defined: map[string]bool{"f": true, "T": true},
		Types:   map[string]bool{"T": true},
		Imports: map[string]string{"fmt": "fmt", "strings": "strings"},
		Decls:   map[string]string{"f": "func f(v int) int", "T": "type T struct{ A int }", "x": "var x int"},
		Symbols: func(path string) map[string]reflect.Value { return stdsymbols.Symbols[path+"/"+pathName(path)] },
		Package: func(name string) (string, bool) { p, ok := testPackages[name]; return p, ok },
	}
}

func BenchmarkAnalyzeExpression(b *testing.B) {
	scope := benchScope()
	for i := 0; i < b.N; i++ {
		if _, err := Analyze("x + 1", scope); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnalyzeTrailingCall(b *testing.B) {
	scope := benchScope()
	for i := 0; i < b.N; i++ {
		if _, err := Analyze("y := f(x)\nfmt.Println(y, strings.Repeat(\"a\", 3))", scope); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnalyzeRange(b *testing.B) {
	scope := benchScope()
	for i := 0; i < b.N; i++ {
		if _, err := Analyze("s := 0.0\nfor i := range len(xs) { s += xs[i] * float64(i) }\ns", scope); err != nil {
			b.Fatal(err)
		}
	}
}
