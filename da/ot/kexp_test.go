package ot

import (
	"math"
	"testing"
)

func TestKexpMatchesExp(t *testing.T) {
	worst := 0.0
	for x := -708.0; x < 709; x += 0.000913 {
		e, f := math.Exp(x), kexp(x)
		worst = math.Max(worst, math.Abs(e-f)/e)
	}
	for _, x := range []float64{0, 1, -1, 1e-300, -1e-300, math.Ln2, 700.5, -707.9} {
		e, f := math.Exp(x), kexp(x)
		worst = math.Max(worst, math.Abs(e-f)/e)
	}
	if worst > 1e-15 {
		t.Errorf("kexp is %g away from math.Exp (relative)", worst)
	}
	if kexp(-709) != 0 || kexp(-1e6) != 0 || !math.IsInf(kexp(710), 1) {
		t.Errorf("kexp(-709) = %g, kexp(-1e6) = %g, kexp(710) = %g", kexp(-709), kexp(-1e6), kexp(710))
	}
}

func TestKexpRowMatchesKexp(t *testing.T) {
	x := []float64{-1e6, -709, -708, -707.9, -1, 0, 1e-300, 1, 700.5, 709, 710}
	want := make([]float64, len(x))
	for j, v := range x {
		want[j] = kexp(v)
	}
	kexpRow(x)
	for j := range x {
		if x[j] != want[j] {
			t.Errorf("kexpRow entry %d = %g, kexp gives %g", j, x[j], want[j])
		}
	}
}
