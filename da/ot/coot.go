package ot

import (
	"fmt"
	"math"
)

// COOTOptions configures COOT and UnbalancedCOOT. The zero value solves
// balanced COOT with exact (EMD) blocks and uniform weights.
type COOTOptions struct {
	// SamplesX, SamplesY weight the rows of X and Y, FeaturesX, FeaturesY
	// their columns; nil means uniform. Balanced COOT needs equal masses on
	// each side of each plan.
	SamplesX, SamplesY, FeaturesX, FeaturesY []float64
	// EpsSamples and EpsFeatures are the entropic regularisations of the
	// sample and the feature plan: 0 solves that block exactly with EMD
	// (COOT only; UnbalancedCOOT needs both positive).
	EpsSamples, EpsFeatures float64
	// TauSamples and TauFeatures are the KL marginal penalties of
	// UnbalancedCOOT (0 means 1); COOT ignores them.
	TauSamples, TauFeatures float64
	// MaxIter bounds the alternations (0 means 100).
	MaxIter int
	// Tol stops the alternation when the objective changes by less than Tol
	// (absolutely or relatively; 0 means 1e-9).
	Tol float64
	// Sinkhorn configures the entropic block solves.
	Sinkhorn SinkhornOptions
}

// COOTResult is the outcome of COOT or UnbalancedCOOT.
type COOTResult struct {
	// Samples is the sample plan π_s (rows of X × rows of Y), Features the
	// feature plan π_v (columns of X × columns of Y).
	Samples, Features *Matrix
	// Value is the COOT loss Σ (X_ik − Y_jl)²·π_s[i,j]·π_v[k,l].
	Value float64
	// Objective is the minimised objective: Value plus, for each entropic
	// block, ε·Σ π(log π − 1), and for UnbalancedCOOT the penalties
	// τ·(KL(π1 | w) + KL(πᵀ1 | w')) of both plans.
	Objective float64
	// History is the objective after every block update (two per
	// iteration, samples first); it never increases beyond the inner
	// solvers' tolerance.
	History []float64
	// Iterations is the number of alternations (each updates both plans).
	Iterations int
	// Converged is false when MaxIter stopped the alternation.
	Converged bool
}

// COOT computes co-optimal transport (Redko et al., 2020) between the
// sample matrices X (n×d) and Y (n'×d'), which need not share features:
// it minimises Σ (X_ik − Y_jl)²·π_s[i,j]·π_v[k,l] jointly over a sample
// plan π_s and a feature plan π_v by block-coordinate descent, each block
// an optimal transport problem (exact or entropic, per opt) with the cost
// L(X, Y) ⊗ π_v for π_s and L(Xᵀ, Yᵀ) ⊗ π_s for π_v. It starts from the
// product plans; the problem is non-convex, the result a local minimum.
func COOT(X, Y *Matrix, opt COOTOptions) (*COOTResult, error) {
	return solveCOOT(X, Y, opt, false)
}

// UnbalancedCOOT is COOT with the marginal constraints of both plans
// replaced by Kullback-Leibler penalties (in the spirit of Tran et al.,
// 2023): the blocks alternate unbalanced Sinkhorn solves, so both
// regularisations must be positive; the masses of the weights need not
// match.
func UnbalancedCOOT(X, Y *Matrix, opt COOTOptions) (*COOTResult, error) {
	if !(opt.EpsSamples > 0) || !(opt.EpsFeatures > 0) {
		return nil, fmt.Errorf("ot: unbalanced COOT needs positive EpsSamples and EpsFeatures, got %g and %g", opt.EpsSamples, opt.EpsFeatures)
	}
	if opt.TauSamples == 0 {
		opt.TauSamples = 1
	}
	if opt.TauFeatures == 0 {
		opt.TauFeatures = 1
	}
	return solveCOOT(X, Y, opt, true)
}

// cootBlock is one of the two transport problems of COOT.
type cootBlock struct {
	name     string
	w, w2    []float64 // marginals
	eps, tau float64
	plan     *Matrix
}

