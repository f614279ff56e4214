package ot

import (
	"fmt"
	"math"
)

// GWLoss names the loss L(C1_ik, C2_jl) that Gromov-Wasserstein sums over
// pairs of matched pairs.
type GWLoss string

// The Gromov-Wasserstein losses (POT's names).
const (
	SquareLoss GWLoss = "square_loss" // (x − y)²
	KLLoss     GWLoss = "kl_loss"     // x·log(x/y) − x + y
)

// GWOptions configures GromovWasserstein and EntropicGromovWasserstein.
// The zero value gives POT's defaults.
type GWOptions struct {
	// Loss is the loss between structure entries ("" is SquareLoss).
	Loss GWLoss
	// G0 is the initial plan (marginals p and q); nil means p·qᵀ, POT's.
	G0 *Matrix
	// MaxIter bounds the outer iterations (0 means POT's: 200 conditional-
	// gradient steps, 1000 entropic projections).
	MaxIter int
	// Tol is the stopping tolerance (0 means POT's 1e-9): conditional
	// gradient stops when the loss changes by less than Tol, absolutely or
	// relatively; the entropic solver when ‖T − T_prev‖_F < Tol (checked
	// every 10 iterations, as POT).
	Tol float64
	// Sinkhorn configures the inner Sinkhorn solves of the entropic solver.
	Sinkhorn SinkhornOptions
}

// gwTerms holds POT's decomposition of the Gromov-Wasserstein tensor
// product: L(C1, C2) ⊗ T = constC − h1(C1)·T·h2(C2)ᵀ with
// constC = f1(C1)·p·1ᵀ + 1·qᵀ·f2(C2)ᵀ (Peyré et al., 2016, Prop. 1).
type gwTerms struct {
	constC, h1, h2 *Matrix
}

// newGWTerms builds the decomposition for the loss.
func newGWTerms(C1, C2 *Matrix, p, q []float64, loss GWLoss) *gwTerms {
	var f1, f2, h1, h2 func(float64) float64
	switch loss {
	case KLLoss:
		f1 = func(x float64) float64 { return x*math.Log(x+1e-15) - x }
		f2 = func(y float64) float64 { return y }
		h1 = func(x float64) float64 { return x }
		h2 = func(y float64) float64 { return math.Log(y + 1e-15) }
	default:
		f1 = func(x float64) float64 { return x * x }
		f2 = f1
		h1 = func(x float64) float64 { return x }
		h2 = func(y float64) float64 { return 2 * y }
	}
	n, m := C1.Rows, C2.Rows
	r1, r2 := make([]float64, n), make([]float64, m)
	for i := 0; i < n; i++ {
		for k, c := range C1.Row(i) {
			r1[i] += f1(c) * p[k]
		}
	}
	for j := 0; j < m; j++ {
		for l, c := range C2.Row(j) {
			r2[j] += f2(c) * q[l]
		}
	}
	constC := Zeros(n, m)
	for i := 0; i < n; i++ {
		row := constC.Row(i)
		for j := range row {
			row[j] = r1[i] + r2[j]
		}
	}
	return &gwTerms{constC: constC, h1: mapMatrix(C1, h1), h2: mapMatrix(C2, h2)}
}

// mapMatrix returns f applied to every entry of m.
func mapMatrix(m *Matrix, f func(float64) float64) *Matrix {
	out := m.Clone()
	for i, v := range out.Data {
		out.Data[i] = f(v)
	}
	return out
}

// cross returns h1·T·h2ᵀ.
func (g *gwTerms) cross(T *Matrix) *Matrix {
	return matMulT(matMul(g.h1, T), g.h2)
}

// tensor returns L ⊗ T = constC − h1·T·h2ᵀ.
func (g *gwTerms) tensor(T *Matrix) *Matrix {
	out := g.cross(T)
	for i, v := range out.Data {
		out.Data[i] = g.constC.Data[i] - v
	}
	return out
}

// loss returns ⟨L ⊗ T, T⟩, the Gromov-Wasserstein objective of T.
func (g *gwTerms) loss(T *Matrix) float64 { return g.tensor(T).Dot(T) }

// matMul returns A·B.
func matMul(A, B *Matrix) *Matrix {
	out := Zeros(A.Rows, B.Cols)
	for i := 0; i < A.Rows; i++ {
		o := out.Row(i)
		for k, a := range A.Row(i) {
			if a != 0 {
				axpy(o, a, B.Row(k))
			}
		}
	}
	return out
}

