package ot

import (
	"fmt"
	"math"
	"sort"
)

// EMD1D solves exact optimal transport between two distributions on the
// line, the source at positions xs with weights a and the target at xt with
// weights b (nil or empty: uniform), for the ground cost |x − y|^p, p ≥ 1.
// The optimal plan is the monotone (quantile) coupling; Cost is
// Σ T_ij |xs_i − xt_j|^p = W_p^p, POT's wasserstein_1d(xs, xt, a, b, p) and
// emd2_1d(…, metric="minkowski", p=p). The plan is a dense
// len(xs)×len(xt) matrix; Wasserstein1D gives the value without it.
func EMD1D(xs, xt, a, b []float64, p float64) (*Plan, error) {
	a, b, err := line1D(xs, xt, a, b, p)
	if err != nil {
		return nil, err
	}
	T := Zeros(len(xs), len(xt))
	cost := quantileCoupling(xs, xt, a, b, p, func(i, j int, w float64) { T.Data[i*T.Cols+j] += w })
	return &Plan{T: T, Cost: cost, Method: fmt.Sprintf("emd 1-D (monotone coupling, p=%g)", p),
		Iterations: 1, Converged: true, MarginalError: marginalError(T, a, b)}, nil
}

// Wasserstein1D returns W_p^p between the distributions on the line of
// EMD1D (POT's wasserstein_1d), in O((n+m) log(n+m)) time and without
// building the plan.
func Wasserstein1D(xs, xt, a, b []float64, p float64) (float64, error) {
	a, b, err := line1D(xs, xt, a, b, p)
	if err != nil {
		return 0, err
	}
	return quantileCoupling(xs, xt, a, b, p, nil), nil
}

// line1D checks the inputs of the 1-D solvers and returns the balanced
// weights (b rescaled to a's mass, as EMD does).
func line1D(xs, xt, a, b []float64, p float64) ([]float64, []float64, error) {
	if len(xs) == 0 || len(xt) == 0 {
		return nil, nil, fmt.Errorf("ot: 1-D OT needs points on both sides, got %d source and %d target positions", len(xs), len(xt))
	}
	if !(p >= 1) || math.IsInf(p, 0) {
		return nil, nil, fmt.Errorf("ot: 1-D OT: exponent p = %g; it must be a finite p ≥ 1 (the monotone coupling is optimal only for convex costs)", p)
	}
	for _, s := range []struct {
		what string
		x    []float64
	}{{"xs", xs}, {"xt", xt}} {
		for i, v := range s.x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("ot: %s[%d] is %v; positions must be finite", s.what, i, v)
			}
		}
	}
	M := &Matrix{Rows: len(xs), Cols: len(xt)} // shape only: exactMarginals checks no costs here
	return exactMarginals(a, b, M, false)
}

// quantileCoupling walks the two distributions in sorted order, matching
// mass greedily (the north-west corner rule on sorted points), calls put
// (when not nil) for every matched piece and returns the total cost.
func quantileCoupling(xs, xt, a, b []float64, p float64, put func(i, j int, w float64)) float64 {
	is, it := sortedOrder(xs), sortedOrder(xt)
	cost := 0.0
	i, j := 0, 0
	wi, wj := a[is[0]], b[it[0]]
	for {
		si, tj := is[i], it[j]
		d := math.Abs(xs[si] - xt[tj])
		c := d
		if p != 1 {
			c = math.Pow(d, p)
		}
		if wi < wj || j == len(it)-1 {
			// source point i is used up (the last target takes all that is
			// left, absorbing rounding)
			cost += c * wi
			if put != nil {
				put(si, tj, wi)
			}
			i++
			if i == len(is) {
				return cost
			}
			wj -= wi
			wi = a[is[i]]
		} else {
			cost += c * wj
			if put != nil {
				put(si, tj, wj)
			}
			j++
			wi -= wj
			wj = b[it[j]]
		}
	}
}

// sortedOrder returns the indices of x in increasing order of value (ties
// in index order).
func sortedOrder(x []float64) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(p, q int) bool { return x[idx[p]] < x[idx[q]] })
	return idx
}