// solveCOOT runs the block-coordinate descent.
func solveCOOT(X, Y *Matrix, opt COOTOptions, unbalanced bool) (*COOTResult, error) {
	if X == nil || Y == nil {
		return nil, fmt.Errorf("ot: COOT: nil sample matrix")
	}
	if err := checkCost("X", X, X.Rows, X.Cols); err != nil {
		return nil, err
	}
	if err := checkCost("Y", Y, Y.Rows, Y.Cols); err != nil {
		return nil, err
	}
	weights := func(name string, w []float64, n int) ([]float64, error) {
		w = orUniform(w, n)
		return w, checkMarginal(name, w, n)
	}
	var err error
	s := &cootBlock{name: "samples", eps: opt.EpsSamples, tau: opt.TauSamples}
	v := &cootBlock{name: "features", eps: opt.EpsFeatures, tau: opt.TauFeatures}
	if s.w, err = weights("SamplesX", opt.SamplesX, X.Rows); err != nil {
		return nil, err
	}
	if s.w2, err = weights("SamplesY", opt.SamplesY, Y.Rows); err != nil {
		return nil, err
	}
	if v.w, err = weights("FeaturesX", opt.FeaturesX, X.Cols); err != nil {
		return nil, err
	}
	if v.w2, err = weights("FeaturesY", opt.FeaturesY, Y.Cols); err != nil {
		return nil, err
	}
	for _, b := range []*cootBlock{s, v} {
		if b.eps < 0 || math.IsNaN(b.eps) || math.IsInf(b.eps, 0) {
			return nil, fmt.Errorf("ot: COOT: regularisation of the %s plan is %v; it must be ≥ 0 and finite", b.name, b.eps)
		}
		if unbalanced && (!(b.tau > 0) || math.IsInf(b.tau, 0)) {
			return nil, fmt.Errorf("ot: unbalanced COOT: marginal penalty of the %s plan is %v; it must be positive and finite", b.name, b.tau)
		}
		if !unbalanced {
			if err := checkBalanced(b.w, b.w2); err != nil {
				return nil, fmt.Errorf("%v (%s plan)", err, b.name)
			}
		}
		b.plan = outer(b.w, b.w2)
	}
	if opt.MaxIter <= 0 {
		opt.MaxIter = 100
	}
	if opt.Tol <= 0 {
		opt.Tol = 1e-9
	}
	X2, Y2 := mapMatrix(X, square), mapMatrix(Y, square)
	Xt, Yt, X2t, Y2t := transpose(X), transpose(Y), transpose(X2), transpose(Y2)
	objective := func() float64 {
		f := cootCost(X, Y, X2, Y2, v.plan).Dot(s.plan)
		for _, b := range []*cootBlock{s, v} {
			f += b.eps * entropy(b.plan)
			if unbalanced {
				f += b.tau * (kl(b.plan.RowSums(), b.w) + kl(b.plan.ColSums(), b.w2))
			}
		}
		return f
	}
	res := &COOTResult{}
	f := objective()
	for res.Iterations < opt.MaxIter {
		res.Iterations++
		old := f
		for _, b := range []*cootBlock{s, v} {
			var M *Matrix
			if b == s {
				M = cootCost(X, Y, X2, Y2, v.plan)
			} else {
				M = cootCost(Xt, Yt, X2t, Y2t, s.plan)
			}
			P, err := solveBlock(b, M, unbalanced, opt.Sinkhorn)
			if err != nil {
				return nil, err
			}
			b.plan = P
			f = objective()
			res.History = append(res.History, f)
		}
		if d := math.Abs(f - old); d < opt.Tol || d < opt.Tol*math.Abs(f) {
			res.Converged = true
			break
		}
	}
	res.Samples, res.Features = s.plan, v.plan
	res.Value = cootCost(X, Y, X2, Y2, v.plan).Dot(s.plan)
	res.Objective = f
	return res, nil
}

// solveBlock solves one block's transport problem with cost M.
func solveBlock(b *cootBlock, M *Matrix, unbalanced bool, opt SinkhornOptions) (*Matrix, error) {
	var p *Plan
	var err error
	switch {
	case unbalanced:
		p, err = SinkhornUnbalanced(b.w, b.w2, M, b.eps, b.tau, opt)
	case b.eps > 0:
		p, err = Sinkhorn(b.w, b.w2, M, b.eps, opt)
	default:
		p, err = EMD(b.w, b.w2, M, EMDOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("ot: COOT, %s plan: %w", b.name, err)
	}
	return p.T, nil
}

// cootCost returns the cost of the sample plan given the feature plan P
// (d×d'): C_ij = Σ_kl (X_ik − Y_jl)²·P_kl
// = Σ_k X_ik²·(P1)_k + Σ_l Y_jl²·(Pᵀ1)_l − 2·(X·P·Yᵀ)_ij.
// With the transposes it is the feature plan's cost given the sample plan.
func cootCost(X, Y, X2, Y2, P *Matrix) *Matrix {
	rs, cs := P.RowSums(), P.ColSums()
	cross := matMulT(matMul(X, P), Y)
	yj := make([]float64, Y.Rows)
	for j := range yj {
		yj[j] = dot(Y2.Row(j), cs)
	}
	for i := 0; i < X.Rows; i++ {
		xi := dot(X2.Row(i), rs)
		row := cross.Row(i)
		for j := range row {
			row[j] = xi + yj[j] - 2*row[j]
		}
	}
	return cross
}

// square returns x².
func square(x float64) float64 { return x * x }

// entropy returns Σ π (log π − 1) over the positive entries.
func entropy(P *Matrix) float64 {
	s := 0.0
	for _, t := range P.Data {
		if t > 0 {
			s += t * (math.Log(t) - 1)
		}
	}
	return s
}

// outer returns the product plan w·w'ᵀ.
func outer(w, w2 []float64) *Matrix {
	P := Zeros(len(w), len(w2))
	for i, x := range w {
		row := P.Row(i)
		for j, y := range w2 {
			row[j] = x * y
		}
	}
	return P
}
