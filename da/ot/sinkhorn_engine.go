package ot

import (
	"fmt"
	"math"
	"sync"
)

// The scalings are absorbed into the log potentials when they leave
// [1/absorbAt, absorbAt]: far from the float64 limits, so that products
// u_i·K_ij·v_j that matter never under- or overflow, and rare enough that
// well-conditioned problems run POT's plain iteration unchanged.
const absorbAt = 1e100

// entropicSolver runs the Sinkhorn iterations of the balanced (tau = +Inf)
// and the KL-unbalanced problems on positive marginals. The plan is
// T_ij = u_i·K_ij·v_j with the stabilised kernel
// K_ij = exp((α_i + β_j − M_ij)/ε), i.e. the log potentials are
// f̂ = α + ε·log u and ĝ = β + ε·log v.
type entropicSolver struct {
	a, b        []float64
	M           *Matrix
	n, m        int
	eps, tau    float64 // target ε, marginal penalty (+Inf: balanced)
	cur         float64 // ε of the current stage
	opt         SinkhornOptions
	workers     int
	alpha, beta []float64
	K           []float64
	u, v, ktu   []float64
	ea, eb      []float64 // unbalanced: exp(−α/(ε+τ)), exp(−β/(ε+τ))
	partial     [][]float64
	logDomain   bool // iterating on the potentials (alpha, beta) directly
	iters       int
	stageIters  int
	converged   bool
	lastErr     float64
	errHist     []float64 // marginal errors of the final stage's iterations
	relaxOff    bool      // over-relaxation failed once: plain from then on
	omega       float64   // over-relaxation of the balanced updates (1: plain Sinkhorn)
	rowErr      []float64 // per worker: Σ (u_i·(Kv)_i − a_i)² of the last row pass
}

func newEntropicSolver(a, b []float64, M *Matrix, eps, tau float64, opt SinkhornOptions) *entropicSolver {
	if opt.MaxIter <= 0 {
		opt.MaxIter = 1000
	}
	if opt.Tol <= 0 {
		opt.Tol = 1e-9
		if !math.IsInf(tau, 1) {
			opt.Tol = 1e-6
		}
	}
	s := &entropicSolver{a: a, b: b, M: M, n: M.Rows, m: M.Cols, eps: eps, tau: tau, opt: opt,
		workers: defaultWorkers(opt.Workers)}
	if s.workers > s.n {
		s.workers = max(1, s.n)
	}
	s.alpha, s.beta = make([]float64, s.n), make([]float64, s.m)
	s.omega = 1
	s.rowErr = make([]float64, s.workers)
	return s
}

// balanced reports whether the marginals are hard constraints.
func (s *entropicSolver) balanced() bool { return math.IsInf(s.tau, 1) }

// fi is the exponent τ/(τ+ε) of the unbalanced updates (1 when balanced).
func (s *entropicSolver) fi() float64 {
	if s.balanced() {
		return 1
	}
	return s.tau / (s.tau + s.cur)
}

// run solves the problem, with ε-scaling when asked or needed.
func (s *entropicSolver) run() {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range s.M.Data { // finite: checked
		if c < lo {
			lo = c
		}
		if c > hi {
			hi = c
		}
	}
	spread := hi - lo
	if s.opt.Method == SinkhornLog {
		s.cur = s.eps
		s.logDomain = true
		s.iterate(s.opt.MaxIter, s.opt.Tol, true)
		return
	}
	start := s.opt.EpsStart
	if start == 0 && s.eps < spread/500 {
		start = spread / 50
	}
	var stages []float64
	for e := start; e > s.eps; e /= 2 {
		stages = append(stages, e)
	}
	stages = append(stages, s.eps)
	if len(stages) == 1 && hi/s.eps > underflowLimit {
		s.initPotentials()
	}
	budget := s.opt.MaxIter
	for k, e := range stages {
		s.setEps(e)
		if k < len(stages)-1 {
			n := min(stageMaxIters, budget-1)
			s.iterate(n, stageTol, false)
			budget -= s.stageIters
			continue
		}
		s.iterate(budget, s.opt.Tol, true)
	}
}

