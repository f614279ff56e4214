package ot

import (
	"math"
	"testing"
)

// divergenceRegs are the ε of TestSinkhornDivergenceMatchesPOT.
var divergenceRegs = []float64{2, 1}

// divergenceInputs returns the samples and weights of the divergence test.
func divergenceInputs() (xs, xt *Matrix, a, b []float64) {
	r := newTestRand(80)
	xs, xt = r.matrix(30, 2), r.matrix(25, 2)
	for i := range xt.Data {
		xt.Data[i] += 0.5
	}
	return xs, xt, r.weights(30), r.weights(25)
}

// divergenceCalls are the POT calls of the divergence test.
func divergenceCalls() []potCall {
	xs, xt, a, b := divergenceInputs()
	var calls []potCall
	for _, reg := range divergenceRegs {
		calls = append(calls, potCall{"sinkhorn_divergence", map[string]any{"xs": rows(xs), "xt": rows(xt), "reg": reg, "a": a, "b": b}})
	}
	return calls
}

func TestSinkhornDivergenceMatchesPOT(t *testing.T) {
	xs, xt, a, b := divergenceInputs()
	regs := divergenceRegs
	want := make([]float64, len(regs))
	entropicPOT(t, "divergence", pointers(want)...)
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
