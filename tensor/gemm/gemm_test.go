package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naive computes the product in float64 as the reference.
func naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	want, _ := nativeRef(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	return want
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestBackendsAgainstFloat64Reference(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {7, 11, 13}, {1, 257, 3}, {300, 2, 5}, {64, 64, 64}, {3, 1, 200}, {128, 33, 97}, {5, 5, 0}}
	for _, name := range Available() {
		be, err := ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		prev := Set(be)
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, pad := range []int{0, 3} { // pad > 0 exercises row strides larger than the width
						r := rand.New(rand.NewPCG(uint64(m*1000+n), uint64(k)))
						ar, ac := stored(m, k, ta)
						br, bc := stored(k, n, tb)
						lda, ldb, ldc := ac+pad, bc+pad, n+pad
						if ac == 0 {
							lda = 1 + pad
						}
						if bc == 0 {
							ldb = 1 + pad
						}
						a := randSlice(r, max(ar*lda, 1))
						b := randSlice(r, max(br*ldb, 1))
						c := randSlice(r, m*ldc)
						alpha, beta := float32(1.5), float32(-0.5)
						want := naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								got := float64(c[i*ldc+j])
								// float32 accumulation error grows like k·eps·|terms|.
								tol := 1e-5 * float64(k+2) * 4
								if math.Abs(got-want[i*n+j]) > tol*(1+math.Abs(want[i*n+j])) {
									t.Fatalf("%s m=%d n=%d k=%d tA=%v tB=%v pad=%d: C[%d,%d]=%v want %v", name, m, n, k, ta, tb, pad, i, j, got, want[i*n+j])
								}
							}
						}
					}
				}
			}
		}
		Set(prev)
	}
}

func TestShortSlicePanicsWithShapes(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic for a short A")
		}
		if s, _ := r.(string); s != "gemm: A is 2×3 with row stride 3 but has only 5 elements" {
			t.Fatalf("panic text %q", r)
		}
	}()
	Sgemm(false, false, 2, 2, 3, 1, make([]float32, 5), 3, make([]float32, 6), 2, 0, make([]float32, 4), 2)
}

func TestByNameUnknown(t *testing.T) {
	if _, err := ByName("nope"); err == nil {
		t.Fatal("expected an error for an unknown backend")
	}
}

// serialGonum makes the gonum backend look single-threaded so the package's
// own splitting and batching run in the default build's tests.
type serialGonum struct{ Gonum }

func (serialGonum) Serial() bool { return true }

func TestSplittingAndBatchingMatchReference(t *testing.T) {
	for _, be := range []Backend{serialGonum{}, Current()} {
		prev := Set(be)
		r := rand.New(rand.NewPCG(3, 4))
		// Large enough to split by rows (m ≥ n), by columns (n > m) and by k (small C), all transposes.
		for _, sh := range [][3]int{{301, 40, 97}, {40, 301, 97}, {64, 64, 300}, {6, 25, 9000}, {3, 5, 1001}} {
			m, n, k := sh[0], sh[1], sh[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					a, b, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					want := naive(ta, tb, m, n, k, 1, a, lda, b, ldb, 0.5, c, n)
					Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0.5, c, n)
					for i, w := range want {
						if math.Abs(float64(c[i])-w) > 1e-3*(1+math.Abs(w)) {
							t.Fatalf("%s %v: C[%d] = %v, want %v", be.Name(), sh, i, c[i], w)
						}
					}
				}
			}
		}
		// A batch of small products, distinct or with two accumulating into the same C.
		m, n, k := 5, 6, 7
		a, b := randSlice(r, 4*m*k), randSlice(r, 4*k*n)
		c := make([]float32, 4*m*n)
		aOffs, bOffs := []int{0, m * k, 2 * m * k, 3 * m * k}, []int{0, k * n, 2 * k * n, 3 * k * n}
		for _, cOffs := range [][]int{{0, m * n, 2 * m * n, 3 * m * n}, {0, m * n, 2 * m * n, 2 * m * n}, {0, m * n, 2 * m * n, 0}} {
			clear(c)
			SgemmBatch(false, false, m, n, k, 1, a, aOffs, k, b, bOffs, n, 1, c, cOffs, n)
			want := make([]float64, len(c))
			for i, off := range cOffs {
				p := naive(false, false, m, n, k, 1, a[aOffs[i]:], k, b[bOffs[i]:], n, 0, make([]float32, m*n), n)
				for j, v := range p {
					want[off+j] += v
				}
			}
			for i, w := range want {
				if math.Abs(float64(c[i])-w) > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("%s batch %v: C[%d] = %v, want %v", be.Name(), cOffs, i, c[i], w)
				}
			}
		}
		Set(prev)
	}
}
