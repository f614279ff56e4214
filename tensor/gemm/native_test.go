package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
)

// nativeRef returns the float64 product and, per entry, the float32
// rounding bound c·(k+3)·eps·(|alpha|·Σ|a||b| + |beta·C|).
func nativeRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, bound []float64) {
	want = make([]float64, m*n)
	bound = make([]float64, m*n)
	const eps = 1.0 / (1 << 24)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, abs float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				abs += math.Abs(float64(av) * float64(bv))
			}
			w := float64(alpha) * s
			mag := math.Abs(float64(alpha)) * abs
			if beta != 0 {
				cv := float64(beta) * float64(c[i*ldc+j])
				w += cv
				mag += math.Abs(cv)
			}
			want[i*n+j] = w
			bound[i*n+j] = 2*float64(k+3)*eps*mag + 1e-30
		}
	}
	return want, bound
}

func TestNativeAgainstFloat64Reference(t *testing.T) {
	shapes := [][3]int{ // m, n, k
		{1, 1, 1}, {7, 29, 13}, {97, 103, 101}, {1000, 3, 17}, {3, 1000, 17},
		{50, 40, 1}, {13, 29, 600}, {130, 20, 7}, {7, 3100, 5}, {6, 16, 4}, {12, 32, 257},
		{150, 40, 9}, {20, 512, 9}, // B packed whole rows: many rows; rows 2 KiB apart
		{13, 509, 300}, {16, 2045, 150}, // rows 2 KiB apart with beta 0.5 (stride n+3): B panels packed in groups, ragged
	}
	kernels := []struct {
		name string
		run  func(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	}{
		{"portable", func(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			nativeSgemm(kernelGo, nil, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Epilogue{})
		}},
		{fmt.Sprintf("best(avx2=%v)", nativeAVX2), func(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			Native{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}},
		{"split", func(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			prev := Set(Native{})
			defer Set(prev)
			Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}},
	}
	r := rand.New(rand.NewPCG(9, 9))
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for bi, beta := range []float32{0, 1, 0.5} {
					pad := (bi * 5) % 7 // strides wider than the rows for beta ≠ 0
					ar, ac := stored(m, k, ta)
					br, bc := stored(k, n, tb)
					lda, ldb, ldc := ac+pad, bc+pad, n+pad
					a := randSlice(r, ar*lda)
					b := randSlice(r, br*ldb)
					c0 := randSlice(r, m*ldc)
					if beta == 0 {
						for i := range c0 {
							c0[i] = float32(math.NaN())
						}
					}
					alpha := float32(-1.25)
					want, bound := nativeRef(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc)
					for _, kern := range kernels {
						c := append([]float32(nil), c0...)
						kern.run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						for i := 0; i < m; i++ {
							for j := 0; j < ldc; j++ {
								got := c[i*ldc+j]
								if j >= n { // padding between rows is untouched
									if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
										t.Fatalf("%s m=%d n=%d k=%d tA=%v tB=%v beta=%v: wrote padding C[%d,%d]", kern.name, m, n, k, ta, tb, beta, i, j)
									}
									continue
								}
								if d := math.Abs(float64(got) - want[i*n+j]); !(d <= bound[i*n+j]) {
									t.Fatalf("%s m=%d n=%d k=%d tA=%v tB=%v beta=%v ld=%d/%d/%d: C[%d,%d]=%v want %v (|err| %.3g > bound %.3g)",
										kern.name, m, n, k, ta, tb, beta, lda, ldb, ldc, i, j, got, want[i*n+j], d, bound[i*n+j])
								}
							}
						}
					}
				}
			}
		}
	}
}

func TestNativeAlphaZeroAndEmpty(t *testing.T) {
	a := []float32{float32(math.NaN()), 1}
	c := []float32{2, 4}
	Native{}.Sgemm(false, false, 1, 2, 1, 0, a[:1], 1, a, 2, 0.5, c, 2)
	if c[0] != 1 || c[1] != 2 {
		t.Fatalf("alpha 0: C = %v, want beta·C = [1 2]", c)
	}
	Native{}.Sgemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	if c[0] != 0 || c[1] != 0 {
		t.Fatalf("k 0, beta 0: C = %v, want zeros", c)
	}
	Native{}.Sgemm(false, false, 0, 2, 3, 1, nil, 3, nil, 2, 0, nil, 2) // m 0: nothing to do
}

