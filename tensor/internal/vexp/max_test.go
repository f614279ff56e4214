package vexp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refMax is the maximum of x, NaN if x holds one.
func refMax(x []float32) float32 {
	m := float64(x[0])
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	return float32(m)
}

// TestMax checks every length up to 40 against refMax, with a NaN, ±Inf and
// a new maximum in each position, and all-−Inf rows.
func TestMax(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for n := 1; n <= 40; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 10)
		}
		check := func(what string, y []float32) {
			t.Helper()
			got, want := Max(y), refMax(y)
			if got != want && !(got != got && want != want) {
				t.Fatalf("n %d, %s: Max = %v, want %v", n, what, got, want)
			}
		}
		check("random", x)
		for p := range n {
			for _, special := range []float32{nan, inf, -inf, 1000} {
				y := append([]float32(nil), x...)
				y[p] = special
				check(fmt.Sprintf("%v at %d", special, p), y)
			}
		}
		for i := range x {
			x[i] = -inf
		}
		check("all −Inf", x)
	}
}
