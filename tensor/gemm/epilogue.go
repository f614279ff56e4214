package gemm

import (
	"fmt"
	"math"
	"runtime"
)

// Epilogue is work done on C after the product, while C is still in cache:
// a bias added to every row, then optionally a ReLU. The zero Epilogue does
// nothing.
type Epilogue struct {
	// Bias, when not nil, has one value per column of C (length n), added
	// to every row.
	Bias []float32
	// ReLU replaces each value by max(0, value) after the bias, as
	// tensor's ReLU does: negative values, −0 and NaNs with the sign bit
	// set become +0.
	ReLU bool
}

// SgemmEpilogue computes C = act(alpha·op(A)·op(B) + beta·C + bias) with the
// current backend, where bias and act are the epilogue's (see Epilogue); the
// result is the one of Sgemm followed by the epilogue in float32, bit for
// bit. It panics, naming the values, when a slice is too short for the
// shapes and strides or the bias does not have n elements.
func SgemmEpilogue(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	if ep.Bias != nil && len(ep.Bias) != n {
		panic(fmt.Sprintf("gemm: the epilogue's bias has %d elements for the %d columns of C", len(ep.Bias), n))
	}
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
}

// active reports whether the epilogue does anything.
func (ep Epilogue) active() bool { return ep.Bias != nil || ep.ReLU }

// epilogueBackend is implemented by backends that apply an epilogue
// themselves, tile by tile, while the product's result is in cache.
type epilogueBackend interface {
	sgemmEpilogue(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue)
}

// runBackend computes the product with be and applies ep, in
// the backend's tiles where it can, else in a pass over C afterwards on up to
// workers goroutines.
func runBackend(be Backend, workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	if !ep.active() {
		be.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if eb, ok := be.(epilogueBackend); ok {
		eb.sgemmEpilogue(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	be.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	ep.applyParallel(c, ldc, m, n, workers)
}

// epilogueParallel is the size of C (in elements) below which the epilogue's
// pass runs on one goroutine.
const epilogueParallel = 1 << 15

// applyParallel applies the epilogue to the m×n matrix C on up to workers
// goroutines.
func (ep Epilogue) applyParallel(c []float32, ldc, m, n, workers int) {
	if !ep.active() {
		return
	}
	if workers < 2 || m < 2 || m*n < epilogueParallel {
		ep.apply(c, ldc, m, n, 0)
		return
	}
	parallelChunks(m, min(workers, runtime.GOMAXPROCS(0)), 1, func(lo, hi int) {
		ep.apply(c[lo*ldc:], ldc, hi-lo, n, 0)
	})
}

// apply applies the epilogue to the rows×cols block at the start of c (row
// stride ldc) whose first column is column j0 of C.
func (ep Epilogue) apply(c []float32, ldc, rows, cols, j0 int) {
	var bias []float32
	if ep.Bias != nil {
		bias = ep.Bias[j0 : j0+cols]
	}
	for r := 0; r < rows; r++ {
		row := c[r*ldc : r*ldc+cols]
		switch {
		case bias != nil && ep.ReLU:
			row = row[:len(bias)]
			for j, v := range row {
				row[j] = relu(v + bias[j])
			}
		case bias != nil:
			row = row[:len(bias)]
			for j, v := range row {
				row[j] = v + bias[j]
			}
		default:
			for j, v := range row {
				row[j] = relu(v)
			}
		}
	}
}

// relu returns max(0, v), branch-free (random signs would mispredict): the
// sign bit, spread over the word, clears every bit of a negative value.
func relu(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}
