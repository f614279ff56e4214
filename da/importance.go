package da

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
)

// Weights are importance weights for covariate shift: one estimate of the
// density ratio w(x) = p_target(x)/p_source(x) per source sample, made by
// ClassifierRatio, KMM or KLIEP. Weighting the source loss by them (see
// WeightedCrossEntropy) trains for the target's input distribution. Weights
// shows itself as a histogram with its effective sample size.
type Weights struct {
	// Method names the estimator, e.g. "KMM".
	Method string
	// Values holds one weight per source sample, in the source's order.
	Values []float64
	// Sigma is the Gaussian kernel bandwidth the estimator used (KMM,
	// KLIEP; 0 for the classifier).
	Sigma float64
	// Objective is the estimator's objective: KLIEP's mean target
	// log-likelihood after each accepted step (it increases), KMM's QP
	// objective ½βᵀKβ − κᵀβ at the end, the classifier's regularised
	// log-loss at the end.
	Objective []float64
	// Iterations counts the solver's iterations; Converged says whether it
	// met its tolerance before its iteration limit.
	Iterations int
	Converged  bool
}

// ESS returns the effective sample size (Σw)²/Σw² (Kish): n for equal
// weights, near 1 when one weight dominates.
func (w *Weights) ESS() float64 {
	var s, s2 float64
	for _, v := range w.Values {
		s += v
		s2 += v * v
	}
	if s2 == 0 {
		return 0
	}
	return s * s / s2
}

// At returns the weights of the source samples at indices (a training
// batch's Indices), for WeightedCrossEntropy.
func (w *Weights) At(indices []int) []float64 {
	out := make([]float64, len(indices))
	for k, i := range indices {
		out[k] = w.Values[i]
	}
	return out
}

// Tensor returns the weights as an (N,) tensor.
func (w *Weights) Tensor() *tensor.Tensor {
	return tensor.FromFloat64(w.Values, len(w.Values))
}

// String summarises the weights: method, count, range, mean and effective
// sample size.
func (w *Weights) String() string {
	if len(w.Values) == 0 {
		return fmt.Sprintf("%s weights: none", w.Method)
	}
	lo, hi, s := math.Inf(1), math.Inf(-1), 0.0
	for _, v := range w.Values {
		lo, hi, s = math.Min(lo, v), math.Max(hi, v), s+v
	}
	n := len(w.Values)
	var b strings.Builder
	fmt.Fprintf(&b, "%s weights: %d source samples, min %.3g, mean %.3g, max %.3g, effective sample size %.1f (%.0f%%)",
		w.Method, n, lo, s/float64(n), hi, w.ESS(), 100*w.ESS()/float64(n))
	if w.Sigma > 0 {
		fmt.Fprintf(&b, ", σ %.3g", w.Sigma)
	}
	if w.Iterations > 0 {
		conv := "converged"
		if !w.Converged {
			conv = "not converged"
		}
		fmt.Fprintf(&b, ", %d iterations (%s)", w.Iterations, conv)
	}
	return b.String()
}

// Plot returns a histogram of the weights.
func (w *Weights) Plot() (*viz.Figure, error) {
	return viz.Histogram([]viz.Values{{Name: w.Method, Data: w.Values}}, viz.HistOptions{
		Options: viz.Options{Title: fmt.Sprintf("%s importance weights (ESS %.1f of %d)", w.Method, w.ESS(), len(w.Values)),
			XLabel: "weight", YLabel: "source samples", Legend: "none"}})
}

// Display shows the histogram with the summary as its text.
func (w *Weights) Display() display.Bundle {
	fig, err := w.Plot()
	return viz.FigureBundle(w.String(), fig, err)
}

// RatioOptions are the settings of ClassifierRatio.
type RatioOptions struct {
	// Quadratic adds every product x_j·x_k to the classifier's inputs, so
	// that the log-ratio of two Gaussians (a quadratic) can be represented
	// exactly.
	Quadratic bool
	// L2 is the ridge penalty on the standardised weights (0: 1e-4).
	L2 float64
}