// Each intermediate ε-scaling stage stops at stageTol or after stageIters
// iterations; only the last (target ε) stage runs to Tol.
const (
	stageMaxIters = 40
	stageTol      = 1e-5
)

// underflowLimit bounds M_ij/ε for a kernel entry exp(−M_ij/ε) that is
// safely representable (exp(−600) ≈ 1e-261).
const underflowLimit = 600

// initPotentials starts α, β at the c-transforms of M when the plain kernel
// exp(−M/ε) would have a row or column without a representable entry
// (otherwise α = β = 0: POT's iteration, unchanged).
func (s *entropicSolver) initPotentials() {
	rowMin := make([]float64, s.n)
	colMin := make([]float64, s.m)
	for j := range colMin {
		colMin[j] = math.Inf(1)
	}
	need := false
	for i := 0; i < s.n; i++ {
		mn := math.Inf(1)
		for j, c := range s.M.Row(i) {
			if c < mn {
				mn = c
			}
			if c < colMin[j] {
				colMin[j] = c
			}
		}
		rowMin[i] = mn
		need = need || mn/s.eps > underflowLimit
	}
	for _, c := range colMin {
		need = need || c/s.eps > underflowLimit
	}
	if !need {
		return
	}
	copy(s.alpha, rowMin)
	for j := range s.beta {
		s.beta[j] = math.Inf(1)
	}
	for i := 0; i < s.n; i++ {
		for j, c := range s.M.Row(i) {
			if d := c - s.alpha[i]; d < s.beta[j] {
				s.beta[j] = d
			}
		}
	}
}

// setEps moves to the stage at ε = e: the current scalings are absorbed into
// the potentials and the kernel rebuilt.
func (s *entropicSolver) setEps(e float64) {
	if s.K != nil {
		s.absorb()
	}
	s.cur = e
	if s.logDomain {
		return
	}
	if s.K == nil {
		s.u, s.v, s.ktu = make([]float64, s.n), make([]float64, s.m), make([]float64, s.m)
		for i := range s.u {
			s.u[i] = 1 / float64(s.n)
		}
		for j := range s.v {
			s.v[j] = 1 / float64(s.m)
		}
		s.K = make([]float64, s.n*s.m)
		s.partial = make([][]float64, s.workers)
		for w := range s.partial {
			s.partial[w] = make([]float64, s.m)
		}
		if !s.balanced() {
			s.ea, s.eb = make([]float64, s.n), make([]float64, s.m)
		}
	}
	s.buildKernel()
}

// absorb moves the scalings into the potentials: α += ε log u,
// β += ε log v, u = v = 1.
func (s *entropicSolver) absorb() {
	if s.logDomain {
		return
	}
	for i, x := range s.u {
		s.alpha[i] += s.cur * math.Log(x)
		s.u[i] = 1
	}
	for j, x := range s.v {
		s.beta[j] += s.cur * math.Log(x)
		s.v[j] = 1
	}
}

// buildKernel computes K from α, β and the current ε, and Kᵀu.
func (s *entropicSolver) buildKernel() {
	inv := 1 / s.cur
	parallelRows(s.n, s.workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ai := s.alpha[i]
			row := s.M.Row(i)
			k := s.K[i*s.m : (i+1)*s.m]
			for j, c := range row {
				k[j] = (ai + s.beta[j] - c) * inv
			}
			kexpRow(k)
		}
	})
	if !s.balanced() {
		d := 1 / (s.cur + s.tau)
		for i, x := range s.alpha {
			s.ea[i] = math.Exp(-x * d)
		}
		for j, x := range s.beta {
			s.eb[j] = math.Exp(-x * d)
		}
	}
	s.colPass()
}

// colPass sets ktu = Kᵀu.
func (s *entropicSolver) colPass() {
	s.pass(false)
}