// matMulT returns A·Bᵀ.
func matMulT(A, B *Matrix) *Matrix {
	out := Zeros(A.Rows, B.Rows)
	for i := 0; i < A.Rows; i++ {
		o, a := out.Row(i), A.Row(i)
		for j := range o {
			o[j] = dot(a, B.Row(j))
		}
	}
	return out
}

// transpose returns Aᵀ.
func transpose(A *Matrix) *Matrix {
	out := Zeros(A.Cols, A.Rows)
	for i := 0; i < A.Rows; i++ {
		for j, v := range A.Row(i) {
			out.Data[j*A.Rows+i] = v
		}
	}
	return out
}

// checkGW checks the inputs of the Gromov-Wasserstein solvers and returns
// the weights (uniform for empty p or q) and the initial plan.
func checkGW(C1, C2 *Matrix, p, q []float64, opt GWOptions) ([]float64, []float64, *Matrix, error) {
	if C1 == nil || C2 == nil {
		return nil, nil, nil, fmt.Errorf("ot: gromov-wasserstein: nil structure matrix")
	}
	if C1.Rows != C1.Cols {
		return nil, nil, nil, fmt.Errorf("ot: C1 is %d×%d; a structure matrix must be square", C1.Rows, C1.Cols)
	}
	if C2.Rows != C2.Cols {
		return nil, nil, nil, fmt.Errorf("ot: C2 is %d×%d; a structure matrix must be square", C2.Rows, C2.Cols)
	}
	if err := checkCost("C1", C1, C1.Rows, C1.Rows); err != nil {
		return nil, nil, nil, err
	}
	if err := checkCost("C2", C2, C2.Rows, C2.Rows); err != nil {
		return nil, nil, nil, err
	}
	p, q = orUniform(p, C1.Rows), orUniform(q, C2.Rows)
	if err := checkMarginal("p", p, C1.Rows); err != nil {
		return nil, nil, nil, err
	}
	if err := checkMarginal("q", q, C2.Rows); err != nil {
		return nil, nil, nil, err
	}
	if err := checkBalanced(p, q); err != nil {
		return nil, nil, nil, err
	}
	switch opt.Loss {
	case "", SquareLoss:
	case KLLoss:
		for _, C := range []*Matrix{C1, C2} {
			for k, v := range C.Data {
				if v < 0 {
					return nil, nil, nil, fmt.Errorf("ot: kl_loss needs non-negative structure matrices; entry [%d,%d] is %g", k/C.Cols, k%C.Cols, v)
				}
			}
		}
	default:
		return nil, nil, nil, fmt.Errorf("ot: unknown gromov-wasserstein loss %q (want %q or %q)", opt.Loss, SquareLoss, KLLoss)
	}
	if opt.G0 == nil {
		G := Zeros(len(p), len(q))
		for i := range p {
			row := G.Row(i)
			for j := range row {
				row[j] = p[i] * q[j]
			}
		}
		return p, q, G, nil
	}
	if err := checkCost("G0", opt.G0, len(p), len(q)); err != nil {
		return nil, nil, nil, err
	}
	if e := marginalViolation(opt.G0, p, q); e > 1e-8 {
		return nil, nil, nil, fmt.Errorf("ot: the initial plan G0 misses the marginals p, q by %g", e)
	}
	return p, q, opt.G0.Clone(), nil
}

// marginalViolation is the largest |row sum − p_i|, |column sum − q_j|.
func marginalViolation(T *Matrix, p, q []float64) float64 {
	return math.Max(maxDiff(T.RowSums(), p), maxDiff(T.ColSums(), q))
}

