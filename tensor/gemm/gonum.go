package gemm

import (
	"gonum.org/v1/gonum/blas"
	gonumblas "gonum.org/v1/gonum/blas/gonum"
)

// Gonum is the pure-Go backend built on gonum's BLAS; it needs no cgo.
type Gonum struct{}

// Name returns "gonum".
func (Gonum) Name() string { return "gonum" }

// Sgemm performs the product with gonum's float32 GEMM (parallel for large shapes).
func (Gonum) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonumblas.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
