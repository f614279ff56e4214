package ot

import (
	"fmt"
	"math"
	"runtime"
)

// SinkhornMethod selects how Sinkhorn and SinkhornUnbalanced iterate.
type SinkhornMethod string

// The Sinkhorn iterations.
const (
	// SinkhornAuto iterates on scalings u, v with a precomputed kernel (the
	// fast form, POT's method "sinkhorn") and absorbs them into log
	// potentials whenever they leave [1e-100, 1e100] or the products under-
	// or overflow; for small ε it also uses ε-scaling (see EpsStart). It
	// falls back to log-domain iterations if a rebuilt kernel still fails.
	SinkhornAuto SinkhornMethod = ""
	// SinkhornLog iterates on the log potentials with log-sum-exp (POT's
	// "sinkhorn_log"): always stable, much slower (n·m exponentials per
	// half-iteration).
	SinkhornLog SinkhornMethod = "log"
)

// SinkhornOptions configures Sinkhorn, SinkhornUnbalanced and the solvers
// built on them. The zero value gives POT's defaults.
type SinkhornOptions struct {
	// MaxIter bounds the iterations, all ε-scaling stages together
	// (0 means 1000, POT's numItermax).
	MaxIter int
	// Tol is the stopping tolerance (0 means POT's default). Balanced: the
	// Euclidean norm of the marginal violation, ‖Tᵀ1 − b‖₂ as POT (default
	// 1e-9; the row marginal is exact after a plain iteration, and joins
	// the norm while over-relaxed), checked every iteration (it comes free
	// with the pass) or, with Plain, every 10 as POT. Unbalanced: the
	// relative change of the
	// scalings between two iterations, POT's criterion (default 1e-6).
	Tol float64
	// Method picks the iteration; SinkhornAuto (the zero value) is the fast
	// stabilised one.
	Method SinkhornMethod
	// EpsStart is the first ε of ε-scaling: the solver runs at EpsStart,
	// EpsStart/2, … down to ε, each stage warm-started from the previous
	// potentials. 0 chooses: ε-scaling from (max M − min M)/50 when ε is
	// below (max M − min M)/500, none otherwise. Negative turns it off.
	// Ignored by SinkhornLog.
	EpsStart float64
	// Plain turns off the over-relaxation of the balanced iterations (by
	// default, once the plain iterations' contraction rate is measured, the
	// updates are over-relaxed, u ← u^(1−ω)·(a/Kv)^ω, which reaches the same
	// fixed point in far fewer iterations at small ε). With Plain the
	// iterates are POT's.
	Plain bool
	// Workers is the number of goroutines for the matrix-vector products
	// (0 means min(2, GOMAXPROCS)).
	Workers int
}

// Sinkhorn solves the entropy-regularised transport problem between
// marginals a (n) and b (m) with cost M (n×m) and regularisation eps:
// min ⟨T, M⟩ + ε·Σ T_ij (log T_ij − 1) over plans with row sums a and column
// sums b. a and b must be non-negative with equal masses; zero weights get
// empty rows/columns. Plan.Cost is ⟨T, M⟩ (POT's sinkhorn2 value),
// Plan.Objective the entropic objective, Plan.U and Plan.V the dual
// potentials: T_ij = a_i·b_j·exp((U_i + V_j − M_ij)/ε). When MaxIter is reached
// before Tol, Converged is false and the plan is the last (finite) iterate.
func Sinkhorn(a, b []float64, M *Matrix, eps float64, opt SinkhornOptions) (*Plan, error) {
	a, b, err := checkEntropic(a, b, M, eps)
	if err != nil {
		return nil, err
	}
	if err := checkBalanced(a, b); err != nil {
		return nil, err
	}
	return solveEntropic(a, b, M, eps, math.Inf(1), opt)
}

// checkEntropic checks the inputs every entropic solver shares and fills
// in uniform weights for empty a or b.
func checkEntropic(a, b []float64, M *Matrix, eps float64) ([]float64, []float64, error) {
	if M == nil {
		return nil, nil, fmt.Errorf("ot: cost matrix M is nil")
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, nil, fmt.Errorf("ot: regularisation eps = %v; it must be positive and finite", eps)
	}
	a, b = orUniform(a, M.Rows), orUniform(b, M.Cols)
	if err := checkMarginal("a", a, M.Rows); err != nil {
		return nil, nil, err
	}
	if err := checkMarginal("b", b, M.Cols); err != nil {
		return nil, nil, err
	}
	return a, b, checkCost("M", M, M.Rows, M.Cols)
}