// rowPass updates u from Kv and sets ktu = Kᵀu for the new u, in one sweep
// over K. It reports false when a value left the finite positive range.
func (s *entropicSolver) rowPass() bool {
	return s.pass(true)
}

// pass sweeps K by rows, split among the workers: with update, u_i is first
// recomputed from K_i·v; every row then adds u_i·K_i to the worker's part
// of Kᵀu.
func (s *entropicSolver) pass(update bool) bool {
	fi, omega := s.fi(), s.omega
	ok := make([]bool, s.workers)
	var wg sync.WaitGroup
	chunk := (s.n + s.workers - 1) / s.workers
	for w := 0; w < s.workers; w++ {
		lo, hi := w*chunk, min(s.n, (w+1)*chunk)
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			acc := s.partial[w]
			clear(acc)
			good := true
			rowErr := 0.0
			// newU sets u_i from (Kv)_i.
			newU := func(i int, kv float64) {
				x := s.a[i] / kv
				if fi != 1 {
					x = math.Pow(x, fi) * s.ea[i]
				} else if omega != 1 {
					x = relax(s.u[i], x, omega)
					d := x*kv - s.a[i]
					rowErr += d * d
				}
				if !(x > 0 && x <= math.MaxFloat64) {
					good = false
				}
				s.u[i] = x
			}
			i := lo
			// Four rows at a time: each load of v and of the accumulator
			// serves four rows.
			for ; i+4 <= hi; i += 4 {
				k0, k1, k2, k3 := s.row(i), s.row(i+1), s.row(i+2), s.row(i+3)
				if update {
					kv0, kv1, kv2, kv3 := dot4(k0, k1, k2, k3, s.v)
					newU(i, kv0)
					newU(i+1, kv1)
					newU(i+2, kv2)
					newU(i+3, kv3)
				}
				axpy4(acc, s.u[i], s.u[i+1], s.u[i+2], s.u[i+3], k0, k1, k2, k3)
			}
			for ; i < hi; i++ {
				k := s.row(i)
				if update {
					newU(i, dot(k, s.v))
				}
				axpy(acc, s.u[i], k)
			}
			ok[w] = good
			s.rowErr[w] = rowErr
		}(w, lo, hi)
	}
	wg.Wait()
	copy(s.ktu, s.partial[0])
	for w := 1; w < s.workers; w++ {
		for j, x := range s.partial[w] {
			s.ktu[j] += x
		}
	}
	good := true
	for _, g := range ok {
		good = good && g
	}
	return good
}

// relax returns the over-relaxed update old^(1−ω)·new^ω.
func relax(old, new, omega float64) float64 {
	return math.Exp((1-omega)*math.Log(old) + omega*math.Log(new))
}

// updateV sets v from Kᵀu and reports false when a value left the finite
// positive range.
func (s *entropicSolver) updateV() bool {
	fi := s.fi()
	good := true
	for j, x := range s.ktu {
		y := s.b[j] / x
		if fi != 1 {
			y = math.Pow(y, fi) * s.eb[j]
		} else if s.omega != 1 {
			y = relax(s.v[j], y, s.omega)
		}
		if !(y > 0 && y <= math.MaxFloat64) {
			good = false
		}
		s.v[j] = y
	}
	return good
}

