package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// The hand-computed problem: one parameter vector p0 and a different fixed
// gradient at each of three steps. Expected values are PyTorch 1.13's update
// formulas evaluated in float64 (see each case's comment); the optimisers run
// in float32, so they agree to a few ulps.
var (
	p0    = []float32{1, -2, 0.5}
	grads = [][]float32{{0.5, -1, 0.25}, {-0.3, 2, 0}, {0.1, 0.4, -0.8}}
)

// runThree builds an optimiser over a fresh copy of p0, applies the three
// gradients and returns the parameter after each step.
func runThree(t *testing.T, build func(p *tensor.Tensor) (Optimizer, error)) [][]float32 {
	t.Helper()
	p := tensor.New(p0, 3).SetRequiresGrad(true)
	opt, err := build(p)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for _, g := range grads {
		p.SetGrad(tensor.New(g, 3))
		opt.Step()
		out = append(out, append([]float32(nil), p.Data()...))
	}
	return out
}

func assertSteps(t *testing.T, name string, got [][]float32, want [][]float64) {
	t.Helper()
	for s := range want {
		for i, w := range want[s] {
			if d := math.Abs(float64(got[s][i]) - w); d > 2e-6*(1+math.Abs(w)) {
				t.Errorf("%s: step %d element %d = %.9g, want %.9g", name, s+1, i, got[s][i], w)
			}
		}
	}
}

func sgd(cfg SGDConfig) func(p *tensor.Tensor) (Optimizer, error) {
	return func(p *tensor.Tensor) (Optimizer, error) { return NewSGD([]*tensor.Tensor{p}, cfg) }
}

func TestSGDFirstThreeSteps(t *testing.T) {
	cases := []struct {
		name  string
		build func(p *tensor.Tensor) (Optimizer, error)
		want  [][]float64
	}{
		{
			// p ← p − lr·g
			"plain lr=0.1", sgd(SGDConfig{LR: 0.1}),
			[][]float64{{0.95, -1.9, 0.475}, {0.98, -2.1, 0.475}, {0.97, -2.14, 0.555}},
		},
		{
			// b1 = g1; b ← 0.9·b + g; p ← p − 0.1·b
			"momentum 0.9", sgd(SGDConfig{LR: 0.1, Momentum: 0.9}),
			[][]float64{{0.95, -1.9, 0.475}, {0.935, -2.01, 0.4525}, {0.9115, -2.149, 0.51225}},
		},
		{
			// d = g + 0.1·p; b1 = d; b ← 0.9·b + (1−0.5)·d; p ← p − 0.1·b
			"momentum 0.9 dampening 0.5 wd 0.1", sgd(SGDConfig{LR: 0.1, Momentum: 0.9, Dampening: 0.5, WeightDecay: 0.1}),
			[][]float64{{0.94, -1.88, 0.47}, {0.8963, -1.8626, 0.44065}, {0.8474885, -1.857627, 0.45203175}},
		},
		{
			// d = g + 0.1·p; b1 = d; b ← 0.9·b + d; p ← p − 0.1·(d + 0.9·b)
			"nesterov 0.9 wd 0.1", sgd(SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.1, Nesterov: true}),
			[][]float64{{0.886, -1.772, 0.443}, {0.877566, -2.021132, 0.410283}, {0.815275646, -2.118897292, 0.529029323}},
		},
		{
			// p ← p + lr·g
			"maximize", sgd(SGDConfig{LR: 0.1, Maximize: true}),
			[][]float64{{1.05, -2.1, 0.525}, {1.02, -1.9, 0.525}, {1.03, -1.86, 0.445}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertSteps(t, c.name, runThree(t, c.build), c.want) })
	}
}

