package vexp

import (
	"math"
	"testing"
)

// ulpErr returns the error of got as exp(x) in float32 ulps.
func ulpErr(got float32, x float32) float64 { return ULPError(got, math.Exp(float64(x))) }

// sweep returns n+1 evenly spaced float32 arguments over [lo, hi].
func sweep(lo, hi float64, n int) []float32 {
	xs := make([]float32, n+1)
	for i := range xs {
		xs[i] = float32(lo + (hi-lo)*float64(i)/float64(n))
	}
	return xs
}

// maxUlp is the error bound asserted over the whole float32 range.
const maxUlp = 2

func checkExp(t *testing.T, name string, f func(dst, src []float32, shift float32) float64) {
	t.Helper()
	// A dense sweep of the whole range, every float32 around 0 and around the
	// ends of the normal range, and every float32 just below overflow.
	var xs []float32
	xs = append(xs, sweep(-104, 89, 4_000_000)...)
	for _, c := range []float32{0, -87.33655, 88.72283, -103.27893} {
		b := math.Float32bits(c)
		for d := uint32(0); d < 20000; d++ {
			xs = append(xs, math.Float32frombits(b-10000+d))
		}
	}
	for v := float32(-1e-30); v < 0; v = math.Nextafter32(v, 0) {
		if len(xs) > 4_200_000 {
			break
		}
		xs = append(xs, v)
	}
	dst := make([]float32, len(xs))
	sum := f(dst, xs, 0)
	var worst float64
	var worstX float32
	var ref float64
	for i, x := range xs {
		if e := ulpErr(dst[i], x); e > worst {
			worst, worstX = e, x
		}
		ref += float64(dst[i])
	}
	t.Logf("%s: max error %.3f ulp at x = %v over %d arguments", name, worst, worstX, len(xs))
	if worst > maxUlp {
		t.Errorf("%s: error %.3f ulp at x = %v (exp %v, got %v), want ≤ %d", name, worst, worstX, math.Exp(float64(worstX)), dst[indexOf(xs, worstX)], maxUlp)
	}
	if math.Abs(sum-ref) > 1e-12*ref {
		t.Errorf("%s: sum %v, Σ dst %v", name, sum, ref)
	}
}

func indexOf(xs []float32, x float32) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func TestExpSumAccuracy(t *testing.T) {
	checkExp(t, "Go", expSumGo)
	if useAsm {
		checkExp(t, "asm", ExpSum)
	}
}

func TestExpSumEdges(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct{ x, want float32 }{
		{float32(math.Inf(-1)), 0}, {inf, inf}, {-200, 0}, {-104, 0}, {-1e30, 0},
		{89, inf}, {1000, inf}, {1e30, inf}, {0, 1}, {float32(math.Copysign(0, -1)), 1},
		{math.SmallestNonzeroFloat32, 1}, {-103.99, 0}, {-103.2789, math.SmallestNonzeroFloat32},
	}
	// Every case in each of the eight lanes of a vector and in the scalar tail.
	for _, c := range cases {
		for lane := 0; lane < 11; lane++ {
			src := make([]float32, 11)
			src[lane] = c.x
			dst := make([]float32, 11)
			sum := ExpSum(dst, src, 0)
			if dst[lane] != c.want {
				t.Errorf("exp(%v) in lane %d = %v, want %v", c.x, lane, dst[lane], c.want)
			}
			if want := 10 + float64(c.want); sum != want && !(math.IsInf(want, 1) && math.IsInf(sum, 1)) {
				t.Errorf("sum with exp(%v) in lane %d = %v, want %v", c.x, lane, sum, want)
			}
		}
	}
	for lane := 0; lane < 11; lane++ {
		src := make([]float32, 11)
		src[lane] = nan
		dst := make([]float32, 11)
		if sum := ExpSum(dst, src, 0); !math.IsNaN(float64(dst[lane])) || !math.IsNaN(sum) {
			t.Errorf("exp(NaN) in lane %d = %v, sum %v, want NaN", lane, dst[lane], sum)
		}
	}
	// NaN shift and an infinite shift.
	dst := make([]float32, 9)
	ExpSum(dst, make([]float32, 9), nan)
	for i, v := range dst {
		if !math.IsNaN(float64(v)) {
			t.Errorf("exp(0 − NaN)[%d] = %v, want NaN", i, v)
		}
	}
}

func TestExpSumShiftAndAliasing(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 100} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i%13)*1.7 - 5
		}
		const shift = 3.25
		want := make([]float32, n)
		var wsum float64
		for i, v := range src {
			expSumGo(want[i:i+1], []float32{v - shift}, 0)
			wsum += float64(want[i])
		}
		got := append([]float32(nil), src...)
		sum := ExpSum(got, got, shift) // in place
		for i := range got {
			if ulpErr(got[i], src[i]-shift) > maxUlp {
				t.Errorf("n %d: exp(%v − %v) = %v, want %v", n, src[i], shift, got[i], math.Exp(float64(src[i]-shift)))
			}
		}
		if math.Abs(sum-wsum) > 1e-6*wsum {
			t.Errorf("n %d: sum %v, want %v", n, sum, wsum)
		}
	}
}

var sink float64

func BenchmarkExp(b *testing.B) {
	src := sweep(-20, 0, 4095)
	dst := make([]float32, len(src))
	b.Run("math.Exp", func(b *testing.B) {
		for range b.N {
			var s float64
			for i, v := range src {
				e := math.Exp(float64(v))
				dst[i] = float32(e)
				s += e
			}
			sink = s
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
	})
	b.Run("Go", func(b *testing.B) {
		for range b.N {
			sink = expSumGo(dst, src, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
	})
	b.Run("ExpSum", func(b *testing.B) {
		for range b.N {
			sink = ExpSum(dst, src, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
	})
	masked := make([]float32, len(src))
	for i := range masked {
		masked[i] = float32(math.Inf(-1))
	}
	b.Run("ExpSum-underflow", func(b *testing.B) {
		for range b.N {
			sink = ExpSum(dst, masked, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
	})
}