// iterate runs at most n iterations at the current ε, stopping at tol;
// final marks the target-ε stage (whose end sets converged).
func (s *entropicSolver) iterate(n int, tol float64, final bool) {
	s.stageIters = 0
	if s.logDomain {
		s.iterateLog(n, tol, final)
		return
	}
	uprev, vprev := make([]float64, s.n), make([]float64, s.m)
	rebuilt := false
	for it := 0; it < n; it++ {
		copy(uprev, s.u)
		copy(vprev, s.v)
		var good bool
		if s.balanced() {
			good = s.updateV() && s.rowPass()
		} else {
			good = s.rowPass() && s.updateV()
		}
		s.iters++
		s.stageIters++
		if !good {
			copy(s.u, uprev)
			copy(s.v, vprev)
			if rebuilt {
				// A freshly rebuilt kernel failed again: go on in the log
				// domain, which cannot overflow.
				s.absorb()
				s.logDomain = true
				s.iterateLog(n-it-1, tol, final)
				return
			}
			s.absorb()
			s.buildKernel()
			rebuilt = true
			continue
		}
		rebuilt = false
		// The accelerated iteration checks every iteration (the error is a
		// by-product of the pass); plain iterations every 10, as POT.
		check := it%10 == 0 || !final || !s.opt.Plain
		var err float64
		if s.balanced() {
			if check {
				err = s.balancedErr()
				if final && !s.opt.Plain {
					s.adaptOmega(it, err)
				}
			}
		} else {
			err = relChange(s.u, uprev, s.v, vprev)
		}
		if check || !s.balanced() {
			s.lastErr = err
			if err < tol {
				if final {
					s.converged = true
				}
				return
			}
		}
		if outOfRange(s.u) || outOfRange(s.v) {
			s.absorb()
			s.buildKernel()
		}
	}
}

// adaptOmega sets the over-relaxation from the marginal errors seen at
// each iteration it of the final stage: once five plain iterations give
// the contraction rate η of Sinkhorn, ω = 2/(1 + √(1−η)) (Lehmann et al.,
// 2021, capped at 1.8); each time the error then grows over five
// iterations the excess ω − 1 is halved, and below 1.05 the iteration goes
// back to plain Sinkhorn for good.
func (s *entropicSolver) adaptOmega(it int, err float64) {
	const span = 5
	s.errHist = append(s.errHist, err)
	k := len(s.errHist) - 1
	if s.relaxOff || k < span || k%span != 0 {
		return
	}
	prev := s.errHist[k-span]
	if s.omega != 1 {
		if err > prev { // too much: halve the excess, give up near 1
			s.omega = 1 + (s.omega-1)/2
			if s.omega < 1.05 {
				s.omega, s.relaxOff = 1, true
			}
		}
		return
	}
	if k < 2*span { // let the first iterations settle
		return
	}
	eta := math.Pow(err/prev, 1.0/span)
	if eta > 0 && eta < 1 {
		s.omega = math.Min(1.8, 2/(1+math.Sqrt(1-eta)))
	}
}

// balancedErr is ‖v∘Kᵀu − b‖₂, the column-marginal violation (POT's;
// with over-relaxation the row marginal's violation joins it).
func (s *entropicSolver) balancedErr() float64 {
	e := 0.0
	if s.omega != 1 {
		for _, r := range s.rowErr {
			e += r
		}
	}
	for j, x := range s.ktu {
		d := s.v[j]*x - s.b[j]
		e += d * d
	}
	return math.Sqrt(e)
}

// relChange is POT's unbalanced criterion: the mean over u and v of
// max|x − xprev| / max(max|x|, max|xprev|, 1).
func relChange(u, uprev, v, vprev []float64) float64 {
	one := func(x, y []float64) float64 {
		d, mx := 0.0, 1.0
		for i := range x {
			d = math.Max(d, math.Abs(x[i]-y[i]))
			mx = math.Max(mx, math.Max(math.Abs(x[i]), math.Abs(y[i])))
		}
		return d / mx
	}
	return 0.5 * (one(u, uprev) + one(v, vprev))
}

// outOfRange reports whether a scaling left [1/absorbAt, absorbAt].
func outOfRange(x []float64) bool {
	for _, v := range x {
		if v > absorbAt || v < 1/absorbAt {
			return true
		}
	}
	return false
}