// support returns the indices of the positive entries of w.
func support(w []float64) []int {
	idx := make([]int, 0, len(w))
	for i, v := range w {
		if v > 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// solveEntropic runs the entropic solvers (tau = +Inf: balanced; else the
// KL marginal penalty) on the support of a and b and embeds the result.
func solveEntropic(a, b []float64, M *Matrix, eps, tau float64, opt SinkhornOptions) (*Plan, error) {
	ri, ci := support(a), support(b)
	sub := M
	as, bs := a, b
	if len(ri) < len(a) || len(ci) < len(b) {
		sub = Zeros(len(ri), len(ci))
		for k, i := range ri {
			row := sub.Row(k)
			for l, j := range ci {
				row[l] = M.At(i, j)
			}
		}
		as, bs = pick(a, ri), pick(b, ci)
	}
	s := newEntropicSolver(as, bs, sub, eps, tau, opt)
	s.run()
	p := s.plan()
	if sub != M {
		T := Zeros(M.Rows, M.Cols)
		for k, i := range ri {
			for l, j := range ci {
				T.Set(i, j, p.T.At(k, l))
			}
		}
		p.T = T
		F, G := spread(p.U, ri, len(a)), spread(p.V, ci, len(b))
		cTransform(F, G, b, ci, eps, func(i, j int) float64 { return M.At(i, j) })
		cTransform(G, F, a, ri, eps, func(j, i int) float64 { return M.At(i, j) })
		p.U, p.V = F, G
	}
	finishPlan(p, a, b, M, eps, tau)
	return p, nil
}

// pick returns w at the indices idx.
func pick(w []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = w[i]
	}
	return out
}

// spread returns a length-n vector holding w at the indices idx and NaN
// elsewhere (to be filled by cTransform).
func spread(w []float64, idx []int, n int) []float64 {
	out := make([]float64, n)
	for k := range out {
		out[k] = math.NaN()
	}
	for k, i := range idx {
		out[i] = w[k]
	}
	return out
}

// cTransform fills the NaN entries of pot (potentials of zero-weight
// points) with the entropic c-transform of the other side's potentials
// other, weights w, over that side's support idx:
// pot_k = −ε log Σ_j w_j exp((other_j − cost(k, j))/ε).
func cTransform(pot, other, w []float64, idx []int, eps float64, cost func(k, j int) float64) {
	vals := make([]float64, len(idx))
	for k, p := range pot {
		if !math.IsNaN(p) {
			continue
		}
		for l, j := range idx {
			vals[l] = math.Log(w[j]) + (other[j]-cost(k, j))/eps
		}
		pot[k] = -eps * logSumExp(vals)
	}
}

// logSumExp returns log Σ exp(x_i), stably.
func logSumExp(x []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	if math.IsInf(mx, 0) {
		return mx
	}
	s := 0.0
	for _, v := range x {
		s += kexp(v - mx)
	}
	return mx + math.Log(s)
}

// finishPlan fills the cost, the objective and the marginal error of p.
func finishPlan(p *Plan, a, b []float64, M *Matrix, eps, tau float64) {
	p.Cost = p.T.Dot(M)
	rs, cs := marginals(p.T)
	// log T_ij = log a_i + log b_j + (U_i + V_j − M_ij)/ε on the support,
	// so ε·Σ T (log T − 1) needs no logarithm of T.
	ent := -p.Cost
	for i, r := range rs {
		if r > 0 {
			ent += r * (p.U[i] + eps*math.Log(a[i]) - eps)
		}
	}
	for j, c := range cs {
		if c > 0 {
			ent += c * (p.V[j] + eps*math.Log(b[j]))
		}
	}
	p.Objective = p.Cost + ent
	if !math.IsInf(tau, 1) {
		p.Objective += tau * (kl(rs, a) + kl(cs, b))
	}
	p.MarginalError = math.Max(maxDiff(rs, a), maxDiff(cs, b))
}

// marginals returns the row and the column sums of T in one sweep.
func marginals(T *Matrix) (rs, cs []float64) {
	rs, cs = make([]float64, T.Rows), make([]float64, T.Cols)
	ones := make([]float64, T.Cols)
	for j := range ones {
		ones[j] = 1
	}
	for i := range rs {
		row := T.Row(i)
		rs[i] = dot(row, ones)
		axpy(cs, 1, row)
	}
	return rs, cs
}

// maxDiff returns max |x_i − y_i|.
func maxDiff(x, y []float64) float64 {
	d := 0.0
	for i := range x {
		d = math.Max(d, math.Abs(x[i]-y[i]))
	}
	return d
}

// kl returns the generalised Kullback-Leibler divergence
// Σ x log(x/y) − x + y.
func kl(x, y []float64) float64 {
	s := 0.0
	for i := range x {
		if x[i] > 0 {
			s += x[i] * math.Log(x[i]/y[i])
		}
		s += y[i] - x[i]
	}
	return s
}

// defaultWorkers is the goroutine count for the kernel products.
func defaultWorkers(w int) int {
	if w > 0 {
		return w
	}
	return min(2, runtime.GOMAXPROCS(0))
}
