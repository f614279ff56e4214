package cell

import (
	"errors"
	"strings"
	"testing"
)

// FuzzAnalyze checks that Analyze and IsComplete never panic and that
// every error is an *Error with a position inside the cell.
func FuzzAnalyze(f *testing.F) {
	for _, seed := range []string{
		"x := 1\nx",
		"for i := range 10 { fmt.Println(i) }",
		"func f[T any](x T) T { return x }\nf(1)",
		"type T struct{ A int }\nfunc (t T) M() int { return t.A }\nT{1}.M()",
		"for k, v := range maps.All(m) { _ = k; _ = v }",
		"L:\nfor x := range seq { if x > 1 { break L } }",
		"import \"fmt\"\nfmt.Println(min(1, 2.5), max(\"a\", \"b\"))",
		"x := )",
		"func (",
		"`raw",
		"for i := 0; i < 3; i++ { go func() { _ = i }() }",
	} {
		f.Add(seed)
	}
	scope := benchScope()
	f.Fuzz(func(t *testing.T, src string) {
		IsComplete(src)
		_, err := Analyze(src, scope)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Analyze(%q) error %v is not an *Error", src, err)
		}
		if strings.HasPrefix(e.Msg, "internal error") {
			t.Fatalf("Analyze(%q): %v", src, e)
		}
		if e.Line > strings.Count(src, "\n")+1 {
			t.Fatalf("Analyze(%q) error line %d past the end: %v", src, e.Line, e)
		}
	})
}
