package golang

import (
	"context"
	"runtime"
	"testing"

	"github.com/graftml/graft/kernel"
)

func BenchmarkTrivialCell(b *testing.B) {
	in := newInterp(b)
	out := &fakeOutput{}
	for i := 0; i < b.N; i++ {
		out.events = out.events[:0]
		res := in.Execute(context.Background(), kernel.ExecuteRequest{Code: "1 + 1", ExecutionCount: i}, out)
		if res.Error != nil {
			b.Fatal(res.Error)
		}
	}
}

// TestMemoryPerCell checks that trivial cells do not pile up memory: yaegi
// keeps every compiled syntax tree and source file unless the kernel lets
// them go (about 5 KB a cell when it does not).
func TestMemoryPerCell(t *testing.T) {
	in := newInterp(t)
	out := &fakeOutput{}
	run := func(n int) {
		for i := 0; i < n; i++ {
			out.events = out.events[:0]
			if res := in.Execute(context.Background(), kernel.ExecuteRequest{Code: "x := 1\nx + 1", ExecutionCount: i}, out); res.Error != nil {
				t.Fatal(res.Error)
			}
		}
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	run(200)
	before := heap()
	const cells = 2000
	run(cells)
	after := heap()
	runtime.KeepAlive(in)
	if per := (int64(after) - int64(before)) / cells; per > 2048 {
		t.Errorf("the heap grew by %d bytes per trivial cell, want at most 2048", per)
	}
}