func TestAdamFirstThreeSteps(t *testing.T) {
	single := func(w bool, cfg AdamConfig) func(p *tensor.Tensor) (Optimizer, error) {
		return func(p *tensor.Tensor) (Optimizer, error) {
			if w {
				return NewAdamW([]*tensor.Tensor{p}, cfg)
			}
			return NewAdam([]*tensor.Tensor{p}, cfg)
		}
	}
	// All cases: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
	// p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + 1e-8), lr = 0.1.
	cases := []struct {
		name  string
		build func(p *tensor.Tensor) (Optimizer, error)
		want  [][]float64
	}{
		{
			// β = (0.9, 0.999); step 1 moves each element by lr·sign(g).
			"adam defaults", single(false, AdamConfig{LR: 0.1}),
			[][]float64{{0.9, -1.9, 0.4}, {0.880850199, -1.936610353, 0.332994182}, {0.855453681, -1.975722955, 0.378537799}},
		},
		{
			// g ← g + 0.1·p before the moments.
			"adam L2 0.1", single(false, AdamConfig{LR: 0.1, WeightDecay: 0.1}),
			[][]float64{{0.9, -1.9, 0.4}, {0.861352997, -1.925017878, 0.32374292}, {0.814717729, -1.950348993, 0.361576974}},
		},
		{
			// β2 = 0.99, v̂ = max(v̂, v) used in the denominator; element 2
			// has g2 = 0, so its v shrinks and AMSGrad keeps the old one.
			"amsgrad beta2 0.99", single(false, AdamConfig{LR: 0.1, Betas: [2]float64{0.9, 0.99}, AMSGrad: true}),
			[][]float64{{0.9, -1.9, 0.4}, {0.880829773, -1.936560772, 0.333178627}, {0.855354082, -1.975702653, 0.378553536}},
		},
		{
			// The same without AMSGrad differs in element 2 only.
			"no amsgrad beta2 0.99", single(false, AdamConfig{LR: 0.1, Betas: [2]float64{0.9, 0.99}}),
			[][]float64{{0.9, -1.9, 0.4}, {0.880829773, -1.936560772, 0.332841993}, {0.855354082, -1.975702653, 0.378216903}},
		},
		{
			// p ← p·(1 − 0.1·0.1) first, then the Adam update with g.
			"adamw wd 0.1", single(true, AdamConfig{LR: 0.1, WeightDecay: 0.1}),
			[][]float64{{0.89, -1.88, 0.395}, {0.861950199, -1.897810353, 0.324044182}, {0.827934179, -1.917944851, 0.366347357}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertSteps(t, c.name, runThree(t, c.build), c.want) })
	}
}

