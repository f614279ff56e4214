package ot

import (
	"fmt"
	"math"
)

// PartialEMD solves exact partial optimal transport: the cheapest plan
// moving total mass `mass` with row sums ≤ a and column sums ≤ b (nil or
// empty a or b: uniform; the two need not carry the same mass, and
// opt.Normalize rescales each to 1 first). 0 ≤ mass ≤ min(Σa, Σb).
//
// It solves the balanced problem extended by one dummy source of mass
// Σb − mass and one dummy target of mass Σa − mass, reachable at cost 0
// and never from each other, by EMD's network simplex (POT's partial_wasserstein with
// nb_dummies=1, whose value it matches for costs ≥ 0; POT discourages the
// dummy-to-dummy arc by a cost 2·max M instead, which may move more than
// `mass` when costs are negative or all zero). The result's T is the n×m
// real part, Cost = ⟨T, M⟩ (partial_wasserstein2), and MarginalError the
// largest violation of T1 ≤ a, Tᵀ1 ≤ b and ΣT = mass.
func PartialEMD(a, b []float64, M *Matrix, mass float64, opt EMDOptions) (*Plan, error) {
	if M == nil {
		return nil, fmt.Errorf("ot: partial emd: cost matrix M is nil")
	}
	n, m := M.Rows, M.Cols
	if n == 0 || m == 0 {
		return nil, fmt.Errorf("ot: partial emd: cost matrix M is %d×%d; it needs at least one row and one column", n, m)
	}
	a, b = orUniform(a, n), orUniform(b, m)
	if err := checkMarginal("a", a, n); err != nil {
		return nil, err
	}
	if err := checkMarginal("b", b, m); err != nil {
		return nil, err
	}
	if err := checkCost("M", M, n, m); err != nil {
		return nil, err
	}
	sa, sb := sum(a), sum(b)
	if opt.Normalize {
		a, b = scaleWeights(a, 1/sa), scaleWeights(b, 1/sb)
		sa, sb = 1, 1
	}
	limit := math.Min(sa, sb)
	if math.IsNaN(mass) || mass < 0 || mass > limit*(1+massTolerance) {
		return nil, fmt.Errorf("ot: partial emd: mass = %g; it must lie in [0, min(Σa, Σb)] = [0, %g]", mass, limit)
	}
	mass = math.Min(mass, limit)

	// Extended problem: row n and column m are the dummies; the arc
	// between them is forbidden (+Inf never prices in).
	E := Zeros(n+1, m+1)
	for i := 0; i < n; i++ {
		copy(E.Row(i)[:m], M.Row(i))
	}
	E.Set(n, m, math.Inf(1))
	ae := append(append([]float64(nil), a...), math.Max(sb-mass, 0))
	be := append(append([]float64(nil), b...), math.Max(sa-mass, 0))
	be[m] += sum(ae) - sum(be) // balance the rounding of the two sums
	be[m] = math.Max(be[m], 0)
	s, converged, maxIter := runSimplex(ae, be, E, opt.MaxIter)
	full := s.plan()
	T := Zeros(n, m)
	for i := 0; i < n; i++ {
		copy(T.Row(i), full.Row(i)[:m])
	}
	p := &Plan{T: T, Cost: T.Dot(M), Method: fmt.Sprintf("partial emd (mass %g)", mass),
		Iterations: s.pivots, Converged: converged}
	if !converged {
		p.Method += fmt.Sprintf(", pivot limit %d reached", maxIter)
	}
	e := math.Abs(T.Sum() - mass)
	for i, r := range T.RowSums() {
		e = math.Max(e, r-a[i])
	}
	for j, c := range T.ColSums() {
		e = math.Max(e, c-b[j])
	}
	p.MarginalError = math.Max(e, 0)
	return p, nil
}

// scaleWeights returns a copy of w times s.
func scaleWeights(w []float64, s float64) []float64 {
	out := make([]float64, len(w))
	for i, v := range w {
		out[i] = v * s
	}
	return out
}
