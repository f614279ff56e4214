package ot

import (
	"math"
	"strings"
	"testing"
)

// potSinkhorn is what pot_entropic.py's sinkhorn returns.
type potSinkhorn struct {
	T     [][]float64 `json:"T"`
	Value float64     `json:"value"`
	F     []float64   `json:"f"`
	G     []float64   `json:"g"`
}

// sinkhornCase is one seeded entropic problem.
type sinkhornCase struct {
	name   string
	a, b   []float64
	M      *Matrix
	eps    float64
	method SinkhornMethod
	pot    string // POT's method
	iters  int    // POT's numItermax (0: 1000)
}

// pointCost returns weights and the squared Euclidean cost between n and m
// seeded 2-D points, normalised to max 1 when norm.
func pointCost(seed uint64, n, m int, norm bool) (a, b []float64, M *Matrix) {
	r := newTestRand(seed)
	M, _ = Dist(r.matrix(n, 2), r.matrix(m, 2), SqEuclidean)
	if norm {
		M = M.Scale(1 / M.Max())
	}
	return r.weights(n), r.weights(m), M
}

// sinkhornCases are the problems TestSinkhornMatchesPOT sends to POT.
func sinkhornCases() []sinkhornCase {
	var cases []sinkhornCase
	for k, eps := range []float64{0.5, 0.1, 0.03} {
		a, b, M := pointCost(uint64(10+k), 7, 5, true)
		cases = append(cases, sinkhornCase{name: "rect", a: a, b: b, M: M, eps: eps, pot: "sinkhorn"})
	}
	a, b, M := pointCost(20, 30, 40, true)
	cases = append(cases,
		sinkhornCase{name: "normalised", a: a, b: b, M: M, eps: 0.02, pot: "sinkhorn"},
		sinkhornCase{name: "log", a: a, b: b, M: M, eps: 0.02, method: SinkhornLog, pot: "sinkhorn_log"})
	a, b, M = pointCost(21, 12, 9, true)
	cases = append(cases,
		sinkhornCase{name: "small ε auto", a: a, b: b, M: M, eps: 0.004, pot: "sinkhorn_log", iters: 20000},
		sinkhornCase{name: "small ε log", a: a, b: b, M: M, eps: 0.004, method: SinkhornLog, pot: "sinkhorn_log", iters: 20000})
	return cases
}

// sinkhornCalls are the POT calls of sinkhornCases.
func sinkhornCalls() []potCall {
	var calls []potCall
	for _, c := range sinkhornCases() {
		it := c.iters
		if it == 0 {
			it = 1000
		}
		calls = append(calls, potCall{"sinkhorn", map[string]any{"a": c.a, "b": c.b, "M": rows(c.M), "reg": c.eps, "method": c.pot, "numItermax": it}})
	}
	return calls
}

func TestSinkhornMatchesPOT(t *testing.T) {
	cases := sinkhornCases()
	want := make([]potSinkhorn, len(cases))
	entropicPOT(t, "sinkhorn", pointers(want)...)
	for k, c := range cases {
		p, err := Sinkhorn(c.a, c.b, c.M, c.eps, SinkhornOptions{Method: c.method, MaxIter: max(c.iters, 1000)})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Converged {
			t.Errorf("%s ε=%g: not converged after %d iterations", c.name, c.eps, p.Iterations)
		}
		if d := maxAbsDiff(t, p.T, want[k].T); d > 1e-7 {
			t.Errorf("%s ε=%g: max |T − POT| = %g", c.name, c.eps, d)
		}
		if d := math.Abs(p.Cost - want[k].Value); d > 1e-7 {
			t.Errorf("%s ε=%g: cost %.12g, POT sinkhorn2 %.12g", c.name, c.eps, p.Cost, want[k].Value)
		}
		// Potentials are defined up to f + c, g − c.
		df, dg := p.U[0]-want[k].F[0], 0.0
		for i := range p.U {
			dg = math.Max(dg, math.Abs(p.U[i]-want[k].F[i]-df))
		}
		for j := range p.V {
			dg = math.Max(dg, math.Abs(p.V[j]-want[k].G[j]+df))
		}
		if dg > 1e-7 {
			t.Errorf("%s ε=%g: potentials differ from POT's by %g", c.name, c.eps, dg)
		}
		t.Logf("%s ε=%g: %d iterations (%s), marginal error %.2g", c.name, c.eps, p.Iterations, p.Method, p.MarginalError)
	}
}

// finitePlan fails the test unless every entry of p's plan and potentials
// is finite and non-negative (potentials: finite).
func finitePlan(t *testing.T, name string, p *Plan) {
	t.Helper()
	for _, v := range p.T.Data {
		if !(v >= 0) || math.IsInf(v, 0) {
			t.Fatalf("%s: plan entry %v", name, v)
		}
	}
	for _, v := range append(append([]float64(nil), p.U...), p.V...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s: potential %v", name, v)
		}
	}
	if math.IsNaN(p.Cost) || math.IsNaN(p.Objective) {
		t.Fatalf("%s: cost %v, objective %v", name, p.Cost, p.Objective)
	}
}

