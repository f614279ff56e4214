package ot

import (
	"math"
	"strings"
	"testing"
)

// ucase is one unbalanced problem sent to POT.
type ucase struct {
	a, b     []float64
	M        *Matrix
	eps, tau float64
}

// unbalancedCases are the problems TestSinkhornUnbalancedMatchesPOT sends.
func unbalancedCases() []ucase {
	var cases []ucase
	for k, c := range []struct{ eps, tau float64 }{{0.1, 1}, {0.05, 0.1}, {0.1, 10}, {0.02, 1}} {
		a, b, M := pointCost(uint64(60+k), 8, 6, true)
		for j := range b {
			b[j] *= 2 // different masses
		}
		cases = append(cases, ucase{a, b, M, c.eps, c.tau})
	}
	return cases
}

// unbalancedCalls are the POT calls of unbalancedCases.
func unbalancedCalls() []potCall {
	var calls []potCall
	for _, c := range unbalancedCases() {
		calls = append(calls, potCall{"sinkhorn_unbalanced", map[string]any{"a": c.a, "b": c.b, "M": rows(c.M), "reg": c.eps, "reg_m": c.tau, "numItermax": 20000, "stopThr": 1e-12}})
	}
	return calls
}

func TestSinkhornUnbalancedMatchesPOT(t *testing.T) {
	cases := unbalancedCases()
	want := make([]potSinkhorn, len(cases))
	entropicPOT(t, "unbalanced", pointers(want)...)
	for k, c := range cases {
		for _, method := range []SinkhornMethod{SinkhornAuto, SinkhornLog} {
			p, err := SinkhornUnbalanced(c.a, c.b, c.M, c.eps, c.tau, SinkhornOptions{Method: method, Tol: 1e-13, MaxIter: 20000})
			if err != nil {
				t.Fatal(err)
			}
			finitePlan(t, "unbalanced", p)
			if d := maxAbsDiff(t, p.T, want[k].T); d > 1e-6 || !p.Converged {
				t.Errorf("ε=%g τ=%g %q: max |T − POT| = %g, converged %v", c.eps, c.tau, method, d, p.Converged)
			}
			if d := math.Abs(p.Cost - want[k].Value); d > 1e-6 {
				t.Errorf("ε=%g τ=%g %q: cost %.10g, POT sinkhorn_unbalanced2 %.10g", c.eps, c.tau, method, p.Cost, want[k].Value)
			}
			t.Logf("ε=%g τ=%g %q: %d iterations, mass %.4f", c.eps, c.tau, method, p.Iterations, p.T.Sum())
		}
	}
}

func TestSinkhornUnbalancedStationary(t *testing.T) {
	// At the optimum the objective's gradient vanishes on the plan:
	// M + ε log T + τ log(T1/a) + τ log(Tᵀ1/b) = 0 entrywise.
	a, b, M := pointCost(70, 5, 7, false)
	eps, tau := 0.5, 2.0
	p, err := SinkhornUnbalanced(a, b, M, eps, tau, SinkhornOptions{Tol: 1e-14, MaxIter: 100000})
	if err != nil {
		t.Fatal(err)
	}
	rs, cs := p.T.RowSums(), p.T.ColSums()
	worst := 0.0
	for i := 0; i < 5; i++ {
		for j := 0; j < 7; j++ {
			g := M.At(i, j) + eps*math.Log(p.T.At(i, j)) + tau*math.Log(rs[i]/a[i]) + tau*math.Log(cs[j]/b[j])
			worst = math.Max(worst, math.Abs(g))
		}
	}
	if worst > 1e-8 {
		t.Errorf("stationarity violated by %g", worst)
	}
	want := p.T.Dot(M) + eps*entropy(p.T) + tau*(kl(rs, a)+kl(cs, b))
	if math.Abs(p.Objective-want) > 1e-12 {
		t.Errorf("objective %.15g, by definition %.15g", p.Objective, want)
	}
	if _, err := SinkhornUnbalanced(a, b, M, eps, 0, SinkhornOptions{}); err == nil || !strings.Contains(err.Error(), "tau = 0") {
		t.Errorf("tau = 0: %v", err)
	}
}