// ClassifierRatio estimates the density ratio by telling the domains apart:
// a logistic regression is fitted to label source rows 0 and target rows 1,
// and w(x) = p(t|x)/p(s|x) · Ns/Nt at each source row of xs (Ns, D).
func ClassifierRatio(xs, xt *tensor.Tensor, opt RatioOptions) (*Weights, error) {
	const fn = "da.ClassifierRatio"
	s, t, err := matrixPair(fn, xs, xt)
	if err != nil {
		return nil, err
	}
	if opt.L2 < 0 || math.IsNaN(opt.L2) {
		return nil, fmt.Errorf("%s: L2 = %v, want ≥ 0", fn, opt.L2)
	}
	if opt.L2 == 0 {
		opt.L2 = 1e-4
	}
	if opt.Quadratic {
		s, t = quadratic(s), quadratic(t)
	}
	all := stack(s, t)
	y := make([]bool, all.n)
	for i := s.n; i < all.n; i++ {
		y[i] = true
	}
	m, err := fitLogistic(all, y, opt.L2)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	w := &Weights{Method: "classifier", Values: make([]float64, s.n), Objective: []float64{m.loss}, Converged: true}
	prior := float64(s.n) / float64(t.n)
	for i := range s.n {
		w.Values[i] = math.Exp(m.logit(s.row(i))) * prior
	}
	return w, nil
}

// gaussianGram returns exp(−‖a_i − b_j‖²/(2σ²)) as an (a.n, b.n) row-major
// matrix.
func gaussianGram(a, b rowsF64, sigma float64) []float64 {
	k := make([]float64, a.n*b.n)
	c := -1 / (2 * sigma * sigma)
	for i := range a.n {
		for j := range b.n {
			k[i*b.n+j] = math.Exp(c * sqDist(a.row(i), b.row(j)))
		}
	}
	return k
}

// bandwidth checks a user's σ or, for 0, takes √(median squared distance)
// of the pooled rows of s and t.
func bandwidth(fn string, sigma float64, s, t rowsF64) (float64, error) {
	if sigma < 0 || math.IsNaN(sigma) || math.IsInf(sigma, 0) {
		return 0, fmt.Errorf("%s: Sigma = %v, want a bandwidth > 0 (0: median heuristic)", fn, sigma)
	}
	if sigma == 0 {
		sigma = math.Sqrt(medianSqDist(stack(s, t)))
	}
	return sigma, nil
}

// KMMOptions are the settings of KMM; zero values take the defaults given.
type KMMOptions struct {
	// Sigma is the Gaussian kernel's bandwidth (0: √ of the median squared
	// distance between pooled samples).
	Sigma float64
	// B bounds every weight, 0 ≤ β_i ≤ B (0: 1000).
	B float64
	// Epsilon bounds the mean weight: |Σβ − Ns| ≤ Ns·ε (0: (√Ns − 1)/√Ns,
	// Huang et al.'s choice).
	Epsilon float64
	// MaxIter caps the solver's iterations (0: 20000).
	MaxIter int
	// Tol stops the solver when a step moves no weight by more than
	// Tol·max(1, max β) (0: 1e-6).
	Tol float64
}

// KMM estimates importance weights by kernel mean matching (Huang et al.
// 2007): the weights β of the source rows xs (Ns, D) minimise
// ½βᵀKβ − κᵀβ, K_ij = k(x_i, x_j), κ_i = Ns/Nt Σ_j k(x_i, x′_j), subject to
// 0 ≤ β ≤ B and |Σβ − Ns| ≤ Ns·ε — the squared RKHS distance between the
// weighted source mean embedding and the target's. The QP is solved by
// accelerated projected gradient with an exact projection onto the
// constraints.
func KMM(xs, xt *tensor.Tensor, opt KMMOptions) (*Weights, error) {
	const fn = "da.KMM"
	s, t, err := matrixPair(fn, xs, xt)
	if err != nil {
		return nil, err
	}
	sigma, err := bandwidth(fn, opt.Sigma, s, t)
	if err != nil {
		return nil, err
	}
	ns := float64(s.n)
	switch {
	case opt.B < 0 || math.IsNaN(opt.B):
		return nil, fmt.Errorf("%s: B = %v, want a bound > 0", fn, opt.B)
	case opt.Epsilon < 0 || math.IsNaN(opt.Epsilon):
		return nil, fmt.Errorf("%s: Epsilon = %v, want ≥ 0", fn, opt.Epsilon)
	case opt.MaxIter < 0:
		return nil, fmt.Errorf("%s: MaxIter = %d, want ≥ 0", fn, opt.MaxIter)
	}
	if opt.B == 0 {
		opt.B = 1000
	}
	if opt.Epsilon == 0 {
		opt.Epsilon = (math.Sqrt(ns) - 1) / math.Sqrt(ns)
	}
	if opt.MaxIter == 0 {
		opt.MaxIter = 20000
	}
	if opt.Tol == 0 {
		opt.Tol = 1e-6
	}
	lo, hi := ns*(1-opt.Epsilon), ns*(1+opt.Epsilon)
	if lo > ns*opt.B {
		return nil, fmt.Errorf("%s: B = %v cannot reach the mean weight 1−ε = %v", fn, opt.B, 1-opt.Epsilon)
	}
	K := gaussianGram(s, s, sigma)
	kt := gaussianGram(s, t, sigma)
	kappa := make([]float64, s.n)
	for i := range s.n {
		var a float64
		for j := range t.n {
			a += kt[i*t.n+j]
		}
		kappa[i] = a * ns / float64(t.n)
	}
	beta, iters, conv := solveBoxSumQP(K, kappa, opt.B, lo, hi, opt.MaxIter, opt.Tol)
	return &Weights{Method: "KMM", Values: beta, Sigma: sigma, Objective: []float64{qpObjective(K, kappa, beta)},
		Iterations: iters, Converged: conv}, nil
}

