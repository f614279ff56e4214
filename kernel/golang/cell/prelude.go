package cell

import (
	"strings"
)

// Internal names carry this letter (U+02B9 MODIFIER LETTER PRIME, a Go
// letter), which people do not type, so they cannot clash with a cell's
// names.
const mark = "ʹ"

// IsInternal reports whether a top-level name was made by this package (the
// prelude's helpers, renamed types) rather than by the user; completion and
// %who should hide such names.
func IsInternal(name string) bool {
	return strings.Contains(name, mark)
}

// helper is a function of the prelude standing in for a standard-library
// function yaegi v0.16.1 lacks. In its signature and body, ORDERED stands
// for the ordered-types constraint and $Name for another helper of the same
// package.
type helper struct {
	pkg, name string
	tparams   string // e.g. "[E any]"
	sig       string // parameters and results, e.g. "(s []E) []E"
	body      string
}

// preludeName is the name of the prelude function replacing pkg.name.
func preludeName(pkg, name string) string { return pkg + mark + name }

// helpers are the slices and maps functions yaegi v0.16.1 lacks: the
// iterator functions of Go 1.23 and the sorting, searching and min/max
// functions its generic slices source leaves out. Their signatures take
// plain slices and maps (a named slice or map type converts implicitly) and
// spell iter.Seq out as a func type.
var helpers = []helper{
	{"slices", "All", "[E any]", "(s []E) func(yield func(int, E) bool)",
		"{ return func(yield func(int, E) bool) { for i, v := range s { if !yield(i, v) { return } } } }"},
	{"slices", "Values", "[E any]", "(s []E) func(yield func(E) bool)",
		"{ return func(yield func(E) bool) { for _, v := range s { if !yield(v) { return } } } }"},
	{"slices", "Backward", "[E any]", "(s []E) func(yield func(int, E) bool)",
		"{ return func(yield func(int, E) bool) { for i := len(s) - 1; i >= 0; i-- { if !yield(i, s[i]) { return } } } }"},
	{"slices", "Collect", "[E any]", "(seq func(yield func(E) bool)) []E",
		"{ var out []E; seq(func(v E) bool { out = append(out, v); return true }); return out }"},
	{"slices", "AppendSeq", "[E any]", "(s []E, seq func(yield func(E) bool)) []E",
		"{ seq(func(v E) bool { s = append(s, v); return true }); return s }"},
	{"slices", "Sort", "[E ORDERED]", "(x []E)",
		"{ sort" + mark + ".Slice(x, func(i, j int) bool { a, b := x[i], x[j]; return (a != a && b == b) || a < b }) }"},
	{"slices", "SortFunc", "[E any]", "(x []E, cmp func(a, b E) int)",
		"{ sort" + mark + ".Slice(x, func(i, j int) bool { return cmp(x[i], x[j]) < 0 }) }"},
	{"slices", "SortStableFunc", "[E any]", "(x []E, cmp func(a, b E) int)",
		"{ sort" + mark + ".SliceStable(x, func(i, j int) bool { return cmp(x[i], x[j]) < 0 }) }"},
	{"slices", "Sorted", "[E ORDERED]", "(seq func(yield func(E) bool)) []E",
		"{ s := $Collect[E](seq); $Sort[E](s); return s }"},
	{"slices", "SortedFunc", "[E any]", "(seq func(yield func(E) bool), cmp func(E, E) int) []E",
		"{ s := $Collect[E](seq); $SortFunc[E](s, cmp); return s }"},
	{"slices", "SortedStableFunc", "[E any]", "(seq func(yield func(E) bool), cmp func(E, E) int) []E",
		"{ s := $Collect[E](seq); $SortStableFunc[E](s, cmp); return s }"},
	{"slices", "IsSorted", "[E ORDERED]", "(x []E) bool",
		"{ for i := len(x) - 1; i > 0; i-- { a, b := x[i], x[i-1]; if (a != a && b == b) || a < b { return false } }; return true }"},
	{"slices", "IsSortedFunc", "[E any]", "(x []E, cmp func(a, b E) int) bool",
		"{ for i := len(x) - 1; i > 0; i-- { if cmp(x[i], x[i-1]) < 0 { return false } }; return true }"},
	{"slices", "Min", "[E ORDERED]", "(x []E) E",
		"{ if len(x) < 1 { panic(\"slices.Min: empty list\") }; m := x[0]; for _, v := range x[1:] { if v != v { return v }; if v < m { m = v } }; return m }"},
	{"slices", "Max", "[E ORDERED]", "(x []E) E",
		"{ if len(x) < 1 { panic(\"slices.Max: empty list\") }; m := x[0]; for _, v := range x[1:] { if v != v { return v }; if v > m { m = v } }; return m }"},
	{"slices", "MinFunc", "[E any]", "(x []E, cmp func(a, b E) int) E",
		"{ if len(x) < 1 { panic(\"slices.MinFunc: empty list\") }; m := x[0]; for _, v := range x[1:] { if cmp(v, m) < 0 { m = v } }; return m }"},
	{"slices", "MaxFunc", "[E any]", "(x []E, cmp func(a, b E) int) E",
		"{ if len(x) < 1 { panic(\"slices.MaxFunc: empty list\") }; m := x[0]; for _, v := range x[1:] { if cmp(v, m) > 0 { m = v } }; return m }"},
	{"slices", "BinarySearch", "[E ORDERED]", "(x []E, target E) (int, bool)",
		"{ i := sort" + mark + ".Search(len(x), func(i int) bool { return x[i] >= target }); return i, i < len(x) && x[i] == target }"},
	{"slices", "BinarySearchFunc", "[E, T any]", "(x []E, target T, cmp func(E, T) int) (int, bool)",
		"{ i := sort" + mark + ".Search(len(x), func(i int) bool { return cmp(x[i], target) >= 0 }); return i, i < len(x) && cmp(x[i], target) == 0 }"},
	{"slices", "Repeat", "[E any]", "(x []E, count int) []E",
		"{ if count < 0 { panic(\"cannot be negative\") }; out := make([]E, 0, len(x)*count); for i := 0; i < count; i++ { out = append(out, x...) }; return out }"},
	{"slices", "Chunk", "[E any]", "(s []E, n int) func(yield func([]E) bool)",
		"{ if n < 1 { panic(\"cannot be less than 1\") }; return func(yield func([]E) bool) { for i := 0; i < len(s); i += n { end := i + n; if end > len(s) { end = len(s) }; if !yield(s[i:end:end]) { return } } } }"},
	{"maps", "All", "[K comparable, V any]", "(m map[K]V) func(yield func(K, V) bool)",
		"{ return func(yield func(K, V) bool) { for k, v := range m { if !yield(k, v) { return } } } }"},
	{"maps", "Keys", "[K comparable, V any]", "(m map[K]V) func(yield func(K) bool)",
		"{ return func(yield func(K) bool) { for k := range m { if !yield(k) { return } } } }"},
	{"maps", "Values", "[K comparable, V any]", "(m map[K]V) func(yield func(V) bool)",
		"{ return func(yield func(V) bool) { for _, v := range m { if !yield(v) { return } } } }"},
	{"maps", "Insert", "[K comparable, V any]", "(m map[K]V, seq func(yield func(K, V) bool))",
		"{ seq(func(k K, v V) bool { m[k] = v; return true }) }"},
	{"maps", "Collect", "[K comparable, V any]", "(seq func(yield func(K, V) bool)) map[K]V",
		"{ m := map[K]V{}; seq(func(k K, v V) bool { m[k] = v; return true }); return m }"},
}

