package merge

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/peft"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/table"
)

// LoraHubOptions are the settings of LoraHub; the zero value is the paper's
// set-up (LoraHub's composition, weights from 0 within ±1.5, L1 weight 0.05,
// 40 evaluations).
type LoraHubOptions struct {
	// Name is the composed adapter's name ("": "lorahub").
	Name string
	// Mode is how a candidate w composes the pool: CombineLoraHub (the
	// default, ""), the paper's A = Σ wᵢAᵢ, B = Σ wᵢBᵢ — the default
	// because it is the method the paper reports, and it keeps the pool's
	// rank — or CombineCat, the exact ΔW = Σ wᵢ·ΔWᵢ at rank Σrᵢ, or
	// CombineSVD, that sum truncated to Rank. The exact composition is
	// linear in w and can express any mixture of the pool's updates, which
	// the paper's cannot (its cross terms Bᵢ·Aⱼ, its symmetry w → −w): where
	// the task is such a mixture it fits far better and its weights read as
	// the mixture's.
	Mode string
	// Rank is CombineSVD's rank (0: the largest rank in the pool).
	Rank int
	// Evaluations is the budget of loss evaluations, the first at Init (0:
	// 40, the paper's "max inference step").
	Evaluations int
	// Bound limits each weight to [−Bound, Bound]: candidates outside are
	// clipped (0: 1.5, the paper's).
	Bound float64
	// L1 weighs the penalty L1·mean|wᵢ| added to the loss (0: 0.05, the
	// paper's); a negative value turns the penalty off.
	L1 float64
	// Step is CMA-ES's initial step size (0: 0.5).
	Step float64
	// Init holds the starting weights (nil: all 0, as the paper).
	Init []float64
	// Seed seeds CMA-ES's samples: the same seed gives the same search.
	Seed uint64
}

// LoraHubResult is what LoraHub found: the pool's weights and the course of
// the search. It shows itself as a table of the weights and a chart of the
// objective over the evaluations.
type LoraHubResult struct {
	Adapter string    // the composed adapter, added to the model
	Mode    string    // the composition searched over
	Pool    []string  // the pool's adapters, in the order of Weights
	Weights []float64 // the best weights found, within the bounds
	// Loss is the loss at Weights, Objective that plus the L1 penalty.
	Loss, Objective float64
	// InitialLoss and InitialObjective are those at the starting weights
	// (with the default Init 0, the base model's loss).
	InitialLoss, InitialObjective float64
	// Losses and Objectives hold every evaluation's values, in order; Best
	// the best objective so far after each.
	Losses, Objectives, Best []float64
}

// LoraHub searches, without gradients, the weights w with which the pool's
// LoRA adapters compose into a new adapter for a task known from a few
// examples (Huang et al., LoraHub, 2023): CMA-ES minimises loss() + L1·mean|w|
// over w in [−Bound, Bound]ⁿ within a budget of evaluations, loss being the
// caller's few-shot loss of m with the composed adapter the only active one
// (loss runs without gradient tracking). The composed adapter, holding the
// best weights, stays in m under opt.Name, inactive; the adapters active
// before are active again. The pool's adapters must be LoRA adapters as
// CombineLoRA requires. On error (a bad option, or an error from loss) m is
// unchanged.
func LoraHub(m *peft.Model, pool []string, loss func() (float64, error), opt LoraHubOptions) (*LoraHubResult, error) {
	o, err := opt.withDefaults(len(pool))
	if err != nil {
		return nil, err
	}
	if loss == nil {
		return nil, fmt.Errorf("merge: LoraHub needs a loss function")
	}
	p, err := gatherPool(m, pool, o.Name, "LoraHub")
	if err != nil {
		return nil, err
	}
	if err := p.checkMode(o.Mode, nil); err != nil {
		return nil, err
	}
	rank := CombineOptions{Rank: o.Rank}.rank(p)
	facs, err := p.compose(o.Mode, o.Init, rank)
	if err != nil {
		return nil, err
	}
	if err := p.install(o.Name, facs); err != nil {
		return nil, err
	}
	active := m.Active()
	res, err := p.search(o, rank, loss)
	if err == nil {
		var facs []factors
		if facs, err = p.compose(o.Mode, res.Weights, rank); err == nil {
			p.write(o.Name, facs)
		}
	}
	if err != nil {
		_ = m.SetActive(active...)
		_ = m.DeleteAdapter(o.Name)
		return nil, err
	}
	if err := m.SetActive(active...); err != nil {
		return nil, err
	}
	return res, nil
}