// qpObjective returns ½βᵀKβ − κᵀβ.
func qpObjective(K, kappa, beta []float64) float64 {
	n := len(beta)
	var f float64
	for i := range n {
		var a float64
		for j := range n {
			a += K[i*n+j] * beta[j]
		}
		f += beta[i] * (a/2 - kappa[i])
	}
	return f
}

// solveBoxSumQP minimises ½βᵀKβ − κᵀβ over 0 ≤ β ≤ B, lo ≤ Σβ ≤ hi (K
// positive semi-definite) by FISTA with adaptive restart.
func solveBoxSumQP(K, kappa []float64, B, lo, hi float64, maxIter int, tol float64) ([]float64, int, bool) {
	n := len(kappa)
	L := largestEigen(K, n) * 1.01
	if !(L > 0) {
		L = 1
	}
	beta := make([]float64, n)
	for i := range beta {
		beta[i] = 1
	}
	projectBoxSum(beta, B, lo, hi)
	y := append([]float64(nil), beta...)
	next, g := make([]float64, n), make([]float64, n)
	km := mat.NewDense(n, n, K)
	gv, yv := mat.NewVecDense(n, g), mat.NewVecDense(n, y)
	tk := 1.0
	for it := 1; it <= maxIter; it++ {
		gv.MulVec(km, yv)
		for i := range n {
			g[i] -= kappa[i]
			next[i] = y[i] - g[i]/L
		}
		projectBoxSum(next, B, lo, hi)
		var move, size, dir float64
		for i := range n {
			move = math.Max(move, math.Abs(next[i]-beta[i]))
			size = math.Max(size, next[i])
			dir += g[i] * (next[i] - beta[i])
		}
		tn := (1 + math.Sqrt(1+4*tk*tk)) / 2
		mom := (tk - 1) / tn
		if dir > 0 { // the momentum points uphill: restart
			tn, mom = 1, 0
		}
		for i := range n {
			y[i] = next[i] + mom*(next[i]-beta[i])
		}
		beta, next = next, beta
		tk = tn
		if move <= tol*math.Max(1, size) {
			return beta, it, true
		}
	}
	return beta, maxIter, false
}

// projectBoxSum replaces v by its Euclidean projection onto
// {0 ≤ β ≤ B, lo ≤ Σβ ≤ hi}: clip(v − τ, 0, B) with τ = 0 when that sum is
// already in range, else the shift that puts it on the nearer bound.
func projectBoxSum(v []float64, B, lo, hi float64) {
	sum := func(tau float64) float64 {
		var s float64
		for _, x := range v {
			s += math.Min(B, math.Max(0, x-tau))
		}
		return s
	}
	s0 := sum(0)
	var tau float64
	if s0 > hi || s0 < lo {
		target := hi
		if s0 < lo {
			target = lo
		}
		vmin, vmax := math.Inf(1), math.Inf(-1)
		for _, x := range v {
			vmin, vmax = math.Min(vmin, x), math.Max(vmax, x)
		}
		a, b := vmin-B, vmax // sum(a) = n·B ≥ target, sum(b) = 0 ≤ target
		for range 200 {
			m := (a + b) / 2
			if sum(m) > target {
				a = m
			} else {
				b = m
			}
			if b-a <= 1e-15*math.Max(1, math.Abs(m)) {
				break
			}
		}
		tau = (a + b) / 2
	}
	for i, x := range v {
		v[i] = math.Min(B, math.Max(0, x-tau))
	}
}

