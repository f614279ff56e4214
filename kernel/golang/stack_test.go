package golang

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/kernel"
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

// TestInterruptDuringCompiledCall: a cell interrupted inside a long compiled
// call (a large matrix product) reports the interrupt within about a second,
// the next cell waits for the call to return instead of running beside it,
// and the interrupted cell's remaining statements never run.
func TestInterruptDuringCompiledCall(t *testing.T) {
	in := newInterp(t)
	mustExec(t, in, 1, "rng := tensor.NewRNG(1)\na := tensor.Randn(rng, 2500, 2500)\nafter := false")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	out := &fakeOutput{}
	start := time.Now()
	res := in.Execute(ctx, kernel.ExecuteRequest{Code: "for k := 0; k < 20; k++ {\n\ta.MatMul(a)\n}\nafter = true", ExecutionCount: 2}, out)
	if res.Error == nil || res.Error.Name != ErrInterrupted {
		t.Fatalf("interrupted cell: error %v, want %s", res.Error, ErrInterrupted)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the interrupt was reported after %v", d)
	}
	t.Logf("interrupt reported after %v", time.Since(start))
	next := mustExec(t, in, 3, "after")
	t.Logf("next cell done after %v; it said %q", time.Since(start), next.stream("stderr"))
	if got := next.results(); !reflect.DeepEqual(got, []string{"false"}) {
		t.Errorf("after = %q: the interrupted cell went on running", got)
	}
	if in.leftover != nil {
		t.Error("the leftover interpreter goroutine is still recorded after the next cell")
	}
}
