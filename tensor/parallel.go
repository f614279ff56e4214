package tensor

import "github.com/graftml/graft/internal/parallel"

// parallelFor splits [0, n) into contiguous chunks and runs body on each, in
// parallel when n·cost is large enough (see internal/parallel.For).
func parallelFor(n, cost int, body func(lo, hi int)) { parallel.For(n, cost, body) }

// parallelWork is parallelFor for n items whose total work (roughly the
// elements touched) is work.
func parallelWork(n, work int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	parallelFor(n, (work+n-1)/n, f)
}