// largestEigen returns the largest eigenvalue of the symmetric PSD n×n
// matrix K by power iteration.
func largestEigen(K []float64, n int) float64 {
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = 1 / math.Sqrt(float64(n))
	}
	var lambda float64
	for range 100 {
		var norm float64
		for i := range n {
			var a float64
			for j := range n {
				a += K[i*n+j] * x[j]
			}
			y[i] = a
			norm += a * a
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return 0
		}
		for i := range n {
			x[i] = y[i] / norm
		}
		if math.Abs(norm-lambda) <= 1e-9*norm {
			return norm
		}
		lambda = norm
	}
	return lambda
}

// KLIEPOptions are the settings of KLIEP; zero values take the defaults
// given.
type KLIEPOptions struct {
	// Sigma is the bandwidth of the Gaussian basis functions (0: √ of the
	// median squared distance between target rows, where the basis lives;
	// the paper picks it by likelihood cross-validation, not done here).
	Sigma float64
	// Centers is the number of target rows used as basis centres, drawn
	// without replacement (0: min(Nt, 100)).
	Centers int
	// MaxIter caps the ascent's iterations (0: 2000).
	MaxIter int
	// Tol stops the ascent when an accepted step raises the objective by
	// less than Tol (0: 1e-9).
	Tol float64
	// Seed draws the centres.
	Seed uint64
}

// KLIEP estimates importance weights by the Kullback–Leibler importance
// estimation procedure (Sugiyama et al. 2008): w(x) = Σ_l α_l φ_l(x), with
// Gaussian basis functions φ_l centred on target rows, maximises the mean
// log w over the target rows xt subject to α ≥ 0 and a mean weight of 1 over
// the source rows xs. Gradient ascent with Euclidean projection onto the
// constraints; the step halves whenever it would lower the objective, so
// the recorded Objective never decreases.
func KLIEP(xs, xt *tensor.Tensor, opt KLIEPOptions) (*Weights, error) {
	const fn = "da.KLIEP"
	s, t, err := matrixPair(fn, xs, xt)
	if err != nil {
		return nil, err
	}
	sigma, err := bandwidth(fn, opt.Sigma, t, rowsF64{d: t.d})
	if err != nil {
		return nil, err
	}
	if opt.Centers < 0 || opt.MaxIter < 0 || opt.Tol < 0 {
		return nil, fmt.Errorf("%s: Centers = %d, MaxIter = %d, Tol = %v; want none negative", fn, opt.Centers, opt.MaxIter, opt.Tol)
	}
	if opt.Centers == 0 {
		opt.Centers = min(t.n, 100)
	}
	if opt.Centers > t.n {
		return nil, fmt.Errorf("%s: Centers = %d, but the target has only %d rows", fn, opt.Centers, t.n)
	}
	if opt.MaxIter == 0 {
		opt.MaxIter = 2000
	}
	if opt.Tol == 0 {
		opt.Tol = 1e-9
	}
	perm := tensor.NewRNG(opt.Seed).Perm(t.n)[:opt.Centers]
	c := rowsF64{opt.Centers, t.d, make([]float64, 0, opt.Centers*t.d)}
	for _, i := range perm {
		c.v = append(c.v, t.row(i)...)
	}
	b := len(perm)
	A := gaussianGram(t, c, sigma)   // (Nt, b)
	Phi := gaussianGram(s, c, sigma) // (Ns, b)
	mb := make([]float64, b)         // mean source basis value
	for i := range s.n {
		for l := range b {
			mb[l] += Phi[i*b+l] / float64(s.n)
		}
	}
	// project replaces a by its Euclidean projection onto the constraints
	// {α ≥ 0, mbᵀα = 1}: max(0, a − λ·mb) with λ found by bisection.
	project := func(a []float64) bool {
		h := func(lambda float64) float64 {
			var s float64
			for l, v := range a {
				s += mb[l] * math.Max(0, v-lambda*mb[l])
			}
			return s
		}
		hi := math.Inf(-1)
		for l, v := range a {
			if mb[l] > 0 {
				hi = math.Max(hi, v/mb[l])
			}
		}
		lo := -1.0
		for h(lo) < 1 {
			lo *= 2
			if math.IsInf(lo, 0) {
				return false
			}
		}
		if hi < lo {
			hi = lo
		}
		for range 200 {
			m := (lo + hi) / 2
			if h(m) > 1 {
				lo = m
			} else {
				hi = m
			}
			if hi-lo <= 1e-15*math.Max(1, math.Abs(m)) {
				break
			}
		}
		lambda := (lo + hi) / 2
		var s float64
		for l, v := range a {
			a[l] = math.Max(0, v-lambda*mb[l])
			s += mb[l] * a[l]
		}
		if !(s > 0) {
			return false
		}
		for l := range a { // remove the bisection's last rounding
			a[l] /= s
		}
		return true
	}
	objective := func(a []float64, aa []float64) float64 {
		var f float64
		for j := range t.n {
			var v float64
			for l := range b {
				v += A[j*b+l] * a[l]
			}
			aa[j] = v
			f += math.Log(v)
		}
		return f / float64(t.n)
	}
	alpha := make([]float64, b)
	var sumMB float64
	for _, v := range mb {
		sumMB += v
	}
	if !(sumMB > 0) {
		return nil, fmt.Errorf("%s: every basis function vanishes on the source rows (Sigma = %v is too small for these data)", fn, sigma)
	}
	for l := range alpha {
		alpha[l] = 1 / sumMB
	}
	aa, trialAA := make([]float64, t.n), make([]float64, t.n)
	f := objective(alpha, aa)
	w := &Weights{Method: "KLIEP", Sigma: sigma, Objective: []float64{f}}
	step := 1.0
	trial, grad := make([]float64, b), make([]float64, b)
	for w.Iterations < opt.MaxIter {
		w.Iterations++
		for l := range grad {
			grad[l] = 0
		}
		for j := range t.n {
			r := 1 / (aa[j] * float64(t.n))
			for l := range b {
				grad[l] += A[j*b+l] * r
			}
		}
		accepted := false
		for step > 1e-14 {
			for l := range trial {
				trial[l] = alpha[l] + step*grad[l]
			}
			if project(trial) {
				if ft := objective(trial, trialAA); ft >= f {
					gain := ft - f
					alpha, trial = trial, alpha
					aa, trialAA = trialAA, aa
					f = ft
					w.Objective = append(w.Objective, f)
					step *= 2
					accepted = true
					if gain < opt.Tol {
						w.Converged = true
					}
					break
				}
			}
			step /= 2
		}
		if !accepted {
			w.Converged = true // no ascent step left: a constrained maximum
		}
		if w.Converged {
			break
		}
	}
	w.Values = make([]float64, s.n)
	for i := range s.n {
		for l := range b {
			w.Values[i] += Phi[i*b+l] * alpha[l]
		}
	}
	return w, nil
}

