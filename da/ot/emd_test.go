package ot

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// emdCase is a seeded random EMD problem.
type emdCase struct {
	name    string
	a, b    []float64
	M       *Matrix
	uniform bool
}

// emdCases returns square and rectangular problems with uniform and
// random weights under three ground costs.
func emdCases() []emdCase {
	r := newTestRand(11)
	var cs []emdCase
	for _, c := range []struct {
		n, m, d int
		metric  Metric
		uniform bool
	}{
		{8, 8, 2, SqEuclidean, true},
		{30, 30, 2, SqEuclidean, true},
		{20, 35, 3, SqEuclidean, false},
		{40, 17, 2, Euclidean, false},
		{25, 25, 4, Cityblock, false},
		{60, 45, 2, SqEuclidean, false},
		{1, 5, 2, SqEuclidean, false},
		{12, 18, 2, "shifted", false},
	} {
		xs, xt := r.matrix(c.n, c.d), r.matrix(c.m, c.d)
		metric := c.metric
		if metric == "shifted" { // squared Euclidean minus 3: costs of both signs
			metric = SqEuclidean
		}
		M, _ := Dist(xs, xt, metric)
		if c.metric == "shifted" {
			for k := range M.Data {
				M.Data[k] -= 3
			}
		}
		ec := emdCase{name: string(c.metric), M: M, uniform: c.uniform}
		if c.uniform {
			ec.a, ec.b = Uniform(c.n), Uniform(c.m)
		} else {
			ec.a, ec.b = r.weights(c.n), r.weights(c.m)
		}
		cs = append(cs, ec)
	}
	return cs
}

// checkPlan checks that p's plan has marginals a, b and cost ⟨T, M⟩, and
// that its duals certify optimality.
func checkPlan(t *testing.T, name string, p *Plan, a, b []float64, M *Matrix) {
	t.Helper()
	if p.MarginalError > 1e-12 || marginalError(p.T, a, b) > 1e-12 {
		t.Errorf("%s: marginal error %g", name, p.MarginalError)
	}
	for _, v := range p.T.Data {
		if v < 0 {
			t.Fatalf("%s: negative plan entry %g", name, v)
		}
	}
	if d := math.Abs(p.T.Dot(M) - p.Cost); d > 1e-12 {
		t.Errorf("%s: Cost %g but ⟨T, M⟩ = %g", name, p.Cost, p.T.Dot(M))
	}
	dual := 0.0
	for i := range a {
		dual += a[i] * p.U[i]
		for j := range b {
			if s := p.U[i] + p.V[j] - M.At(i, j); s > 1e-9 {
				t.Fatalf("%s: dual infeasible at (%d,%d) by %g", name, i, j, s)
			}
		}
	}
	for j := range b {
		dual += b[j] * p.V[j]
	}
	if math.Abs(dual-p.Cost) > 1e-9 {
		t.Errorf("%s: dual value %g, primal %g", name, dual, p.Cost)
	}
	if !p.Converged {
		t.Errorf("%s: not converged after %d pivots", name, p.Iterations)
	}
}

// emdCalls are the POT calls of TestEMDMatchesPOT.
func emdCalls() []potCall {
	var calls []potCall
	for _, c := range emdCases() {
		calls = append(calls, potCall{"emd", map[string]any{"a": c.a, "b": c.b, "M": rows(c.M)}})
	}
	return calls
}

func TestEMDMatchesPOT(t *testing.T) {
	cs := emdCases()
	type potEMD struct {
		T    [][]float64
		Cost float64
		U, V []float64
	}
	want := make([]potEMD, len(cs))
	exactPOT(t, "emd", pointers(want)...)
	duals := 0
	for k, c := range cs {
		var a, b []float64
		if !c.uniform {
			a, b = c.a, c.b
		}
		p, err := EMD(a, b, c.M, EMDOptions{})
		if err != nil {
			t.Fatal(err)
		}
		name := c.name
		checkPlan(t, name, p, c.a, c.b, c.M)
		if d := math.Abs(p.Cost - want[k].Cost); d > 1e-9 {
			t.Errorf("%s %d×%d: cost %.15g, POT %.15g", name, c.M.Rows, c.M.Cols, p.Cost, want[k].Cost)
		}
		// Plans between generic points under a strictly convex or
		// Euclidean cost are unique; cityblock plans are not.
		if c.name != string(Cityblock) {
			if d := maxAbsDiff(t, p.T, want[k].T); d > 1e-12 {
				t.Errorf("%s %d×%d: max |T − T_POT| = %g", name, c.M.Rows, c.M.Cols, d)
			}
		}
		// A non-degenerate basis (n+m−1 positive flows) has unique duals
		// up to a constant, which both centre the same way.
		positive := 0
		for _, v := range p.T.Data {
			if v > 0 {
				positive++
			}
		}
		if positive == c.M.Rows+c.M.Cols-1 {
			du, dv := 0.0, 0.0
			for i, u := range p.U {
				du = math.Max(du, math.Abs(u-want[k].U[i]))
			}
			for j, v := range p.V {
				dv = math.Max(dv, math.Abs(v-want[k].V[j]))
			}
			if du > 1e-9 || dv > 1e-9 {
				t.Errorf("%s %d×%d: duals differ from POT's by %g (U), %g (V)", name, c.M.Rows, c.M.Cols, du, dv)
			}
			duals++
		}
		t.Logf("%s %d×%d: cost %.12g (POT %.12g), %d pivots", name, c.M.Rows, c.M.Cols, p.Cost, want[k].Cost, p.Iterations)
	}
	if duals < 3 {
		t.Errorf("only %d non-degenerate problems compared their duals", duals)
	}
}