func TestDefaults(t *testing.T) {
	p := tensor.Zeros(2).SetRequiresGrad(true)
	a, err := NewAdam([]*tensor.Tensor{p}, AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Config(); got.Betas != [2]float64{0.9, 0.999} || got.Eps != 1e-8 || a.Groups()[0].LR != 1e-3 || a.Groups()[0].WeightDecay != 0 || a.Kind() != "Adam" {
		t.Errorf("Adam defaults: %+v, lr %v, wd %v, kind %s", got, a.Groups()[0].LR, a.Groups()[0].WeightDecay, a.Kind())
	}
	w, err := NewAdamW([]*tensor.Tensor{p}, AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Groups()[0].WeightDecay != 0.01 || w.Groups()[0].LR != 1e-3 || w.Groups()[0].BaseLR != 1e-3 || w.Kind() != "AdamW" {
		t.Errorf("AdamW defaults: %+v", *w.Groups()[0])
	}
}

func TestValidation(t *testing.T) {
	p := tensor.Zeros(2).SetRequiresGrad(true)
	ps := []*tensor.Tensor{p}
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"negative lr", func() error { _, err := NewSGD(ps, SGDConfig{LR: -0.1}); return err }, "-0.1"},
		{"sgd without lr", func() error { _, err := NewSGD(ps, SGDConfig{}); return err }, "learning rate is required"},
		{"negative momentum", func() error { _, err := NewSGD(ps, SGDConfig{LR: 1, Momentum: -0.5}); return err }, "momentum -0.5"},
		{"nesterov without momentum", func() error { _, err := NewSGD(ps, SGDConfig{LR: 1, Nesterov: true}); return err }, "Nesterov"},
		{"beta1 = 1", func() error { _, err := NewAdam(ps, AdamConfig{Betas: [2]float64{1, 0.999}}); return err }, "beta1 1 "},
		{"beta2 negative", func() error { _, err := NewAdam(ps, AdamConfig{Betas: [2]float64{0.9, -0.2}}); return err }, "beta2 -0.2"},
		{"negative eps", func() error { _, err := NewAdamW(ps, AdamConfig{Eps: -1e-8}); return err }, "eps -1e-08"},
		{"negative weight decay", func() error { _, err := NewAdam(ps, AdamConfig{WeightDecay: -0.01}); return err }, "weight decay -0.01"},
		{"NaN lr", func() error { _, err := NewAdam(ps, AdamConfig{LR: math.NaN()}); return err }, "NaN"},
		{"empty", func() error { _, err := NewAdam(nil, AdamConfig{}); return err }, "empty parameter list"},
		{"nil param", func() error { _, err := NewAdam([]*tensor.Tensor{nil}, AdamConfig{}); return err }, "parameter 0 is nil"},
		{"duplicate", func() error {
			_, err := NewAdamGroups([]ParamGroup{{Name: "a", Params: ps, LR: 1}, {Name: "b", Params: ps, LR: 1}}, AdamConfig{})
			return err
		}, `group 1 ("b"): parameter 0 of shape (2) is also in group 0 ("a")`},
		{"group lr negative", func() error {
			_, err := NewAdamWGroups([]ParamGroup{{Name: "head", Params: ps, LR: -3}}, AdamConfig{})
			return err
		}, `group 0 ("head") learning rate -3`},
		{"cfg LR with groups", func() error { _, err := NewAdamWGroups(Params(ps, 1, 0), AdamConfig{LR: 0.5}); return err }, "AdamConfig.LR (0.5)"},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestGroupsUpdateDifferently(t *testing.T) {
	a := tensor.New([]float32{1, 1}, 2).SetRequiresGrad(true)
	b := tensor.New([]float32{1, 1}, 2).SetRequiresGrad(true)
	groups := []ParamGroup{
		{Name: "features", Params: []*tensor.Tensor{a}, LR: 0.1},
		{Name: "head", Params: []*tensor.Tensor{b}, LR: 0.01, WeightDecay: 0.5},
	}
	opt, err := NewSGDGroups(groups, SGDConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*tensor.Tensor{a, b} {
		p.SetGrad(tensor.New([]float32{1, -1}, 2))
	}
	opt.Step()
	// a: p − 0.1·g = (0.9, 1.1); b: p − 0.01·(g + 0.5·p) = (0.985, 1.005).
	assertSteps(t, "features", [][]float32{a.Data()}, [][]float64{{0.9, 1.1}})
	assertSteps(t, "head", [][]float32{b.Data()}, [][]float64{{0.985, 1.005}})
	if g := opt.Groups(); g[0].BaseLR != 0.1 || g[1].BaseLR != 0.01 || g[1].Name != "head" {
		t.Errorf("groups: %+v %+v", *g[0], *g[1])
	}
	// Groups are live: a new LR takes effect on the next step.
	opt.Groups()[0].LR = 1
	opt.Step()
	assertSteps(t, "features after LR change", [][]float32{a.Data()}, [][]float64{{-0.1, 2.1}})
}

func TestFrozenAndGradlessParamsUntouched(t *testing.T) {
	trained := tensor.New([]float32{1, 2}, 2).SetRequiresGrad(true)
	frozen := tensor.New([]float32{3, 4}, 2) // requires no grad: never gets one
	unused := tensor.New([]float32{5, 6}, 2).SetRequiresGrad(true)
	for _, mk := range []func([]*tensor.Tensor) (Optimizer, error){
		func(ps []*tensor.Tensor) (Optimizer, error) {
			return NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.1})
		},
		func(ps []*tensor.Tensor) (Optimizer, error) { return NewAdam(ps, AdamConfig{WeightDecay: 0.1}) },
		func(ps []*tensor.Tensor) (Optimizer, error) { return NewAdamW(ps, AdamConfig{AMSGrad: true}) },
	} {
		opt, err := mk([]*tensor.Tensor{trained, frozen, unused})
		if err != nil {
			t.Fatal(err)
		}
		trained.SetGrad(tensor.New([]float32{1, 1}, 2))
		before := trained.Data()[0]
		opt.Step()
		opt.Step()
		if trained.Data()[0] == before {
			t.Errorf("%T: the trained parameter did not move", opt)
		}
		if f, u := frozen.Data(), unused.Data(); f[0] != 3 || f[1] != 4 || u[0] != 5 || u[1] != 6 {
			t.Errorf("%T: frozen %v / unused %v changed", opt, f, u)
		}
		st := opt.State()
		if st.Params[0].Step != 2 || st.Params[1].Step != 0 || st.Params[2].Step != 0 || len(st.Params[1].Slots) != 0 || len(st.Params[2].Slots) != 0 {
			t.Errorf("%T: state steps %d %d %d", opt, st.Params[0].Step, st.Params[1].Step, st.Params[2].Step)
		}
		opt.ZeroGrad()
		if g := trained.Grad().Data(); g[0] != 0 || g[1] != 0 {
			t.Errorf("%T: ZeroGrad left %v", opt, g)
		}
		if unused.Grad() != nil {
			t.Errorf("ZeroGrad gave a gradless parameter a gradient")
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	a := tensor.Zeros(1).SetRequiresGrad(true)
	b := tensor.Zeros(1).SetRequiresGrad(true)
	none := tensor.Zeros(3).SetRequiresGrad(true)
	set := func() {
		a.SetGrad(tensor.New([]float32{3}, 1))
		b.SetGrad(tensor.New([]float32{-4}, 1))
	}
	set()
	ps := []*tensor.Tensor{a, b, none}
	if n := ClipGradNorm(ps, 10); n != 5 {
		t.Errorf("norm %v, want 5", n)
	}
	if a.Grad().Data()[0] != 3 || b.Grad().Data()[0] != -4 {
		t.Errorf("a norm below the maximum changed the gradients: %v %v", a.Grad().Data(), b.Grad().Data())
	}
	if n := ClipGradNorm(ps, 1); n != 5 {
		t.Errorf("norm %v, want 5", n)
	}
	// Scaled by 1/(5+1e-6): (0.6, −0.8) to float32 precision.
	assertSteps(t, "clipped", [][]float32{{a.Grad().Data()[0], b.Grad().Data()[0]}}, [][]float64{{3 / (5 + 1e-6), -4 / (5 + 1e-6)}})
	if n := GradNorm(ps); math.Abs(n-1) > 1e-6 {
		t.Errorf("norm after clipping %v, want 1", n)
	}
	set()
	ClipGradValue(ps, 3.5)
	if a.Grad().Data()[0] != 3 || b.Grad().Data()[0] != -3.5 {
		t.Errorf("ClipGradValue: %v %v, want 3 −3.5", a.Grad().Data(), b.Grad().Data())
	}
}

func TestScheduleFactors(t *testing.T) {
	cases := []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"constant", Constant{}, 123, 1},
		{"step decay before", StepDecay{Every: 10, Gamma: 0.5}, 9, 1},
		{"step decay after one period", StepDecay{Every: 10, Gamma: 0.5}, 10, 0.5},
		{"step decay after two", StepDecay{Every: 10, Gamma: 0.5}, 25, 0.25},
		{"cosine start", Cosine{Total: 100}, 0, 1},
		{"cosine half", Cosine{Total: 100}, 50, 0.5},
		{"cosine quarter", Cosine{Total: 100}, 25, (1 + math.Sqrt2/2) / 2}, // (1+cos(π/4))/2
		{"cosine end", Cosine{Total: 100}, 100, 0},
		{"cosine after end", Cosine{Total: 100}, 150, 0},
		{"cosine half min 0.1", Cosine{Total: 100, Min: 0.1}, 50, 0.55}, // 0.1 + 0.9·0.5
		{"warmup first", Warmup{Steps: 10}, 0, 0},
		{"warmup linear", Warmup{Steps: 10}, 3, 0.3},
		{"warmup done", Warmup{Steps: 10}, 10, 1},
		{"warmup cosine warming", WarmupCosine{Warmup: 10, Total: 110}, 5, 0.5},
		{"warmup cosine peak", WarmupCosine{Warmup: 10, Total: 110}, 10, 1},
		{"warmup cosine half", WarmupCosine{Warmup: 10, Total: 110}, 60, 0.5},
		{"warmup cosine end", WarmupCosine{Warmup: 10, Total: 110, Min: 0.2}, 110, 0.2},
		{"warmup linear decay", WarmupLinear{Warmup: 10, Total: 110}, 85, 0.25},              // (110−85)/100
		{"warmup linear decay min", WarmupLinear{Warmup: 10, Total: 110, Min: 0.2}, 60, 0.6}, // 0.2 + 0.8·0.5
		{"warmup linear after end", WarmupLinear{Warmup: 10, Total: 110}, 200, 0},
		{"dann start", DANNDecay{Total: 1000}, 0, 1},
		{"dann half", DANNDecay{Total: 1000}, 500, 0.26084743001221455}, // 1/(1+10·0.5)^0.75 = 6^−0.75
		{"dann end", DANNDecay{Total: 1000}, 1000, 0.16556002607617018}, // 11^−0.75
		{"dann custom", DANNDecay{Total: 10, Alpha: 1, Beta: 1}, 5, 1 / 1.5},
		{"func", ScheduleFunc(func(s int) float64 { return float64(s) * 2 }), 4, 8},
	}
	for _, c := range cases {
		if got := c.s.Factor(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Factor(%d) = %v, want %v", c.name, c.step, got, c.want)
		}
		if err := ValidateSchedule(c.s); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, bad := range []Schedule{Cosine{}, StepDecay{Gamma: 0.5}, WarmupCosine{Warmup: 10, Total: 10}, WarmupLinear{Warmup: -1, Total: 5}, Cosine{Total: 5, Min: 2}, DANNDecay{}} {
		if err := ValidateSchedule(bad); err == nil {
			t.Errorf("%#v: no validation error", bad)
		}
	}
}

func TestApplySchedule(t *testing.T) {
	a := tensor.Zeros(1).SetRequiresGrad(true)
	b := tensor.Zeros(1).SetRequiresGrad(true)
	opt, err := NewAdamWGroups([]ParamGroup{{Params: []*tensor.Tensor{a}, LR: 1e-4}, {Params: []*tensor.Tensor{b}, LR: 1.6e-3}}, AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	Apply(opt, Cosine{Total: 10}, 5)
	if g := opt.Groups(); g[0].LR != 0.5e-4 || g[1].LR != 0.8e-3 || g[0].BaseLR != 1e-4 {
		t.Errorf("after Apply: %v %v (base %v)", g[0].LR, g[1].LR, g[0].BaseLR)
	}
	Apply(opt, nil, 7)
	if opt.Groups()[0].LR != 0.5e-4 {
		t.Errorf("a nil schedule changed the LR")
	}
}

// TestStateRoundTrip checks that an optimiser rebuilt from State continues
// bit-identically, and that State is a deep copy.
func TestStateRoundTrip(t *testing.T) {
	builders := map[string]func([]*tensor.Tensor) (Optimizer, error){
		"sgd": func(ps []*tensor.Tensor) (Optimizer, error) {
			return NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 0.01})
		},
		"adam": func(ps []*tensor.Tensor) (Optimizer, error) { return NewAdam(ps, AdamConfig{LR: 0.05, AMSGrad: true}) },
		"adamw": func(ps []*tensor.Tensor) (Optimizer, error) {
			return NewAdamW(ps, AdamConfig{LR: 0.05, Betas: [2]float64{0.8, 0.95}})
		},
	}
	for name, build := range builders {
		t.Run(name, func(t *testing.T) {
			mk := func() []*tensor.Tensor {
				return []*tensor.Tensor{tensor.New(p0, 3).SetRequiresGrad(true), tensor.New([]float32{0.5, -0.5}, 2, 1).SetRequiresGrad(true)}
			}
			setGrads := func(ps []*tensor.Tensor, s int) {
				ps[0].SetGrad(tensor.New(grads[s%3], 3))
				ps[1].SetGrad(tensor.New([]float32{float32(s) - 1, 0.5}, 2, 1))
			}
			ref := mk()
			refOpt, err := build(ref)
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < 2; s++ {
				setGrads(ref, s)
				refOpt.Step()
			}
			refOpt.Groups()[0].LR *= 0.5 // as a schedule would
			st := refOpt.State()
			// A new optimiser over copies of the parameters.
			cp := mk()
			for i := range cp {
				cp[i].CopyFrom(ref[i])
			}
			cpOpt, err := build(cp)
			if err != nil {
				t.Fatal(err)
			}
			if err := cpOpt.LoadState(st); err != nil {
				t.Fatal(err)
			}
			for s := 2; s < 5; s++ {
				setGrads(ref, s)
				setGrads(cp, s)
				refOpt.Step()
				cpOpt.Step()
				if s == 2 {
					// Stepping must not have changed the snapshot.
					if st.Params[0].Step != 2 {
						t.Fatalf("snapshot step changed to %d", st.Params[0].Step)
					}
				}
			}
			for i := range ref {
				for j, v := range ref[i].Data() {
					if math.Float32bits(v) != math.Float32bits(cp[i].Data()[j]) {
						t.Fatalf("param %d[%d]: %v after a state round trip, %v straight", i, j, cp[i].Data()[j], v)
					}
				}
			}
			if cpOpt.Groups()[0].LR != refOpt.Groups()[0].LR {
				t.Errorf("group LR %v not restored (want %v)", cpOpt.Groups()[0].LR, refOpt.Groups()[0].LR)
			}
		})
	}
}

func TestLoadStateRejectsMismatch(t *testing.T) {
	p := tensor.New(p0, 3).SetRequiresGrad(true)
	opt, _ := NewAdam([]*tensor.Tensor{p}, AdamConfig{})
	p.SetGrad(tensor.New(grads[0], 3))
	opt.Step()
	good := opt.State()

	q := tensor.New([]float32{1, 2}, 2).SetRequiresGrad(true)
	other, _ := NewAdam([]*tensor.Tensor{q}, AdamConfig{})
	q.SetGrad(tensor.New([]float32{1, 1}, 2))
	other.Step()
	before := other.State()
	if err := other.LoadState(good); err == nil || !strings.Contains(err.Error(), `"exp_avg" has shape (3), the parameter (2)`) && !strings.Contains(err.Error(), `"exp_avg_sq" has shape (3), the parameter (2)`) {
		t.Errorf("shape mismatch: %v", err)
	}
	sgdOpt, _ := NewSGD([]*tensor.Tensor{p}, SGDConfig{LR: 1})
	if err := sgdOpt.LoadState(good); err == nil || !strings.Contains(err.Error(), `from an optimiser of kind "Adam"`) {
		t.Errorf("kind mismatch: %v", err)
	}
	good.Kind = "SGD"
	good.Hyper = map[string]float64{"momentum": 0, "dampening": 0, "nesterov": 0, "maximize": 0}
	if err := sgdOpt.LoadState(good); err == nil || !strings.Contains(err.Error(), `unknown state tensor "exp_avg`) {
		t.Errorf("slots of another optimiser: %v", err)
	}
	after := other.State()
	if after.Params[0].Step != before.Params[0].Step || after.Params[0].Slots[SlotExpAvg].Data()[0] != before.Params[0].Slots[SlotExpAvg].Data()[0] {
		t.Errorf("a failed LoadState changed the optimiser")
	}
	other.Reset()
	if st := other.State(); st.Params[0].Step != 0 || len(st.Params[0].Slots) != 0 {
		t.Errorf("Reset kept state: %+v", st.Params[0])
	}
}

// TestStepAllocations checks that steady-state steps allocate nothing.
func TestStepAllocations(t *testing.T) {
	ps := []*tensor.Tensor{tensor.Zeros(64, 64).SetRequiresGrad(true), tensor.Zeros(64).SetRequiresGrad(true)}
	for _, p := range ps {
		p.SetGrad(tensor.Ones(p.Shape()...))
	}
	opt, _ := NewAdamW(ps, AdamConfig{AMSGrad: true})
	opt.Step()
	allocs := testing.AllocsPerRun(20, opt.Step)
	if allocs != 0 {
		t.Errorf("Adam step allocates %v times for %d parameters", allocs, len(ps))
	}
	sgdOpt, _ := NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9})
	sgdOpt.Step()
	if allocs := testing.AllocsPerRun(20, sgdOpt.Step); allocs != 0 {
		t.Errorf("SGD step allocates %v times for %d parameters", allocs, len(ps))
	}
	t.Logf("allocations per step: %v", allocs)
}

func TestString(t *testing.T) {
	p := tensor.Zeros(2).SetRequiresGrad(true)
	w, _ := NewAdamWGroups([]ParamGroup{{Name: "lora_B", Params: []*tensor.Tensor{p}, LR: 0.016}}, AdamConfig{})
	if got, want := w.String(), `AdamW(betas (0.9, 0.999), eps 1e-08, amsgrad false; group 0 ("lora_B"): 1 params, lr 0.016, weight decay 0)`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	s, _ := NewSGD([]*tensor.Tensor{p}, SGDConfig{LR: 0.1, Momentum: 0.9})
	if got, want := s.String(), "SGD(momentum 0.9, dampening 0, nesterov false; group 0: 1 params, lr 0.1, weight decay 0)"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}
