package merge

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/peft"
	"github.com/graftml/graft/tensor"
)

// The optimiser alone: CMA-ES finds the minimum of a shifted, badly scaled
// quadratic and of Rosenbrock's valley within a few hundred evaluations.
func TestHubCMAESMinimises(t *testing.T) {
	quad := func(x []float64) float64 {
		return (x[0]-0.7)*(x[0]-0.7) + 10*(x[1]+0.4)*(x[1]+0.4) + 100*(x[2]-1.1)*(x[2]-1.1)
	}
	rosen := func(x []float64) float64 {
		return 100*(x[1]-x[0]*x[0])*(x[1]-x[0]*x[0]) + (1-x[0])*(1-x[0])
	}
	for _, tc := range []struct {
		name string
		f    func([]float64) float64
		x0   []float64
		want []float64
	}{
		{"quadratic", quad, []float64{0, 0, 0}, []float64{0.7, -0.4, 1.1}},
		{"Rosenbrock", rosen, []float64{-1, 1}, []float64{1, 1}},
	} {
		best, bx, calls := math.Inf(1), []float64(nil), 0
		f := func(x []float64) float64 {
			calls++
			v := tc.f(x)
			if v < best {
				best, bx = v, slices.Clone(x)
			}
			return v
		}
		hubCMAES(f, tc.x0, 0.5, 1.5, 600, 1, func() bool { return false })
		if calls > 600 {
			t.Errorf("%s: %d evaluations, budget 600", tc.name, calls)
		}
		if loraMaxDiff(bx, tc.want) > 1e-2 {
			t.Errorf("%s: best %v (f %g) after %d evaluations, want %v", tc.name, bx, best, calls, tc.want)
		}
	}
	// Samples stay within the bounds: the minimum at 3 is found at the bound.
	var bx []float64
	best := math.Inf(1)
	hubCMAES(func(x []float64) float64 {
		if math.Abs(x[0]) > 1.5 || math.Abs(x[1]) > 1.5 {
			t.Fatalf("sample %v outside ±1.5", x)
		}
		v := (x[0]-3)*(x[0]-3) + x[1]*x[1]
		if v < best {
			best, bx = v, slices.Clone(x)
		}
		return v
	}, []float64{0, 0}, 0.5, 1.5, 200, 2, func() bool { return false })
	if math.Abs(bx[0]-1.5) > 1e-6 || math.Abs(bx[1]) > 0.05 {
		t.Errorf("bounded minimum at %v, want (1.5, 0)", bx)
	}
}

// hubSetup is a synthetic LoraHub pool: a frozen tanh MLP, three tasks whose
// teachers add a rank-2 update Dₖ to its first layer, and a LoRA trained on
// each; the new task's teacher adds 0.8·D₀ + 0.5·D₁.
type hubSetup struct {
	m                  *peft.Model
	net                *models.MLP
	pool               []string
	fewX, fewY         *tensor.Tensor // 16 examples of the new task
	heldX, heldY       *tensor.Tensor // 512 held-out examples
	deltas             [][]float64    // Dₖ (8, 6)
	mixture            []float64
	trainedRelativeErr []float64 // ‖ΔWₖ − Dₖ‖/‖Dₖ‖ of the trained LoRAs
}

