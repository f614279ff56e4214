package ot

import (
	"math"
	"testing"
)

// The sweeps (AVX2 and FMA where the CPU has them) agree with the portable
// Go loops to rounding, over lengths with and without a tail.
func TestSweepsMatchPortableGo(t *testing.T) {
	t.Logf("AVX2 and FMA in use: %v", useAVX2)
	r := newTestRand(11)
	for n := 0; n <= 37; n++ {
		rows := r.matrix(5, n)
		k0, k1, k2, k3, v := rows.Row(0), rows.Row(1), rows.Row(2), rows.Row(3), rows.Row(4)
		g := [4]float64{}
		g[0], g[1], g[2], g[3] = dot4(k0, k1, k2, k3, v)
		w := [4]float64{}
		w[0], w[1], w[2], w[3] = dot4Go(k0, k1, k2, k3, v)
		for i := range g {
			if math.Abs(g[i]-w[i]) > 1e-13*math.Max(1, math.Abs(w[i])) {
				t.Errorf("n = %d: dot4 row %d = %v, portable %v", n, i, g[i], w[i])
			}
		}
		y1 := r.matrix(1, n).Row(0)
		y2 := append([]float64(nil), y1...)
		axpy4(y1, 0.5, -1.5, 2, 0.25, k0, k1, k2, k3)
		axpy4Go(y2, 0.5, -1.5, 2, 0.25, k0, k1, k2, k3)
		for j := range y1 {
			if math.Abs(y1[j]-y2[j]) > 1e-13*math.Max(1, math.Abs(y2[j])) {
				t.Errorf("n = %d: axpy4[%d] = %v, portable %v", n, j, y1[j], y2[j])
			}
		}
	}
}

// BenchmarkSweepRow1000 times one fused sweep step over four 1000-entry
// rows (dot4 then axpy4), with the dispatching functions and with the
// portable Go loops.
func BenchmarkSweepRow1000(b *testing.B) {
	for _, c := range []struct {
		name string
		dot  func(k0, k1, k2, k3, v []float64) (s0, s1, s2, s3 float64)
		axpy func(y []float64, u0, u1, u2, u3 float64, k0, k1, k2, k3 []float64)
	}{{"dispatch", dot4, axpy4}, {"go", dot4Go, axpy4Go}} {
		b.Run(c.name, func(b *testing.B) {
			rows := newTestRand(12).matrix(5, 1000)
			k0, k1, k2, k3, v := rows.Row(0), rows.Row(1), rows.Row(2), rows.Row(3), rows.Row(4)
			y := make([]float64, 1000)
			for i := 0; i < b.N; i++ {
				u0, u1, u2, u3 := c.dot(k0, k1, k2, k3, v)
				c.axpy(y, u0*1e-9, u1*1e-9, u2*1e-9, u3*1e-9, k0, k1, k2, k3)
			}
		})
	}
}