// helperFor returns the helper replacing pkg.name, if any.
func helperFor(path, name string) (helper, bool) {
	for _, h := range helpers {
		if h.pkg == path && h.name == name {
			return h, true
		}
	}
	return helper{}, false
}

// orderedConstraint is the prelude's stand-in for cmp.Ordered.
const orderedConstraint = "ordered" + mark

// Prelude returns the source steps the interpreter evaluates once, in
// order, each with its own interp.Eval, before the first cell (and again
// after a reset). They define the builtins yaegi v0.16.1 lacks (min, max,
// clear) and the helpers that cells' calls of missing slices and maps
// functions are rewritten to. Each generic function has a step of its own:
// yaegi handles a generic function best when it is called only in later
// Evals.
func Prelude() []string {
	steps := []string{
		`import reflect` + mark + ` "reflect"`,
		`import sort` + mark + ` "sort"`,
		`type ` + orderedConstraint + ` interface { ~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64 | ~string }`,
		// min and max follow the builtins: a NaN argument gives NaN.
		`func min[T ` + orderedConstraint + `](x T, y ...T) T { if x != x { return x }; for _, v := range y { if v != v { return v }; if v < x { x = v } }; return x }`,
		`func max[T ` + orderedConstraint + `](x T, y ...T) T { if x != x { return x }; for _, v := range y { if v != v { return v }; if v > x { x = v } }; return x }`,
		`func clear(v any) { reflect` + mark + `.ValueOf(v).Clear() }`,
	}
	for _, h := range helpers {
		steps = append(steps, "func "+preludeName(h.pkg, h.name)+h.source(orderedConstraint)+" "+h.body2(h.pkg+mark))
	}
	return steps
}

// source returns the type parameters and signature of h with ORDERED
// replaced.
func (h helper) source(ordered string) string {
	return strings.ReplaceAll(h.tparams, "ORDERED", ordered) + h.sig
}

// body2 returns h's body with $Name replaced by prefix+Name.
func (h helper) body2(prefix string) string {
	return strings.ReplaceAll(h.body, "$", prefix)
}

// PreludeNames are the top-level names the prelude defines (all but min,
// max and clear are internal); the interpreter adds them to Scope.Defined
// once the prelude has run.
func PreludeNames() []string {
	names := []string{"min", "max", "clear", orderedConstraint}
	for _, h := range helpers {
		names = append(names, preludeName(h.pkg, h.name))
	}
	return names
}

// checkSources returns, for type-checking cells, the declarations the
// helpers add to a standard-library package (the generic functions newer
// than the Go 1.22 source yaegi interprets slices and maps from),
// and the iter package.
func checkSources(path string) string {
	if path == "iter" {
		return "package iter\ntype Seq[V any] func(yield func(V) bool)\ntype Seq2[K, V any] func(yield func(K, V) bool)\n"
	}
	var b strings.Builder
	for _, h := range helpers {
		if h.pkg != path {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("package " + path + "\nimport \"cmp\"\n")
		}
		b.WriteString("func " + h.name + h.source("cmp.Ordered") + " { panic(0) }\n")
	}
	return b.String()
}