func newHubSetup(t *testing.T) *hubSetup {
	t.Helper()
	r := tensor.NewRNG(42)
	net, err := models.NewMLP(models.MLPConfig{Inputs: 6, Hidden: []int{8}, Classes: 10, Activation: "tanh"}, r)
	if err != nil {
		t.Fatal(err)
	}
	first := net.Layers[0].(*nn.Linear).Weight
	s := &hubSetup{net: net, pool: []string{"t0", "t1", "t2"}, mixture: []float64{0.8, 0.5, 0}}
	for k := 0; k < 3; k++ {
		u := tensor.Randn(r, 8, 2).Scale(0.6)
		v := tensor.Randn(r, 2, 6).Scale(0.6)
		s.deltas = append(s.deltas, loraF64(u.MatMul(v).Data()))
	}
	// teacher returns the base's outputs with Σ cₖ·Dₖ added to its first layer.
	teacher := func(x *tensor.Tensor, c []float64) *tensor.Tensor {
		d := make([]float64, 8*6)
		for k, ck := range c {
			loraAxpy(d, ck, s.deltas[k])
		}
		orig := slices.Clone(first.Data())
		for i := range d {
			first.Data()[i] += float32(d[i])
		}
		y := net.Forward(x).Detach().Clone()
		copy(first.Data(), orig)
		return y
	}
	s.fewX = tensor.Randn(r, 16, 6)
	s.fewY = teacher(s.fewX, s.mixture)
	s.heldX = tensor.Randn(r, 512, 6)
	s.heldY = teacher(s.heldX, s.mixture)
	var trainX, trainY []*tensor.Tensor
	for k := 0; k < 3; k++ {
		x := tensor.Randn(r, 128, 6)
		c := make([]float64, 3)
		c[k] = 1
		trainX, trainY = append(trainX, x), append(trainY, teacher(x, c))
	}
	cfg := peft.NewLoraConfig(2, 2, "0")
	if s.m, err = peft.Inject(net, "t0", cfg); err != nil {
		t.Fatal(err)
	}
	for k, name := range s.pool {
		if k > 0 {
			if err := s.m.AddAdapter(name, cfg); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.m.SetActive(name); err != nil {
			t.Fatal(err)
		}
		l := net.Layers[0].(*peft.LoraLayer)
		opt, err := optim.NewAdam([]*tensor.Tensor{l.LoraA[name].Weight, l.LoraB[name].Weight}, optim.AdamConfig{LR: 0.03})
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 300; step++ {
			opt.ZeroGrad()
			nn.MSELoss(net.Forward(trainX[k]), trainY[k]).Backward()
			opt.Step()
		}
		d, err := l.DeltaWeight(name)
		if err != nil {
			t.Fatal(err)
		}
		var num, den float64
		for i, v := range loraF64(d.Data()) {
			num += (v - s.deltas[k][i]) * (v - s.deltas[k][i])
			den += s.deltas[k][i] * s.deltas[k][i]
		}
		s.trainedRelativeErr = append(s.trainedRelativeErr, math.Sqrt(num/den))
	}
	if err := s.m.SetActive("t0"); err != nil {
		t.Fatal(err)
	}
	return s
}

// loss returns the model's (as it is) squared error on x, y, summed over
// the 10 outputs and averaged over the examples.
func (s *hubSetup) loss(x, y *tensor.Tensor) float64 {
	var l float64
	tensor.WithNoGrad(func() { l = 10 * float64(nn.MSELoss(s.net.Forward(x), y).Item()) })
	return l
}

// heldOut returns the held-out loss with only the named adapter active.
func (s *hubSetup) heldOut(t *testing.T, adapter string) float64 {
	t.Helper()
	defer func(active []string) { _ = s.m.SetActive(active...) }(s.m.Active())
	if err := s.m.SetActive(adapter); err != nil {
		t.Fatal(err)
	}
	return s.loss(s.heldX, s.heldY)
}

func (s *hubSetup) fewShot() (float64, error) { return s.loss(s.fewX, s.fewY), nil }

// LoraHub on the synthetic pool: from 16 examples it finds weights whose
// adapter beats the zero adapter (the base) and uniform weights on held-out
// examples; with the exact composition the weights land near the known
// mixture (0.8, 0.5, 0).
func TestLoraHubFindsTheMixture(t *testing.T) {
	s := newHubSetup(t)
	for k, e := range s.trainedRelativeErr {
		t.Logf("pool adapter %d: relative error of its ΔW %.3f", k, e)
		if e > 0.2 {
			t.Fatalf("pool adapter %d learned its task's update only to a relative error %.3f", k, e)
		}
	}
	var base float64
	if err := s.m.WithDisabled(func() { base = s.loss(s.heldX, s.heldY) }); err != nil {
		t.Fatal(err)
	}
	third := []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}
	for _, mode := range []string{CombineLoraHub, CombineCat} {
		if err := CombineLoRA(s.m, s.pool, third, "uniform-"+mode, CombineOptions{Mode: mode}); err != nil {
			t.Fatal(err)
		}
	}
	uniformHub, uniformExact := s.heldOut(t, "uniform-"+CombineLoraHub), s.heldOut(t, "uniform-"+CombineCat)

	// The paper's set-up: its composition, 40 evaluations, L1 0.05.
	hub, err := LoraHub(s.m, s.pool, s.fewShot, LoraHubOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hub.Objectives) != 40 || len(hub.Best) != 40 || hub.Adapter != "lorahub" {
		t.Errorf("%d evaluations (%d best values) into %q, want 40 into \"lorahub\"", len(hub.Objectives), len(hub.Best), hub.Adapter)
	}
	heldHub := s.heldOut(t, "lorahub")
	t.Logf("%v", hub)
	t.Logf("held-out error: base %.4f, uniform %.4f (exact uniform %.4f), LoraHub %.4f", base, uniformHub, uniformExact, heldHub)
	if !(heldHub < 0.6*uniformHub && heldHub < 0.5*base) {
		t.Errorf("LoraHub's held-out error %.4f is not below 0.6 × uniform weights' %.4f and half the base's %.4f", heldHub, uniformHub, base)
	}
	if !(hub.Objective < hub.InitialObjective) || hub.InitialLoss != hub.Losses[0] {
		t.Errorf("objective %.4g not below the initial %.4g", hub.Objective, hub.InitialObjective)
	}

	// The exact composition is linear in w: the mixture is identifiable.
	exact, err := LoraHub(s.m, s.pool, s.fewShot, LoraHubOptions{Name: "exact", Mode: CombineCat, Evaluations: 150, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	heldExact := s.heldOut(t, "exact")
	t.Logf("%v; held-out error %.4f", exact, heldExact)
	if d := loraMaxDiff(exact.Weights, s.mixture); d > 0.1 {
		t.Errorf("exact composition's weights %.3f, want within 0.1 of the mixture %v", exact.Weights, s.mixture)
	}
	if !(heldExact < 0.2*uniformExact && heldExact < 0.2*base) {
		t.Errorf("exact LoraHub's held-out error %.4f is not below a fifth of uniform weights' %.4f and the base's %.4f", heldExact, uniformExact, base)
	}
	if !slices.Equal(s.m.Active(), []string{"t0"}) {
		t.Errorf("active adapters %q after LoraHub, want the previous [t0]", s.m.Active())
	}
	// Same seed, same search.
	again, err := LoraHub(s.m, s.pool, s.fewShot, LoraHubOptions{Name: "again", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Weights, hub.Weights) || !slices.Equal(again.Objectives, hub.Objectives) {
		t.Errorf("the same seed gave weights %v, then %v", hub.Weights, again.Weights)
	}
	b := hub.Display()
	html, _ := b.Data[display.MIMEHTML].(string)
	if !strings.Contains(html, "t1") || !strings.Contains(html, "<img") || b.Data[display.MIMEPNG] == nil {
		t.Errorf("the display lacks the weights' table or the curve")
	}
}

func TestLoraHubErrors(t *testing.T) {
	m, _ := loraPool(t)
	before := loraState(m)
	ok := func() (float64, error) { return 1, nil }
	calls := 0
	failing := func() (float64, error) {
		calls++
		if calls == 5 {
			return 0, errors.New("out of examples")
		}
		return 1, nil
	}
	for _, tc := range []struct {
		pool []string
		loss func() (float64, error)
		opt  LoraHubOptions
		want string
	}{
		{nil, ok, LoraHubOptions{Mode: CombineCat}, "empty"},
		{[]string{"a", "zz"}, ok, LoraHubOptions{Mode: CombineCat}, `no adapter named "zz"`},
		{[]string{"a", "b"}, ok, LoraHubOptions{}, "needs one rank"},
		{[]string{"a", "b"}, ok, LoraHubOptions{Mode: CombineLinear}, `mode "linear"`},
		{[]string{"a", "b"}, ok, LoraHubOptions{Mode: CombineCat, Evaluations: -3}, "evaluations -3"},
		{[]string{"a", "b"}, ok, LoraHubOptions{Mode: CombineCat, Bound: -1}, "bound -1"},
		{[]string{"a", "b"}, ok, LoraHubOptions{Mode: CombineCat, Init: []float64{1}}, "1 initial weights"},
		{[]string{"a", "b"}, ok, LoraHubOptions{Mode: CombineCat, Init: []float64{0, 2}}, "initial weight 1 is 2"},
		{[]string{"a", "b"}, ok, LoraHubOptions{Mode: CombineCat, Name: "c"}, `already has an adapter named "c"`},
		{[]string{"a", "b"}, nil, LoraHubOptions{Mode: CombineCat}, "needs a loss"},
		{[]string{"a", "b"}, failing, LoraHubOptions{Mode: CombineCat}, "out of examples"},
	} {
		_, err := LoraHub(m, tc.pool, tc.loss, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoraHub(%q, %+v): err %v, want one containing %q", tc.pool, tc.opt, err, tc.want)
		}
		if after := loraState(m); after != before {
			t.Fatalf("LoraHub(%q, %+v) changed the model on error", tc.pool, tc.opt)
		}
	}
}

// LoraHub over the truncated composition: the adapter has the asked rank in
// every module, and the budget is the number of loss calls.
func TestLoraHubSVDMode(t *testing.T) {
	m, net := loraPool(t)
	x := tensor.Randn(tensor.NewRNG(3), 8, 6)
	calls := 0
	loss := func() (float64, error) {
		calls++
		return float64(net.Forward(x).Square().Mean().Item()), nil
	}
	res, err := LoraHub(m, []string{"a", "b", "c"}, loss, LoraHubOptions{Name: "hub", Mode: CombineSVD, Rank: 2, Evaluations: 12, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 12 || len(res.Objectives) != 12 {
		t.Errorf("%d loss calls, %d objectives, want 12", calls, len(res.Objectives))
	}
	for _, mod := range []string{"fc1", "proj"} {
		if r := loraRank(m, mod, "hub"); r != 2 {
			t.Errorf("module %s: rank %d, want 2", mod, r)
		}
	}
	for _, v := range res.Weights {
		if math.Abs(v) > 1.5 {
			t.Errorf("weights %v outside ±1.5", res.Weights)
		}
	}
	if res.Objective != slices.Min(res.Objectives) || res.Best[len(res.Best)-1] != res.Objective {
		t.Errorf("objective %g is not the least evaluated %g", res.Objective, slices.Min(res.Objectives))
	}
	// The adapter left in the model holds the best weights.
	if err := m.SetActive("hub"); err != nil {
		t.Fatal(err)
	}
	if l, _ := loss(); math.Abs(l-res.Loss) > 1e-7 {
		t.Errorf("the adapter's loss %g, the best evaluated %g", l, res.Loss)
	}
}
