package golang

import (
	"reflect"
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
