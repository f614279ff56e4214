// Package parallel splits loops over contiguous ranges across GOMAXPROCS
// goroutines when the work is large enough to pay for them. The engine's
// element-wise kernels and the optimisers share it.
package parallel

import (
	"runtime"
	"sync"
)

// Grain is the smallest amount of element-wise work worth handing to another
// goroutine (about 20 µs of simple arithmetic).
const Grain = 1 << 15

// For splits [0, n) into contiguous chunks and runs body on each, in parallel
// across GOMAXPROCS goroutines when n·cost is at least two grains (cost is the
// relative work per index: 1 for a simple element, the row length for a row).
// body must write only what belongs to its own range.
func For(n, cost int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if Worth(n, cost) {
		workers = min(workers, n*max(cost, 1)/Grain, n)
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

// Worth reports whether For(n, cost, …) would use more than one goroutine.
// A caller whose body would otherwise not allocate can run it directly when
// it is not: a closure handed to For escapes to the heap.
func Worth(n, cost int) bool {
	return runtime.GOMAXPROCS(0) > 1 && n > 1 && n*max(cost, 1) >= 2*Grain
}