// withDefaults checks the options and fills in the defaults, for n adapters.
func (o LoraHubOptions) withDefaults(n int) (LoraHubOptions, error) {
	if o.Name == "" {
		o.Name = "lorahub"
	}
	switch o.Mode {
	case "":
		o.Mode = CombineLoraHub
	case CombineLoraHub, CombineCat, CombineSVD:
	default:
		return o, fmt.Errorf("merge: LoraHub mode %q: want %q, %q or %q", o.Mode, CombineLoraHub, CombineCat, CombineSVD)
	}
	if o.Rank < 0 {
		return o, fmt.Errorf("merge: LoraHub rank %d must be positive (0 takes the largest rank in the pool)", o.Rank)
	}
	if o.Evaluations < 0 {
		return o, fmt.Errorf("merge: LoraHub evaluations %d must be positive (0: 40)", o.Evaluations)
	}
	if o.Evaluations == 0 {
		o.Evaluations = 40
	}
	if !(o.Bound >= 0) || math.IsInf(o.Bound, 0) {
		return o, fmt.Errorf("merge: LoraHub bound %g must be positive and finite (0: 1.5)", o.Bound)
	}
	if o.Bound == 0 {
		o.Bound = 1.5
	}
	switch {
	case math.IsNaN(o.L1) || math.IsInf(o.L1, 0):
		return o, fmt.Errorf("merge: LoraHub L1 weight %g must be finite", o.L1)
	case o.L1 == 0:
		o.L1 = 0.05
	case o.L1 < 0:
		o.L1 = 0
	}
	if !(o.Step >= 0) || math.IsInf(o.Step, 0) {
		return o, fmt.Errorf("merge: LoraHub step %g must be positive and finite (0: 0.5)", o.Step)
	}
	if o.Step == 0 {
		o.Step = 0.5
	}
	if o.Init == nil {
		o.Init = make([]float64, n)
	} else {
		if len(o.Init) != n {
			return o, fmt.Errorf("merge: LoraHub: %d initial weights for a pool of %d adapters", len(o.Init), n)
		}
		for i, v := range o.Init {
			if !(math.Abs(v) <= o.Bound) {
				return o, fmt.Errorf("merge: LoraHub: initial weight %d is %g, outside [−%g, %g]", i, v, o.Bound, o.Bound)
			}
		}
		o.Init = slices.Clone(o.Init)
	}
	return o, nil
}

// search runs CMA-ES over the weights, writing each candidate into the
// composed adapter (made the only active one) before calling loss.
func (p *pool) search(o LoraHubOptions, rank int, loss func() (float64, error)) (*LoraHubResult, error) {
	if err := p.m.SetActive(o.Name); err != nil {
		return nil, err
	}
	res := &LoraHubResult{Adapter: o.Name, Mode: o.Mode, Pool: slices.Clone(p.adapters)}
	best := math.Inf(1)
	var failed error
	eval := func(x []float64) float64 {
		if failed != nil || len(res.Objectives) >= o.Evaluations {
			return math.Inf(1)
		}
		w := make([]float64, len(x))
		pen := 0.0
		for i, v := range x {
			w[i] = math.Max(-o.Bound, math.Min(o.Bound, v))
			pen += math.Abs(w[i])
		}
		pen *= o.L1 / float64(len(w))
		facs, err := p.compose(o.Mode, w, rank)
		if err != nil {
			failed = err
			return math.Inf(1)
		}
		p.write(o.Name, facs)
		var l float64
		tensor.WithNoGrad(func() { l, err = loss() })
		if err != nil {
			failed = fmt.Errorf("merge: LoraHub: the loss at weights %.4g: %w", w, err)
			return math.Inf(1)
		}
		obj := l + pen
		res.Losses = append(res.Losses, l)
		res.Objectives = append(res.Objectives, obj)
		if math.IsNaN(obj) {
			obj = math.Inf(1) // never the best
		}
		if obj < best || len(res.Weights) == 0 {
			best = obj
			res.Weights, res.Loss, res.Objective = w, l, res.Objectives[len(res.Objectives)-1]
		}
		res.Best = append(res.Best, best)
		return obj
	}
	eval(o.Init)
	if failed != nil {
		return nil, failed
	}
	res.InitialLoss, res.InitialObjective = res.Losses[0], res.Objectives[0]
	hubCMAES(eval, o.Init, o.Step, o.Bound, o.Evaluations-1, o.Seed, func() bool { return failed != nil })
	if failed != nil {
		return nil, failed
	}
	return res, nil
}

