package ot

import "fmt"

// SinkhornDivergence returns the debiased Sinkhorn divergence between the
// samples xs (n×d, weights a) and xt (m×d, weights b; nil weights are
// uniform) under the ground cost metric ("" is SqEuclidean):
// S = OT_ε(a, b) − ½·OT_ε(a, a) − ½·OT_ε(b, b), where OT_ε is the cost ⟨T, M⟩
// of the entropic plan, clipped at 0 as POT's
// ot.bregman.empirical_sinkhorn_divergence does. opt.MaxIter defaults to
// 10000 here (POT's numIterMax for this function).
func SinkhornDivergence(xs, xt *Matrix, a, b []float64, eps float64, metric Metric, opt SinkhornOptions) (float64, error) {
	if xs == nil || xt == nil {
		return 0, fmt.Errorf("ot: sinkhorn divergence: nil sample matrix")
	}
	a, b = orUniform(a, xs.Rows), orUniform(b, xt.Rows)
	if opt.MaxIter <= 0 {
		opt.MaxIter = 10000
	}
	cost := func(x, y *Matrix, wx, wy []float64) (float64, error) {
		M, err := Dist(x, y, metric)
		if err != nil {
			return 0, err
		}
		p, err := Sinkhorn(wx, wy, M, eps, opt)
		if err != nil {
			return 0, err
		}
		return p.Cost, nil
	}
	ab, err := cost(xs, xt, a, b)
	if err != nil {
		return 0, err
	}
	aa, err := cost(xs, xs, a, a)
	if err != nil {
		return 0, err
	}
	bb, err := cost(xt, xt, b, b)
	if err != nil {
		return 0, err
	}
	return max(0, ab-0.5*(aa+bb)), nil
}
