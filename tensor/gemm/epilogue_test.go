package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// applyRef applies a bias and ReLU to the m×n matrix C in float32, written
// independently of Epilogue.apply.
func applyRef(c []float32, ldc, m, n int, bias []float32, relu bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := c[i*ldc+j]
			if bias != nil {
				v += bias[j]
			}
			if relu && !(v > 0) {
				v = 0
			}
			c[i*ldc+j] = v
		}
	}
}

// epilogueBackends are the backends of this build, the portable native
// kernel, and gonum made to look serial so that the package's splitting
// runs with a backend that applies the epilogue in a separate pass.
func epilogueBackends() []Backend {
	var bes []Backend
	for _, name := range Available() {
		be, _ := ByName(name)
		bes = append(bes, be)
	}
	return append(bes, serialGonum{}, portableNative{})
}

// portableNative is the native backend with the portable micro-kernel.
type portableNative struct{ Native }

func (portableNative) Name() string { return "native-portable" }

func (portableNative) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nativeSgemm(kernelGo, nil, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Epilogue{})
}

func (portableNative) sgemmEpilogue(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	nativeSgemm(kernelGo, nil, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
}

// SgemmEpilogue equals Sgemm followed by the bias and ReLU in float32, bit
// for bit, on every backend, for edge tiles, all transposes, beta 0 and 1,
// row strides wider than the rows, and each way of splitting a product.
func TestSgemmEpilogueEqualsSgemmThenBiasReLU(t *testing.T) {
	shapes := [][3]int{ // m, n, k
		{1, 1, 1}, {7, 29, 13}, {97, 103, 101}, {6, 16, 4}, {4, 16, 300}, {10, 16, 300}, {13, 17, 5},
		{1000, 3, 17}, {3, 1000, 17}, {12, 32, 257}, {7, 3100, 5}, {16, 150, 600}, {16, 512, 150}, {5, 5, 0},
		{301, 40, 97}, {40, 301, 97}, {6, 25, 9000}, // split by rows, by columns, by k
	}
	prevProcs := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(prevProcs)
	r := rand.New(rand.NewPCG(5, 6))
	for _, be := range epilogueBackends() {
		prev := Set(be)
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, beta := range []float32{0, 1} {
						pad := 0
						if beta != 0 {
							pad = 3
						}
						ar, ac := stored(m, k, ta)
						br, bc := stored(k, n, tb)
						lda, ldb, ldc := max(ac, 1)+pad, max(bc, 1)+pad, n+pad
						a, b := randSlice(r, max(ar*lda, 1)), randSlice(r, max(br*ldb, 1))
						c0, bias := randSlice(r, m*ldc), randSlice(r, n)
						if beta == 0 { // C's old values, even NaNs, must not matter
							for i := range c0 {
								c0[i] = float32(math.NaN())
							}
						}
						for _, ep := range []Epilogue{{Bias: bias}, {ReLU: true}, {Bias: bias, ReLU: true}} {
							want := append([]float32(nil), c0...)
							Sgemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, beta, want, ldc)
							applyRef(want, ldc, m, n, ep.Bias, ep.ReLU)
							got := append([]float32(nil), c0...)
							SgemmEpilogue(ta, tb, m, n, k, 1.5, a, lda, b, ldb, beta, got, ldc, ep)
							for i := range got {
								if beta == 0 && i%ldc < n && got[i] != got[i] {
									t.Fatalf("%s m=%d n=%d k=%d tA=%v tB=%v: C[%d,%d] is NaN with beta 0", be.Name(), m, n, k, ta, tb, i/ldc, i%ldc)
								}
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
									t.Fatalf("%s m=%d n=%d k=%d tA=%v tB=%v beta=%v bias=%v relu=%v: C[%d,%d] = %v, want %v",
										be.Name(), m, n, k, ta, tb, beta, ep.Bias != nil, ep.ReLU, i/ldc, i%ldc, got[i], want[i])
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

func TestSgemmEpilogueBiasLengthPanics(t *testing.T) {
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "bias has 3 elements for the 2 columns") {
			t.Fatalf("panic %v", r)
		}
	}()
	SgemmEpilogue(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2, Epilogue{Bias: make([]float32, 3)})
}

// nativeOnTwoThreads makes the native backend current, on two threads, for
// the rest of the test.
func nativeOnTwoThreads(t *testing.T) {
	prevProcs := runtime.GOMAXPROCS(2)
	prev := Set(Native{})
	t.Cleanup(func() {
		Set(prev)
		runtime.GOMAXPROCS(prevProcs)
	})
}

// Split products, the k split's partial products included, allocate
// nothing once the pools are warm.
func TestSplitSgemmNoSteadyStateAllocation(t *testing.T) {
	nativeOnTwoThreads(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][3]int{{6, 25, 9000}, {301, 40, 97}, {40, 301, 97}} { // by k, rows, columns
		m, n, k := sh[0], sh[1], sh[2]
		a, b, c, bias := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n), randSlice(r, n)
		for _, ep := range []Epilogue{{}, {Bias: bias, ReLU: true}} {
			mul := func() { SgemmEpilogue(false, false, m, n, k, 1, a, k, b, n, 0, c, n, ep) }
			for range 5 {
				mul()
			}
			if allocs := testing.AllocsPerRun(50, mul); allocs > 0 {
				t.Errorf("%v, bias+ReLU %v: %v allocations per product", sh, ep.ReLU, allocs)
			}
		}
	}
}

// A batch of small products run in parallel (attention's per-head products)
// allocates nothing once the pools are warm, and computes what the items
// computed one by one do.
func TestSgemmBatchNoSteadyStateAllocation(t *testing.T) {
	nativeOnTwoThreads(t)
	r := rand.New(rand.NewPCG(9, 10))
	const items, m, n, k = 128, 64, 64, 64
	a, b := randSlice(r, items*m*k), randSlice(r, items*k*n)
	c, want := make([]float32, items*m*n), make([]float32, items*m*n)
	var aOffs, bOffs, cOffs []int
	for i := range items {
		aOffs, bOffs, cOffs = append(aOffs, i*m*k), append(bOffs, i*k*n), append(cOffs, i*m*n)
		Native{}.Sgemm(false, true, m, n, k, 1, a[i*m*k:], k, b[i*k*n:], k, 0, want[i*m*n:], n)
	}
	mul := func() { SgemmBatch(false, true, m, n, k, 1, a, aOffs, k, b, bOffs, k, 0, c, cOffs, n) }
	mul()
	if !slices.Equal(c, want) {
		t.Fatal("the batch differs from its items computed one by one")
	}
	if allocs := testing.AllocsPerRun(50, mul); allocs > 0 {
		t.Errorf("%v allocations per batch", allocs)
	}
}

func BenchmarkSgemmEpilogue(b *testing.B) {
	for _, sh := range [][3]int{{128, 256, 784}, {2048, 1024, 256}, {128, 120, 256}} { // m, n, k
		m, n, k := sh[0], sh[1], sh[2]
		r := rand.New(rand.NewPCG(1, 2))
		x, y, c, bias := randSlice(r, m*k), randSlice(r, n*k), make([]float32, m*n), randSlice(r, n)
		for _, mode := range []string{"fused", "separate"} {
			b.Run(fmt.Sprintf("%dx%dx%d-%s", m, k, n, mode), func(b *testing.B) {
				for b.Loop() {
					if mode == "fused" {
						SgemmEpilogue(false, true, m, n, k, 1, x, k, y, k, 0, c, n, Epilogue{Bias: bias, ReLU: true})
						continue
					}
					for i := 0; i < m; i++ {
						copy(c[i*n:(i+1)*n], bias)
					}
					Sgemm(false, true, m, n, k, 1, x, k, y, k, 1, c, n)
					for i, v := range c {
						c[i] = relu(v)
					}
				}
			})
		}
	}
}

// The tile epilogue (assembly where AVX2 runs) equals the generic one bit for
// bit, on special values too: ±0, ±Inf, NaNs with and without the sign bit.
func TestEpilogueTileEqualsGeneric(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002), 1e-45, -1e-45, 3, -3}
	r := rand.New(rand.NewPCG(1, 1))
	const rows, ldc = 6, 19
	c0 := randSlice(r, rows*ldc)
	for i := range c0 {
		if i%3 == 0 {
			c0[i] = special[i%len(special)]
		}
	}
	bias := randSlice(r, 20)
	bias[5], bias[6] = float32(math.Copysign(0, -1)), 0
	for _, ep := range []Epilogue{{Bias: bias}, {ReLU: true}, {Bias: bias, ReLU: true}} {
		for _, n := range []int{4, 6} {
			got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
			ep.applyTile(got[1:], ldc, n, 2)
			ep.apply(want[1:], ldc, n, nativeNR, 2)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("bias %v relu %v rows %d: C[%d] = %#x, want %#x", ep.Bias != nil, ep.ReLU, n, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}
