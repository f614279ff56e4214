package ot

import (
	"math"
	"strings"
	"testing"
)

// permutedCopy returns Y with Y[σ(i), τ(k)] = X[i, k].
func permutedCopy(X *Matrix, sigma, tau []int) *Matrix {
	Y := Zeros(X.Rows, X.Cols)
	for i := 0; i < X.Rows; i++ {
		for k := 0; k < X.Cols; k++ {
			Y.Set(sigma[i], tau[k], X.At(i, k))
		}
	}
	return Y
}

// nonIncreasing fails unless h never grows by more than slack.
func nonIncreasing(t *testing.T, name string, h []float64, slack float64) {
	t.Helper()
	for k := 1; k < len(h); k++ {
		if h[k] > h[k-1]+slack {
			t.Errorf("%s: objective rose from %.15g to %.15g at block update %d", name, h[k-1], h[k], k)
		}
	}
}

func TestCOOTRecoversPermutations(t *testing.T) {
	// Rows and columns with distinct offsets (and noise): a copy with its
	// rows and columns permuted is matched exactly.
	r := newTestRand(100)
	n, d := 8, 5
	X := r.matrix(n, d)
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			X.Set(i, k, 0.1*X.At(i, k)+1.5*float64(i)+0.4*float64(k*k))
		}
	}
	sigma := []int{5, 2, 7, 0, 3, 6, 1, 4}
	tau := []int{3, 0, 4, 2, 1}
	Y := permutedCopy(X, sigma, tau)
	res, err := COOT(X, Y, COOTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Value) > 1e-12 || !res.Converged {
		t.Fatalf("COOT(X, permuted X) = %g (converged %v after %d iterations)", res.Value, res.Converged, res.Iterations)
	}
	for i, j := range sigma {
		if math.Abs(res.Samples.At(i, j)-1/float64(n)) > 1e-12 {
			t.Errorf("sample plan [%d,%d] = %g, want 1/%d", i, j, res.Samples.At(i, j), n)
		}
	}
	for k, l := range tau {
		if math.Abs(res.Features.At(k, l)-1/float64(d)) > 1e-12 {
			t.Errorf("feature plan [%d,%d] = %g, want 1/%d", k, l, res.Features.At(k, l), d)
		}
	}
	nonIncreasing(t, "exact", res.History, 1e-12)
	// Entropic blocks with a small ε land near the same permutations.
	ent, err := COOT(X, Y, COOTOptions{EpsSamples: 0.05, EpsFeatures: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range sigma {
		if ent.Samples.At(i, j) < 0.99/float64(n) {
			t.Errorf("entropic sample plan [%d,%d] = %g", i, j, ent.Samples.At(i, j))
		}
	}
	nonIncreasing(t, "entropic", ent.History, 1e-9)
}

func TestCOOTMarginalsAndDescent(t *testing.T) {
	r := newTestRand(101)
	X, Y := r.matrix(10, 4), r.matrix(7, 6)
	opt := COOTOptions{SamplesX: r.weights(10), SamplesY: r.weights(7), FeaturesX: r.weights(4), FeaturesY: r.weights(6)}
	for _, eps := range []float64{0, 0.5} {
		o := opt
		o.EpsSamples, o.EpsFeatures = eps, eps
		res, err := COOT(X, Y, o)
		if err != nil {
			t.Fatal(err)
		}
		tol := 1e-12
		if eps > 0 {
			tol = 1e-8
		}
		if e := marginalViolation(res.Samples, o.SamplesX, o.SamplesY); e > tol {
			t.Errorf("ε=%g: sample plan misses its marginals by %g", eps, e)
		}
		if e := marginalViolation(res.Features, o.FeaturesX, o.FeaturesY); e > tol {
			t.Errorf("ε=%g: feature plan misses its marginals by %g", eps, e)
		}
		nonIncreasing(t, "balanced", res.History, 1e-9)
		// The value is the definition's quadruple sum.
		want := 0.0
		for i := 0; i < 10; i++ {
			for j := 0; j < 7; j++ {
				for k := 0; k < 4; k++ {
					for l := 0; l < 6; l++ {
						d := X.At(i, k) - Y.At(j, l)
						want += d * d * res.Samples.At(i, j) * res.Features.At(k, l)
					}
				}
			}
		}
		if math.Abs(res.Value-want) > 1e-12 {
			t.Errorf("ε=%g: value %.15g, quadruple sum %.15g", eps, res.Value, want)
		}
		t.Logf("ε=%g: value %.6g after %d iterations", eps, res.Value, res.Iterations)
	}
}

func TestUnbalancedCOOT(t *testing.T) {
	r := newTestRand(102)
	X, Y := r.matrix(9, 3), r.matrix(6, 5)
	wy := r.weights(6)
	for j := range wy {
		wy[j] *= 3 // a different mass
	}
	res, err := UnbalancedCOOT(X, Y, COOTOptions{SamplesY: wy, EpsSamples: 0.1, EpsFeatures: 0.1, TauSamples: 1, TauFeatures: 2, Sinkhorn: SinkhornOptions{Tol: 1e-12}})
	if err != nil {
		t.Fatal(err)
	}
	nonIncreasing(t, "unbalanced", res.History, 1e-9)
	if !res.Converged || math.IsNaN(res.Objective) {
		t.Errorf("converged %v, objective %v", res.Converged, res.Objective)
	}
	// The last block updated (features) is the unbalanced Sinkhorn solution
	// for its cost given the final sample plan.
	Xt, Yt := transpose(X), transpose(Y)
	M := cootCost(Xt, Yt, mapMatrix(Xt, square), mapMatrix(Yt, square), res.Samples)
	p, _ := SinkhornUnbalanced(Uniform(3), Uniform(5), M, 0.1, 2, SinkhornOptions{Tol: 1e-12})
	if d := maxAbsDiff(t, res.Features, rows(p.T)); d > 1e-9 {
		t.Errorf("feature plan is %g away from the block optimum", d)
	}
	for _, c := range []struct {
		opt  COOTOptions
		want string
	}{
		{COOTOptions{EpsSamples: 0.1}, "positive EpsSamples and EpsFeatures"},
		{COOTOptions{EpsSamples: 0.1, EpsFeatures: 0.1, TauSamples: -1}, "penalty of the samples plan is -1"},
	} {
		if _, err := UnbalancedCOOT(X, Y, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	if _, err := COOT(X, Y, COOTOptions{SamplesY: wy}); err == nil || !strings.Contains(err.Error(), "different masses") {
		t.Errorf("balanced COOT with unequal masses: %v", err)
	}
}
