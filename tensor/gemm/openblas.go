//go:build openblas && cgo

package gemm

/*
#cgo LDFLAGS: -lopenblas
enum graft_order { graftRowMajor = 101 };
enum graft_trans { graftNoTrans = 111, graftTrans = 112 };
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
*/
import "C"

import "unsafe"

// OpenBLAS is the cgo backend over the system OpenBLAS library (build tag
// "openblas"; Debian package libopenblas-dev). OpenBLAS itself runs
// single-threaded and graft splits large products across GOMAXPROCS
// goroutines: OpenBLAS's own worker threads spin between calls and would take
// the cores from graft's element-wise work.
type OpenBLAS struct{}

// Serial reports that Sgemm runs on the calling thread only.
func (OpenBLAS) Serial() bool { return true }

// Name returns "openblas".
func (OpenBLAS) Name() string { return "openblas" }

// Sgemm performs the product with cblas_sgemm.
func (OpenBLAS) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.cblas_sgemm(C.graftRowMajor, ctrans(transA), ctrans(transB), C.int(m), C.int(n), C.int(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func ctrans(t bool) C.int {
	if t {
		return C.graftTrans
	}
	return C.graftNoTrans
}

func init() {
	C.openblas_set_num_threads(1)
	register(OpenBLAS{}, true)
}