// Table lists the pool's adapters with their weights, and the loss and
// objective before and after the search.
func (r *LoraHubResult) Table() *table.Table {
	t := table.New("adapter", "weight")
	t.Caption = fmt.Sprintf("LoraHub (%s composition) → adapter %q after %d evaluations", r.Mode, r.Adapter, len(r.Objectives))
	for i, a := range r.Pool {
		_ = t.AddRow(a, r.Weights[i])
	}
	_ = t.SetFooter("loss (objective)", fmt.Sprintf("%.4g (%.4g), initially %.4g (%.4g)", r.Loss, r.Objective, r.InitialLoss, r.InitialObjective))
	return t
}

// Curve draws the objective of each evaluation and the best so far.
func (r *LoraHubResult) Curve() (*viz.Figure, error) {
	return viz.Lines([]viz.Series{
		{Name: "evaluated", Y: r.Objectives, Points: true},
		{Name: "best so far", Y: r.Best},
	}, viz.LineOptions{Options: viz.Options{Title: "LoraHub: loss + L1 penalty", XLabel: "evaluation", YLabel: "objective", Width: 5, Height: 3.2}})
}

// String summarises the result: the weights and the objective's course.
func (r *LoraHubResult) String() string {
	var ws []string
	for i, a := range r.Pool {
		ws = append(ws, fmt.Sprintf("%s %.3f", a, r.Weights[i]))
	}
	return fmt.Sprintf("LoraHub %q (%s): loss %.4g → %.4g (objective %.4g → %.4g) in %d evaluations; weights %s",
		r.Adapter, r.Mode, r.InitialLoss, r.Loss, r.InitialObjective, r.Objective, len(r.Objectives), strings.Join(ws, ", "))
}

// Display shows the weights' table and the objective's curve.
func (r *LoraHubResult) Display() display.Bundle {
	t := r.Table()
	f, err := r.Curve()
	return viz.TableBundle(r.String()+"\n"+t.String(), t.HTML(), f, err)
}