func BenchmarkEMD(b *testing.B) {
	for _, n := range []int{500, 1000, 2000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := newTestRand(3)
			M, _ := Dist(r.matrix(n, 2), r.matrix(n, 2), SqEuclidean)
			for b.Loop() {
				p, err := EMD(nil, nil, M, EMDOptions{})
				if err != nil || !p.Converged {
					b.Fatal(err)
				}
				b.ReportMetric(float64(p.Iterations), "pivots")
			}
		})
	}
}

func TestEMDByHand(t *testing.T) {
	// Two sources, two targets: moving straight across costs 1 each way,
	// crossing costs 4, so T = diag(a) and the cost is 0.5·1 + 0.5·1.
	M, _ := FromRows([][]float64{{1, 4}, {4, 1}})
	p, err := EMD(nil, nil, M, EMDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cost != 1 || p.T.At(0, 0) != 0.5 || p.T.At(1, 1) != 0.5 || p.T.At(0, 1) != 0 {
		t.Errorf("2×2: cost %g, plan %v", p.Cost, p.T)
	}
	// Unequal weights: a = (0.7, 0.3), b = (0.4, 0.6): 0.4 stays on the
	// cheap diagonal at (0,0), 0.3 crosses at cost 4, 0.3 stays at (1,1).
	p, err = EMD([]float64{0.7, 0.3}, []float64{0.4, 0.6}, M, EMDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.4*1 + 0.3*4 + 0.3*1; math.Abs(p.Cost-want) > 1e-15 || math.Abs(p.T.At(0, 1)-0.3) > 1e-15 {
		t.Errorf("2×2 unequal: cost %g (want %g), plan %v", p.Cost, want, p.T)
	}
	checkPlan(t, "2×2 unequal", p, []float64{0.7, 0.3}, []float64{0.4, 0.6}, M)

	// The same point set, shuffled, is matched by the permutation at cost 0.
	r := newTestRand(5)
	xs := r.matrix(12, 2)
	perm := r.r.Perm(12)
	xt := Zeros(12, 2)
	for i, k := range perm {
		copy(xt.Row(k), xs.Row(i))
	}
	D, _ := Dist(xs, xt, Euclidean)
	p, err = EMD(nil, nil, D, EMDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cost != 0 {
		t.Errorf("permutation: cost %g", p.Cost)
	}
	for i, k := range perm {
		if math.Abs(p.T.At(i, k)-1.0/12) > 1e-15 {
			t.Errorf("permutation: T[%d,%d] = %g, want 1/12", i, k, p.T.At(i, k))
		}
	}
	if got, _ := EMD2(nil, nil, D); got != 0 {
		t.Errorf("EMD2 = %g", got)
	}
}

func TestEMDScaleInvariant(t *testing.T) {
	r := newTestRand(4)
	M, _ := Dist(r.matrix(40, 2), r.matrix(30, 2), SqEuclidean)
	a, b := r.weights(40), r.weights(30)
	base, _ := EMD(a, b, M, EMDOptions{})
	for _, s := range []float64{1e-9, 1e9} {
		p, err := EMD(a, b, M.Scale(s), EMDOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.Cost/s-base.Cost) > 1e-12*base.Cost {
			t.Errorf("scale %g: cost/scale %.15g, unscaled %.15g", s, p.Cost/s, base.Cost)
		}
		if d := maxAbsDiff(t, p.T, rows(base.T)); d > 1e-15 {
			t.Errorf("scale %g: plans differ by %g", s, d)
		}
	}
}

func TestEMDIterationLimit(t *testing.T) {
	r := newTestRand(8)
	M, _ := Dist(r.matrix(30, 2), r.matrix(30, 2), SqEuclidean)
	p, err := EMD(nil, nil, M, EMDOptions{MaxIter: 5})
	if err != nil {
		t.Fatal(err)
	}
	if p.Converged || p.Iterations != 5 || !strings.Contains(p.Method, "pivot limit 5 reached") {
		t.Errorf("limited: converged %v after %d pivots, method %q", p.Converged, p.Iterations, p.Method)
	}
	full, _ := EMD(nil, nil, M, EMDOptions{})
	if !full.Converged || full.Iterations <= 5 {
		t.Errorf("full: converged %v after %d pivots", full.Converged, full.Iterations)
	}
}

func TestEMDNormalize(t *testing.T) {
	M, _ := FromRows([][]float64{{1, 4}, {4, 1}})
	if _, err := EMD([]float64{2, 2}, []float64{1, 1}, M, EMDOptions{}); err == nil || !strings.Contains(err.Error(), "a sums to 4 and b to 2") {
		t.Errorf("unbalanced masses: %v", err)
	}
	p, err := EMD([]float64{2, 2}, []float64{1, 1}, M, EMDOptions{Normalize: true})
	if err != nil || p.Cost != 1 {
		t.Errorf("normalized: %v, %v", p, err)
	}
}

func TestEMDBadInput(t *testing.T) {
	M, _ := FromRows([][]float64{{0, 1}, {1, 0}})
	nan, _ := FromRows([][]float64{{0, 1}, {math.NaN(), 0}})
	for _, c := range []struct {
		name string
		a, b []float64
		M    *Matrix
		want string
	}{
		{"negative weight", []float64{1.5, -0.5}, nil, M, "a[1] = -0.5 is negative"},
		{"NaN weight", nil, []float64{math.NaN(), 1}, M, "b[0] is NaN"},
		{"NaN cost", nil, nil, nan, "M[1,0] is NaN"},
		{"masses", []float64{0.5, 0.5}, []float64{1, 1}, M, "a sums to 1 and b to 2"},
		{"length", []float64{0.2, 0.3, 0.5}, nil, M, "a has 3 weights, the cost matrix has 2"},
		{"nil cost", nil, nil, nil, "M is nil"},
		{"empty cost", nil, nil, Zeros(0, 3), "M is 0×3"},
	} {
		_, err := EMD(c.a, c.b, c.M, EMDOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

// degenerateProblem is a transport problem full of ties.
type degenerateProblem struct {
	a, b []float64
	M    *Matrix
}

// degenerateProblems returns small problems with integer costs, weights
// that are multiples of 1/10 (some zero), and an integer grid under the
// cityblock cost.
func degenerateProblems() []degenerateProblem {
	r := newTestRand(17)
	type prob = degenerateProblem
	tenths := func(n int) []float64 {
		// n non-negative multiples of 0.1 summing to 1 (some zero).
		w := make([]float64, n)
		for k := 0; k < 10; k++ {
			w[r.r.IntN(n)] += 0.1
		}
		return w
	}
	var ps []prob
	for k := 0; k < 40; k++ {
		n, m := 1+r.r.IntN(8), 1+r.r.IntN(8)
		M := Zeros(n, m)
		for i := range M.Data {
			M.Data[i] = float64(r.r.IntN(4))
		}
		ps = append(ps, prob{tenths(n), tenths(m), M})
	}
	// Points of an integer grid under the cityblock cost, uniform weights.
	g := Zeros(36, 2)
	for i := 0; i < 36; i++ {
		g.Set(i, 0, float64(i%6))
		g.Set(i, 1, float64(i/6))
	}
	h := g.Clone()
	for i := range h.Data {
		h.Data[i] = 5 - h.Data[i]/2
	}
	G, _ := Dist(g, h, Cityblock)
	return append(ps, prob{Uniform(36), Uniform(36), G})
}

// degenerateCalls are the POT calls of TestEMDDegenerateMatchesPOT.
func degenerateCalls() []potCall {
	var calls []potCall
	for _, p := range degenerateProblems() {
		calls = append(calls, potCall{"emd2", map[string]any{"a": p.a, "b": p.b, "M": rows(p.M)}})
	}
	return calls
}

// TestEMDDegenerateMatchesPOT runs many small problems full of ties, where
// the simplex makes degenerate pivots, against ot.emd2.
func TestEMDDegenerateMatchesPOT(t *testing.T) {
	ps := degenerateProblems()
	want := make([]float64, len(ps))
	exactPOT(t, "degenerate", pointers(want)...)
	for k, pr := range ps {
		p, err := EMD(pr.a, pr.b, pr.M, EMDOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.Cost-want[k]) > 1e-12 {
			t.Errorf("problem %d (%d×%d): cost %.15g, POT %.15g", k, pr.M.Rows, pr.M.Cols, p.Cost, want[k])
		}
		checkPlan(t, "degenerate", p, pr.a, pr.b, pr.M)
	}
}