// iterateLog runs the log-domain iterations on α, β (the potentials f̂, ĝ).
func (s *entropicSolver) iterateLog(n int, tol float64, final bool) {
	la, lb := logs(s.a), logs(s.b)
	fprev, gprev := make([]float64, s.n), make([]float64, s.m)
	colLSE := make([]float64, s.m)
	for it := 0; it < n; it++ {
		copy(fprev, s.alpha)
		copy(gprev, s.beta)
		fi := s.fi()
		if s.balanced() {
			s.lseCols(s.alpha, colLSE)
			for j := range s.beta {
				s.beta[j] = fi * s.cur * (lb[j] - colLSE[j])
			}
			s.lseRows(s.beta, s.alpha, la, fi)
		} else {
			s.lseRows(s.beta, s.alpha, la, fi)
			s.lseCols(s.alpha, colLSE)
			for j := range s.beta {
				s.beta[j] = fi * s.cur * (lb[j] - colLSE[j])
			}
		}
		s.iters++
		s.stageIters++
		var err float64
		check := true
		if s.balanced() {
			check = it%10 == 0 || !final
			if check {
				s.lseCols(s.alpha, colLSE)
				for j, x := range colLSE {
					d := math.Exp(x+s.beta[j]/s.cur) - s.b[j]
					err += d * d
				}
				err = math.Sqrt(err)
			}
		} else {
			for i := range fprev {
				err = math.Max(err, math.Abs(s.alpha[i]-fprev[i])/s.cur)
			}
			for j := range gprev {
				err = math.Max(err, math.Abs(s.beta[j]-gprev[j])/s.cur)
			}
		}
		if check {
			s.lastErr = err
			if err < tol {
				if final {
					s.converged = true
				}
				return
			}
		}
	}
}

// logs returns log w elementwise.
func logs(w []float64) []float64 {
	out := make([]float64, len(w))
	for i, x := range w {
		out[i] = math.Log(x)
	}
	return out
}

// lseRows sets f_i = fi·ε·(la_i − LSE_j((g_j − M_ij)/ε)).
func (s *entropicSolver) lseRows(g, f, la []float64, fi float64) {
	inv := 1 / s.cur
	parallelRows(s.n, s.workers, func(lo, hi int) {
		vals := make([]float64, s.m)
		for i := lo; i < hi; i++ {
			for j, c := range s.M.Row(i) {
				vals[j] = (g[j] - c) * inv
			}
			f[i] = fi * s.cur * (la[i] - logSumExp(vals))
		}
	})
}

// lseCols sets out_j = LSE_i((f_i − M_ij)/ε).
func (s *entropicSolver) lseCols(f, out []float64) {
	inv := 1 / s.cur
	mx := make([]float64, s.m)
	for j := range mx {
		mx[j] = math.Inf(-1)
	}
	for i := 0; i < s.n; i++ {
		for j, c := range s.M.Row(i) {
			mx[j] = math.Max(mx[j], (f[i]-c)*inv)
		}
	}
	sum := make([]float64, s.m)
	for i := 0; i < s.n; i++ {
		for j, c := range s.M.Row(i) {
			sum[j] += kexp((f[i]-c)*inv - mx[j])
		}
	}
	for j := range out {
		out[j] = mx[j] + math.Log(sum[j])
	}
}

// plan returns the plan and the potentials (on the support); it ends the
// solver (the plan reuses the kernel's storage).
func (s *entropicSolver) plan() *Plan {
	f, g := append([]float64(nil), s.alpha...), append([]float64(nil), s.beta...)
	var T *Matrix
	if !s.logDomain {
		// The kernel is not needed any more: the plan takes its storage.
		T = &Matrix{Rows: s.n, Cols: s.m, Data: s.K}
		s.K = nil
		parallelRows(s.n, s.workers, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				row, ui := T.Row(i), s.u[i]
				for j, v := range s.v {
					row[j] *= ui * v
				}
			}
		})
		for i, x := range s.u {
			f[i] += s.cur * math.Log(x)
		}
		for j := range g {
			g[j] += s.cur * math.Log(s.v[j])
		}
	} else {
		T = Zeros(s.n, s.m)
		for i := 0; i < s.n; i++ {
			row := T.Row(i)
			for j, c := range s.M.Row(i) {
				row[j] = math.Exp((f[i] + g[j] - c) / s.cur)
			}
		}
	}
	for i := range f {
		f[i] -= s.cur * math.Log(s.a[i])
	}
	for j := range g {
		g[j] -= s.cur * math.Log(s.b[j])
	}
	method := "sinkhorn"
	if !s.balanced() {
		method = "sinkhorn unbalanced"
	}
	if s.logDomain {
		method += " (log)"
	}
	return &Plan{T: T, U: f, V: g, Iterations: s.iters, Converged: s.converged,
		Method: fmt.Sprintf("%s ε=%g", method, s.eps)}
}