// WeightedCrossEntropy returns the importance-weighted cross-entropy
// Σ_i w_i·CE(logits_i, labels_i) / Σ_i w_i of logits (N, K), as a
// differentiable scalar; nil weights give the plain mean. Use it as the loss
// of an ordinary training loop with Weights.At(batch.Indices).
func WeightedCrossEntropy(logits *tensor.Tensor, labels []int, w []float64) (*tensor.Tensor, error) {
	const fn = "da.WeightedCrossEntropy"
	if logits == nil || logits.Dims() != 2 {
		return nil, fmt.Errorf("%s: logits must be an (N, K) matrix", fn)
	}
	n, k := logits.Dim(0), logits.Dim(1)
	if n == 0 {
		return nil, fmt.Errorf("%s: the batch is empty (0 rows)", fn)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("%s: %d labels for %d rows of logits", fn, len(labels), n)
	}
	for i, y := range labels {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("%s: labels[%d] = %d, want a class in [0, %d)", fn, i, y, k)
		}
	}
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	if len(w) != n {
		return nil, fmt.Errorf("%s: %d weights for %d rows of logits", fn, len(w), n)
	}
	var total float64
	for i, v := range w {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: w[%d] = %v, want a finite weight ≥ 0", fn, i, v)
		}
		total += v
	}
	if total == 0 {
		return nil, fmt.Errorf("%s: the weights sum to 0", fn)
	}
	wt := tensor.FromFloat64(w, n, 1).Scale(float32(1 / total))
	nll := logits.LogSoftmax(1).Mul(tensor.OneHot(labels, k)).Mul(wt)
	return nll.Sum().Neg(), nil
}