// hubCMAES minimises f from x0 by CMA-ES (Hansen, "The CMA Evolution
// Strategy: A Tutorial", 2016, with its default population and learning
// rates) within budget evaluations, the samples clipped to [−bound, bound]
// (the clipped points also drive the updates) and drawn from a generator
// seeded by seed; it stops early when stop reports true. gonum's CmaEsChol
// would serve, but its package needs a module graft does not require.
func hubCMAES(f func([]float64) float64, x0 []float64, sigma, bound float64, budget int, seed uint64, stop func() bool) {
	n := len(x0)
	nf := float64(n)
	lambda := 4 + int(3*math.Log(nf))
	mu := lambda / 2
	wts := make([]float64, mu)
	var sum, sq float64
	for i := range wts {
		wts[i] = math.Log(float64(mu)+0.5) - math.Log(float64(i+1))
		sum += wts[i]
	}
	for i := range wts {
		wts[i] /= sum
		sq += wts[i] * wts[i]
	}
	muEff := 1 / sq
	cc := (4 + muEff/nf) / (nf + 4 + 2*muEff/nf)
	cs := (muEff + 2) / (nf + muEff + 5)
	c1 := 2 / ((nf+1.3)*(nf+1.3) + muEff)
	cmu := math.Min(1-c1, 2*(muEff-2+1/muEff)/((nf+2)*(nf+2)+muEff))
	ds := 1 + 2*math.Max(0, math.Sqrt((muEff-1)/(nf+1))-1) + cs
	chi := math.Sqrt(nf) * (1 - 1/(4*nf) + 1/(21*nf*nf))

	rng := tensor.NewRNG(seed)
	mean := slices.Clone(x0)
	c := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		c.SetSym(i, i, 1)
	}
	pc, ps := make([]float64, n), make([]float64, n)
	type sample struct {
		x []float64
		f float64
	}
	used := 0
	for gen := 1; used < budget && !stop(); gen++ {
		// C = B·diag(d²)·Bᵀ.
		var eig mat.EigenSym
		if !eig.Factorize(c, true) {
			return
		}
		d := eig.Values(nil)
		var b mat.Dense
		eig.VectorsTo(&b)
		for i := range d {
			d[i] = math.Sqrt(math.Max(d[i], 1e-20))
		}
		pop := make([]sample, 0, lambda)
		for k := 0; k < lambda && used < budget && !stop(); k++ {
			z := make([]float64, n)
			for i := range z {
				z[i] = rng.NormFloat64() * d[i]
			}
			x := make([]float64, n)
			for i := range x {
				v := mean[i]
				for j := range z {
					v += sigma * b.At(i, j) * z[j]
				}
				x[i] = math.Max(-bound, math.Min(bound, v))
			}
			pop = append(pop, sample{x, f(x)})
			used++
		}
		if len(pop) < lambda {
			return // the budget ran out within the generation
		}
		slices.SortStableFunc(pop, func(a, b sample) int { return cmpFloat(a.f, b.f) })
		old := slices.Clone(mean)
		for i := range mean {
			mean[i] = 0
			for k := 0; k < mu; k++ {
				mean[i] += wts[k] * pop[k].x[i]
			}
		}
		yw := make([]float64, n)
		for i := range yw {
			yw[i] = (mean[i] - old[i]) / sigma
		}
		// C^(−1/2)·yw = B·diag(1/d)·Bᵀ·yw.
		bt := make([]float64, n)
		for j := 0; j < n; j++ {
			for i := 0; i < n; i++ {
				bt[j] += b.At(i, j) * yw[i]
			}
			bt[j] /= d[j]
		}
		norm := 0.0
		for i := range ps {
			v := 0.0
			for j := 0; j < n; j++ {
				v += b.At(i, j) * bt[j]
			}
			ps[i] = (1-cs)*ps[i] + math.Sqrt(cs*(2-cs)*muEff)*v
			norm += ps[i] * ps[i]
		}
		norm = math.Sqrt(norm)
		hs := 0.0
		if norm/math.Sqrt(1-math.Pow(1-cs, 2*float64(gen))) < (1.4+2/(nf+1))*chi {
			hs = 1
		}
		for i := range pc {
			pc[i] = (1-cc)*pc[i] + hs*math.Sqrt(cc*(2-cc)*muEff)*yw[i]
		}
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				v := (1-c1-cmu)*c.At(i, j) + c1*(pc[i]*pc[j]+(1-hs)*cc*(2-cc)*c.At(i, j))
				for k := 0; k < mu; k++ {
					v += cmu * wts[k] * (pop[k].x[i] - old[i]) * (pop[k].x[j] - old[j]) / (sigma * sigma)
				}
				c.SetSym(i, j, v)
			}
		}
		sigma *= math.Exp(cs / ds * (norm/chi - 1))
	}
}

// cmpFloat orders floats, NaN last.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case math.IsNaN(a) && !math.IsNaN(b):
		return 1
	case math.IsNaN(b) && !math.IsNaN(a):
		return -1
	}
	return 0
}