// parallelRows runs fn over [0, n) split into contiguous blocks, one per
// worker.
func parallelRows(n, workers int, fn func(lo, hi int)) {
	if workers <= 1 || n < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(n, lo+chunk))
	}
	wg.Wait()
}

// row returns row i of the kernel.
func (s *entropicSolver) row(i int) []float64 { return s.K[i*s.m : (i+1)*s.m] }

// avxHead is how many of n entries the AVX2 sweeps take: the leading
// multiple of 4, or none without AVX2.
func avxHead(n int) int {
	if !useAVX2 {
		return 0
	}
	return n &^ 3
}

// dot4 returns the dot products of four rows with v: with AVX2 and FMA
// (sweep_amd64.go) over the leading multiple of 4 entries, in Go for the
// rest.
func dot4(k0, k1, k2, k3, v []float64) (s0, s1, s2, s3 float64) {
	n := len(v)
	k0, k1, k2, k3 = k0[:n], k1[:n], k2[:n], k3[:n]
	head := avxHead(n)
	if head > 0 {
		s0, s1, s2, s3 = dot4AVX(&k0[0], &k1[0], &k2[0], &k3[0], &v[0], head)
	}
	t0, t1, t2, t3 := dot4Go(k0[head:], k1[head:], k2[head:], k3[head:], v[head:])
	return s0 + t0, s1 + t1, s2 + t2, s3 + t3
}

// dot4Go is dot4 in portable Go.
func dot4Go(k0, k1, k2, k3, v []float64) (s0, s1, s2, s3 float64) {
	n := len(v)
	k0, k1, k2, k3 = k0[:n], k1[:n], k2[:n], k3[:n]
	for j, x := range v {
		s0 += k0[j] * x
		s1 += k1[j] * x
		s2 += k2[j] * x
		s3 += k3[j] * x
	}
	return
}

// axpy4 sets y += u0·k0 + u1·k1 + u2·k2 + u3·k3: with AVX2 and FMA
// (sweep_amd64.go) over the leading multiple of 4 entries, in Go for the
// rest.
func axpy4(y []float64, u0, u1, u2, u3 float64, k0, k1, k2, k3 []float64) {
	n := len(y)
	k0, k1, k2, k3 = k0[:n], k1[:n], k2[:n], k3[:n]
	head := avxHead(n)
	if head > 0 {
		axpy4AVX(&y[0], u0, u1, u2, u3, &k0[0], &k1[0], &k2[0], &k3[0], head)
	}
	axpy4Go(y[head:], u0, u1, u2, u3, k0[head:], k1[head:], k2[head:], k3[head:])
}

// axpy4Go is axpy4 in portable Go.
func axpy4Go(y []float64, u0, u1, u2, u3 float64, k0, k1, k2, k3 []float64) {
	n := len(y)
	k0, k1, k2, k3 = k0[:n], k1[:n], k2[:n], k3[:n]
	for j := range y {
		y[j] += (u0*k0[j] + u1*k1[j]) + (u2*k2[j] + u3*k3[j])
	}
}

// dot returns Σ x_i·y_i (four accumulators).
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy sets y += α·x.
func axpy(y []float64, alpha float64, x []float64) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += alpha * x[i]
		y[i+1] += alpha * x[i+1]
		y[i+2] += alpha * x[i+2]
		y[i+3] += alpha * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}
