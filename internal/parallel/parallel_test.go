package parallel

import (
	"runtime"
	"sync"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, tc := range []struct{ n, cost, wantChunks int }{
		{0, 1, 1}, {10, 1, 1}, {2 * Grain, 1, 2}, {100, 4 * Grain, 4}, {3, 10 * Grain, 3},
	} {
		seen := make([]int, tc.n)
		var mu sync.Mutex
		chunks := 0
		For(tc.n, tc.cost, func(lo, hi int) {
			mu.Lock()
			chunks++
			mu.Unlock()
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n %d cost %d: index %d visited %d times", tc.n, tc.cost, i, c)
			}
		}
		if chunks != tc.wantChunks {
			t.Fatalf("n %d cost %d: %d chunks, want %d", tc.n, tc.cost, chunks, tc.wantChunks)
		}
	}
}
