package project

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/graftml/graft/tensor"
)

// matrix checks that x is a finite (N, D) tensor with at least minRows rows
// and returns its values as float64, row-major. op prefixes the errors.
func matrix(op string, x *tensor.Tensor, minRows int) (data []float64, n, d int, err error) {
	if x == nil {
		return nil, 0, 0, fmt.Errorf("%s: x is nil", op)
	}
	shape := x.Shape()
	if len(shape) != 2 {
		return nil, 0, 0, fmt.Errorf("%s: x has shape %s, want (N, D)", op, tensor.FormatShape(shape))
	}
	n, d = shape[0], shape[1]
	if n < minRows {
		return nil, 0, 0, fmt.Errorf("%s: need at least %d rows, x has %d", op, minRows, n)
	}
	if d < 1 {
		return nil, 0, 0, fmt.Errorf("%s: x has shape %s: no columns", op, tensor.FormatShape(shape))
	}
	src := x.Data()
	data = make([]float64, len(src))
	for i, v := range src {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, 0, 0, fmt.Errorf("%s: x[%d,%d] is %v", op, i/d, i%d, v)
		}
		data[i] = f
	}
	return data, n, d, nil
}

// toTensor returns the float64 values v as a float32 tensor of the shape.
func toTensor(v []float64, shape ...int) *tensor.Tensor {
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return tensor.Wrap(out, shape...)
}

// parallelGrain is the least work (in rough multiply-adds) worth handing to
// another goroutine.
const parallelGrain = 1 << 15

// parallelRows runs body over [0, n) in blocks of rows, on up to GOMAXPROCS
// goroutines when n·cost (cost: rough work per row) is large enough. Blocks
// are handed out dynamically, so rows of uneven cost balance; body must write
// only to the rows it is given, which keeps results independent of how the
// rows were split.
func parallelRows(n, cost int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	total := n * max(cost, 1)
	if workers < 2 || total < 2*parallelGrain || n < 2 {
		body(0, n)
		return
	}
	workers = min(workers, total/parallelGrain, n)
	blocks := min(n, 8*workers)
	size := (n + blocks - 1) / blocks
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for {
			lo := int(next.Add(int64(size))) - size
			if lo >= n {
				return
			}
			body(lo, min(lo+size, n))
		}
	}
	for range workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
