package ot

import (
	"fmt"
	"math"
)

// SinkhornUnbalanced solves entropic transport with the hard marginal
// constraints replaced by Kullback-Leibler penalties of weight tau (POT
// 0.8.2's ot.unbalanced.sinkhorn_unbalanced, method "sinkhorn"):
// min ⟨T, M⟩ + ε·Σ T_ij (log T_ij − 1) + τ·KL(T1 | a) + τ·KL(Tᵀ1 | b),
// iterating u = (a/Kv)^(τ/(τ+ε)), v = (b/Kᵀu)^(τ/(τ+ε)) with the same
// stabilisation as Sinkhorn (opt.Method SinkhornLog: in the log domain).
// a and b may carry different masses. Plan.Cost is ⟨T, M⟩ (POT's
// sinkhorn_unbalanced2), Plan.Objective the penalised objective,
// Plan.MarginalError how far T's marginals are from a and b (penalised,
// not enforced);
// opt.Tol defaults to POT's 1e-6 on the relative change of the scalings.
func SinkhornUnbalanced(a, b []float64, M *Matrix, eps, tau float64, opt SinkhornOptions) (*Plan, error) {
	a, b, err := checkEntropic(a, b, M, eps)
	if err != nil {
		return nil, err
	}
	if !(tau > 0) || math.IsInf(tau, 0) {
		return nil, fmt.Errorf("ot: marginal penalty tau = %v; it must be positive and finite (use Sinkhorn for hard marginals)", tau)
	}
	return solveEntropic(a, b, M, eps, tau, opt)
}