func TestNativeNoSteadyStateAllocation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b, c := randSlice(r, 64*70), randSlice(r, 70*50), make([]float32, 64*50)
	Native{}.Sgemm(false, false, 64, 50, 70, 1, a, 70, b, 50, 0, c, 50)
	if n := testing.AllocsPerRun(20, func() {
		Native{}.Sgemm(false, false, 64, 50, 70, 1, a, 70, b, 50, 0, c, 50)
	}); n > 0 {
		t.Fatalf("%v allocations per call", n)
	}
}

func BenchmarkNative(b *testing.B) {
	for _, sh := range []struct {
		m, k, n int
		ta, tb  bool
	}{{128, 784, 256, false, false}, {128, 784, 256, false, true}, {64, 768, 768, false, false}, {512, 512, 512, false, false}} {
		m, n, k := sh.m, sh.n, sh.k
		r := rand.New(rand.NewPCG(1, 2))
		x, y, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		lda, ldb := k, n
		if sh.ta {
			lda = m
		}
		if sh.tb {
			ldb = k
		}
		b.Run(fmt.Sprintf("%dx%dx%d-%v-%v", m, k, n, sh.ta, sh.tb), func(b *testing.B) {
			prev := Set(Native{})
			defer Set(prev)
			for b.Loop() {
				Sgemm(sh.ta, sh.tb, m, n, k, 1, x, lda, y, ldb, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// The default is OpenBLAS where it is linked, else native where its
// AVX2+FMA kernel runs, else gonum.
func TestDefaultBackend(t *testing.T) {
	if os.Getenv("GRAFT_GEMM") != "" {
		t.Skip("GRAFT_GEMM chooses the backend")
	}
	want := "gonum"
	if nativeAVX2 {
		want = "native"
	}
	if _, err := ByName("openblas"); err == nil {
		want = "openblas"
	}
	if got := Current().Name(); got != want {
		t.Errorf("default backend %q, want %q (AVX2+FMA: %v, backends %v)", got, want, nativeAVX2, Available())
	}
}

// Products that nativeSwaps computes as Cᵀ = op(B)ᵀ·op(A)ᵀ (a
// convolution's weight gradient) equal the reference for every transpose,
// with beta 0 (C's NaNs ignored) and beta 0.5, on one thread and on two.
func TestTransposedProductsMatchReference(t *testing.T) {
	prev := Set(Native{})
	defer Set(prev)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(11, 12))
	for _, sh := range [][3]int{{16, 150, 1024}, {16, 6, 600}} {
		m, n, k := sh[0], sh[1], sh[2]
		if !nativeSwaps(m, n, k) {
			t.Fatalf("%v: nativeSwaps is false; the test would not reach the transposed path", sh)
		}
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, beta := range []float32{0, 0.5} {
						a, b := randSlice(r, m*k), randSlice(r, k*n)
						lda, ldb, ldc := k, n, n+3
						if ta {
							lda = m
						}
						if tb {
							ldb = k
						}
						c := randSlice(r, m*ldc)
						if beta == 0 {
							for i := range c {
								c[i] = float32(math.NaN())
							}
						}
						want := naive(ta, tb, m, n, k, 0.7, a, lda, b, ldb, beta, c, ldc)
						Sgemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, beta, c, ldc)
						for i := range m {
							for j := range n {
								got, w := c[i*ldc+j], want[i*n+j]
								if math.Abs(float64(got)-w) > 1e-3*(1+math.Abs(w)) {
									t.Fatalf("%v ta=%v tb=%v beta=%v procs %d: C[%d][%d] = %v, want %v", sh, ta, tb, beta, procs, i, j, got, w)
								}
							}
						}
					}
				}
			}
		}
	}
}
