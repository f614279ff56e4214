package golang

import (
	"reflect"
	"strings"
	"testing"
)

// TestWaitGroupCell is a regression test: checking this cell once recursed
// without end converting a standard-library type that refers to itself
// (a fatal stack overflow that took the kernel down).
func TestWaitGroupCell(t *testing.T) {
	in := newInterp(t)
	out := mustExec(t, in, 1, "var wg sync.WaitGroup\nresults := make([]int, 4)\nfor i := range 4 {\n\twg.Add(1)\n\tgo func() { defer wg.Done(); results[i] = i * i }()\n}\nwg.Wait()\nresults")
	if got := out.results(); !reflect.DeepEqual(got, []string{"[0 1 4 9]"}) {
		t.Errorf("Out = %q, want [0 1 4 9]", got)
	}
}

// TestInterpretedStructGlobals: later cells are checked with the types of
// earlier cells' variables as the interpreter holds them — structs with
// their unexported fields renamed, recursive types that refer to themselves.
// The check must see the fields by their own names (so `range p.val` is
// known to range over an int) and must not recurse without end.
func TestInterpretedStructGlobals(t *testing.T) {
	in := newInterp(t)
	mustExec(t, in, 1, "type pt struct{ val int }\np := &pt{3}")
	mustExec(t, in, 2, "type node struct{ val int; next *node; kids []*node; f func(*node) *node }\nlist := &node{val: 2, next: &node{val: 5}}")
	for _, tc := range []struct{ code, want string }{
		{"for i := range p.val { fmt.Print(i) }", "012"},
		{"for i := range list.val { fmt.Print(i) }", "01"},
		{"for i := range list.next.val { fmt.Print(i) }", "01234"},
		{"sum := 0\nfor n := list; n != nil; n = n.next { sum += n.val }\nfmt.Print(sum)", "7"},
	} {
		out := mustExec(t, in, 3, tc.code)
		if got := out.stream("stdout"); got != tc.want {
			t.Errorf("%q printed %q, want %q", tc.code, got, tc.want)
		}
	}
	_, res := exec(t, in, 4, "p.missing")
	if res.Error == nil || !strings.Contains(res.Error.Value, "p.missing undefined") {
		t.Errorf("p.missing: error %v, want one naming p.missing", res.Error)
	}
}
