package ot

import (
	"math"
	"testing"
)

func TestSinkhornDivergenceMatchesPOT(t *testing.T) {
	r := newTestRand(80)
	xs, xt := r.matrix(30, 2), r.matrix(25, 2)
	for i := range xt.Data {
		xt.Data[i] += 0.5
	}
	a, b := r.weights(30), r.weights(25)
	regs := []float64{2, 1}
	want := make([]float64, len(regs))
	calls := make([]potCall, len(regs))
	outs := make([]any, len(regs))
	for k, reg := range regs {
		calls[k] = potCall{"sinkhorn_divergence", map[string]any{"xs": rows(xs), "xt": rows(xt), "reg": reg, "a": a, "b": b}}
		outs[k] = &want[k]
	}
	runPOT(t, calls, outs...)
	for k, reg := range regs {
		got, err := SinkhornDivergence(xs, xt, a, b, reg, "", SinkhornOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want[k]) > 1e-7 || got <= 0 {
			t.Errorf("ε=%g: divergence %.10g, POT %.10g", reg, got, want[k])
		}
	}
	// The divergence of a distribution to itself is 0.
	if d, err := SinkhornDivergence(xs, xs, a, a, 0.1, "", SinkhornOptions{}); err != nil || d != 0 {
		t.Errorf("S(a, a) = %g, %v", d, err)
	}
}
