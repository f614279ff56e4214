package tensor

import (
	"runtime"
	"sync"
)

// parallelGrain is the smallest amount of element-wise work worth handing to
// another goroutine (about 20 µs of simple arithmetic).
const parallelGrain = 1 << 15

// parallelFor splits [0, n) into contiguous chunks and runs body on each, in
// parallel across GOMAXPROCS goroutines when n·cost is large enough (cost is the
// relative work per index: 1 for a simple element, the row length for a row).
func parallelFor(n, cost int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if total := n * max(cost, 1); workers > 1 && total >= 2*parallelGrain {
		workers = min(workers, total/parallelGrain, n)
	} else {
		workers = 1
	}
	if workers <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := chunk; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			body(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	body(0, min(chunk, n))
	wg.Wait()
}

// parallelWork is parallelFor for n items whose total work (roughly the
// elements touched) is work.
func parallelWork(n, work int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	parallelFor(n, (work+n-1)/n, f)
}