// GromovWasserstein matches the metric-measure spaces (C1, p) and (C2, q)
// (C1: n×n, C2: m×m structure matrices, e.g. intra-domain distances; p, q
// weights of equal mass): it minimises Σ L(C1_ik, C2_jl)·T_ij·T_kl over
// plans T with marginals p, q by conditional gradient (Frank-Wolfe): each
// step solves the linearised problem exactly with EMD and moves along the
// direction with the exact line search of the quadratic objective (POT's
// ot.gromov.gromov_wasserstein). The problem is non-convex: the result
// depends on the initial plan opt.G0. Plan.Cost (and Objective) is the
// Gromov-Wasserstein loss (POT's gromov_wasserstein2).
func GromovWasserstein(C1, C2 *Matrix, p, q []float64, opt GWOptions) (*Plan, error) {
	p, q, G, err := checkGW(C1, C2, p, q, opt)
	if err != nil {
		return nil, err
	}
	if opt.MaxIter <= 0 {
		opt.MaxIter = 200
	}
	if opt.Tol <= 0 {
		opt.Tol = 1e-9
	}
	g := newGWTerms(C1, C2, p, q, opt.Loss)
	cross := g.cross(G)
	fval := g.constC.Dot(G) - cross.Dot(G)
	converged := false
	it := 0
	grad := Zeros(len(p), len(q))
	for it < opt.MaxIter {
		it++
		old := fval
		for k, c := range cross.Data {
			grad.Data[k] = 2 * (g.constC.Data[k] - c)
		}
		lin, err := EMD(p, q, grad, EMDOptions{})
		if err != nil {
			return nil, err
		}
		delta := lin.T.Clone()
		for k, v := range G.Data {
			delta.Data[k] -= v
		}
		// f(G + αΔ) = f(G) + α·b + α²·a for this quadratic objective.
		crossD := g.cross(delta)
		qa := -crossD.Dot(delta)
		qb := g.constC.Dot(delta) - crossD.Dot(G) - cross.Dot(delta)
		alpha := lineSearchQuad(qa, qb, fval)
		for k, d := range delta.Data {
			G.Data[k] += alpha * d
			cross.Data[k] += alpha * crossD.Data[k]
		}
		fval = g.constC.Dot(G) - cross.Dot(G)
		diff := math.Abs(fval - old)
		if diff < opt.Tol || (fval != 0 && diff/math.Abs(fval) < opt.Tol) {
			converged = true
			break
		}
	}
	return &Plan{T: G, Cost: fval, Objective: fval, Method: "gromov-wasserstein (" + string(lossName(opt.Loss)) + ")",
		Iterations: it, Converged: converged, MarginalError: marginalViolation(G, p, q)}, nil
}

// lossName returns the loss, with "" as SquareLoss.
func lossName(l GWLoss) GWLoss {
	if l == "" {
		return SquareLoss
	}
	return l
}

// lineSearchQuad returns the step α ∈ [0, 1] minimising c + b·α + a·α²
// (POT's solve_1d_linesearch_quad).
func lineSearchQuad(a, b, c float64) float64 {
	if a > 0 {
		return math.Min(1, math.Max(0, -b/(2*a)))
	}
	if c > a+b+c {
		return 1
	}
	return 0
}

// EntropicGromovWasserstein is the entropic Gromov-Wasserstein solver of
// Peyré et al. (2016), POT's ot.gromov.entropic_gromov_wasserstein: from
// the initial plan (p·qᵀ or opt.G0) it repeats T ← Sinkhorn(p, q,
// 2·L ⊗ T, ε) until T stops moving. Plan.Cost (and Objective) is the
// Gromov-Wasserstein loss of the final plan (POT's log["gw_dist"]).
func EntropicGromovWasserstein(C1, C2 *Matrix, p, q []float64, eps float64, opt GWOptions) (*Plan, error) {
	p, q, T, err := checkGW(C1, C2, p, q, opt)
	if err != nil {
		return nil, err
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("ot: regularisation eps = %v; it must be positive and finite", eps)
	}
	if opt.MaxIter <= 0 {
		opt.MaxIter = 1000
	}
	if opt.Tol <= 0 {
		opt.Tol = 1e-9
	}
	g := newGWTerms(C1, C2, p, q, opt.Loss)
	converged := false
	it := 0
	for it < opt.MaxIter {
		prev := T
		tens := g.tensor(T)
		for k := range tens.Data {
			tens.Data[k] *= 2
		}
		inner, err := Sinkhorn(p, q, tens, eps, opt.Sinkhorn)
		if err != nil {
			return nil, err
		}
		T = inner.T
		if it%10 == 0 {
			d := 0.0
			for k, v := range T.Data {
				d += (v - prev.Data[k]) * (v - prev.Data[k])
			}
			if math.Sqrt(d) < opt.Tol {
				it++
				converged = true
				break
			}
		}
		it++
	}
	v := g.loss(T)
	return &Plan{T: T, Cost: v, Objective: v, Method: fmt.Sprintf("entropic gromov-wasserstein (%s, ε=%g)", lossName(opt.Loss), eps),
		Iterations: it, Converged: converged, MarginalError: marginalViolation(T, p, q)}, nil
}