func TestSinkhornSmallEpsilonIsStable(t *testing.T) {
	// ε = 1e-3 on a cost normalised to max 1: POT's default iteration
	// underflows here; graft must converge to a plan with the marginals.
	a, b, M := pointCost(30, 60, 50, true)
	p, err := Sinkhorn(a, b, M, 1e-3, SinkhornOptions{MaxIter: 20000})
	if err != nil {
		t.Fatal(err)
	}
	finitePlan(t, "ε=1e-3", p)
	if !p.Converged || p.MarginalError > 1e-8 {
		t.Errorf("ε=1e-3: converged %v after %d iterations, marginal error %g", p.Converged, p.Iterations, p.MarginalError)
	}
	// ε = 1e-4 on the unnormalised cost (M/ε up to ~1e5): a finite plan
	// whatever happens, and Converged telling the truth.
	a, b, M = pointCost(31, 40, 30, false)
	for _, maxIter := range []int{50, 20000} {
		p, err = Sinkhorn(a, b, M, 1e-4, SinkhornOptions{MaxIter: maxIter})
		if err != nil {
			t.Fatal(err)
		}
		finitePlan(t, "ε=1e-4", p)
		colErr := 0.0
		for j, c := range p.T.ColSums() {
			colErr += (c - b[j]) * (c - b[j])
		}
		colErr = math.Sqrt(colErr)
		if p.Converged != (colErr < 1e-8) {
			t.Errorf("ε=1e-4, MaxIter %d: Converged = %v with column-marginal error %g after %d iterations", maxIter, p.Converged, colErr, p.Iterations)
		}
		t.Logf("ε=1e-4, MaxIter %d: converged %v, %d iterations, marginal error %g (%s)", maxIter, p.Converged, p.Iterations, p.MarginalError, p.Method)
	}
}

func TestSinkhornZeroWeights(t *testing.T) {
	a, b, M := pointCost(40, 6, 5, true)
	a[2], b[4] = 0, 0
	sa, sb := sum(a), sum(b)
	for i := range a {
		a[i] /= sa
	}
	for j := range b {
		b[j] /= sb
	}
	p, err := Sinkhorn(a, b, M, 0.05, SinkhornOptions{})
	if err != nil {
		t.Fatal(err)
	}
	finitePlan(t, "zero weights", p)
	for j := 0; j < 5; j++ {
		if p.T.At(2, j) != 0 {
			t.Errorf("row of the zero weight: T[2,%d] = %g", j, p.T.At(2, j))
		}
	}
	if p.MarginalError > 1e-9 {
		t.Errorf("marginal error %g", p.MarginalError)
	}
	// The objective is ⟨T, M⟩ + ε Σ T (log T − 1).
	want := p.T.Dot(M)
	for _, v := range p.T.Data {
		if v > 0 {
			want += 0.05 * v * (math.Log(v) - 1)
		}
	}
	if math.Abs(p.Objective-want) > 1e-12 || math.Abs(p.Cost-p.T.Dot(M)) > 1e-15 {
		t.Errorf("objective %.15g, by definition %.15g", p.Objective, want)
	}
	// The potentials reproduce the plan: T = a b exp((f + g − M)/ε).
	for i := 0; i < 6; i++ {
		for j := 0; j < 5; j++ {
			want := a[i] * b[j] * math.Exp((p.U[i]+p.V[j]-M.At(i, j))/0.05)
			if math.Abs(want-p.T.At(i, j)) > 1e-12 {
				t.Fatalf("T[%d,%d] = %g, from the potentials %g", i, j, p.T.At(i, j), want)
			}
		}
	}
}

func TestSinkhornBadInput(t *testing.T) {
	a, b, M := pointCost(50, 3, 4, true)
	nan := M.Clone()
	nan.Set(1, 2, math.NaN())
	for _, c := range []struct {
		name string
		a, b []float64
		M    *Matrix
		eps  float64
		want string
	}{
		{"eps 0", a, b, M, 0, "eps = 0"},
		{"eps negative", a, b, M, -1, "eps = -1"},
		{"eps NaN", a, b, M, math.NaN(), "eps = NaN"},
		{"NaN cost", a, b, nan, 0.1, "M[1,2] is NaN"},
		{"negative weight", []float64{0.5, 0.7, -0.2}, b, M, 0.1, "a[2] = -0.2"},
		{"unequal masses", []float64{1, 1, 1}, b, M, 0.1, "different masses"},
		{"wrong length", a, b[:3], M, 0.1, "b has 3 weights"},
		{"nil cost", a, b, nil, 0.1, "M is nil"},
	} {
		_, err := Sinkhorn(c.a, c.b, c.M, c.eps, SinkhornOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestSinkhornVariantsAgree(t *testing.T) {
	// Plain POT iterations, over-relaxation, ε-scaling, one or three
	// workers and the log domain reach the same plan.
	a, b, M := pointCost(60, 41, 37, true)
	ref, err := Sinkhorn(a, b, M, 0.01, SinkhornOptions{Plain: true, MaxIter: 5000})
	if err != nil || !ref.Converged {
		t.Fatalf("plain: %v, converged %v", err, ref.Converged)
	}
	for _, opt := range []SinkhornOptions{
		{},
		{EpsStart: 1},
		{EpsStart: -1, Workers: 1},
		{Workers: 3},
		{Method: SinkhornLog, MaxIter: 5000},
	} {
		p, err := Sinkhorn(a, b, M, 0.01, opt)
		if err != nil || !p.Converged {
			t.Fatalf("%+v: %v, converged %v", opt, err, p.Converged)
		}
		if d := maxAbsDiff(t, p.T, rows(ref.T)); d > 1e-9 {
			t.Errorf("%+v: plan %g away from the plain iteration's", opt, d)
		}
		if math.Abs(p.Objective-ref.Objective) > 1e-9 {
			t.Errorf("%+v: objective %.12g, plain %.12g", opt, p.Objective, ref.Objective)
		}
		t.Logf("%+v: %d iterations (plain %d)", opt, p.Iterations, ref.Iterations)
	}
}
