package peft

import (
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// shiftedTarget returns the outputs on x of the toy model with its value
// projections' output rows rescaled by factors drawn from seed: a shifted
// task that IA3 on the values fits exactly and an adapter approximates.
func shiftedTarget(x *tensor.Tensor, seed uint64) *tensor.Tensor {
	teacher := newToy(1)
	r := tensor.NewRNG(seed)
	for _, b := range teacher.Layers {
		f := make([]float32, toyDim)
		for o := range f {
			f[o] = float32(0.3 + 1.4*r.Float64())
		}
		for _, p := range nn.NamedParameters(b.Value) { // weight (out, in) and bias (out)
			d := p.Tensor.Data()
			cols := len(d) / toyDim
			for k := range d {
				d[k] *= f[k/cols]
			}
		}
	}
	return teacher.Forward(x)
}

// fit trains the model's trainable parameters on the MSE to target with
// AdamW and returns the final loss.
func fit(t *testing.T, model *toy, x, target *tensor.Tensor, steps int, lr float64) float64 {
	t.Helper()
	opt, err := optim.NewAdamW(nn.TrainableParameters(model), optim.AdamConfig{LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	var loss *tensor.Tensor
	for i := 0; i < steps; i++ {
		loss = model.Forward(x).Sub(target).Square().Mean()
		loss.Backward()
		opt.Step()
		opt.ZeroGrad()
	}
	return float64(model.Forward(x).Sub(target).Square().Mean().Item())
}

// TestAdaptersLearn adapts the frozen toy model to a shifted task with IA3,
// a bottleneck adapter and AdapterFusion over two trained adapters; each
// must cut the frozen model's loss by a clear margin.
func TestAdaptersLearn(t *testing.T) {
	x := tensor.Randn(tensor.NewRNG(11), 64, toyDim)
	target := shiftedTarget(x, 21)
	frozen := float64(newToy(1).Forward(x).Sub(target).Square().Mean().Item())

	model := newToy(1)
	if _, err := Inject(model, "", NewIA3Config([]string{"value"}, nil)); err != nil {
		t.Fatal(err)
	}
	if got := fit(t, model, x, target, 300, 0.05); got > 0.01*frozen {
		t.Errorf("IA3: loss %v, frozen %v", got, frozen)
	} else {
		t.Logf("IA3: loss %.3g, frozen %.3g", got, frozen)
	}

	model = newToy(1)
	seq := BottleneckConfig{TargetModules: []string{"value"}, ReductionFactor: 2, NonLinearity: "tanh", Seed: 1}
	m, err := Inject(model, "shifted", seq)
	if err != nil {
		t.Fatal(err)
	}
	if got := fit(t, model, x, target, 300, 0.02); got > 0.1*frozen {
		t.Errorf("bottleneck: loss %v, frozen %v", got, frozen)
	} else {
		t.Logf("bottleneck: loss %.3g, frozen %.3g", got, frozen)
	}
	// A second adapter trained on another shift, then a fusion over both,
	// trained on the first shift with the adapters frozen.
	seq.Seed = 2
	if err := m.AddAdapter("other", seq); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("other"); err != nil {
		t.Fatal(err)
	}
	fit(t, model, x, shiftedTarget(x, 22), 300, 0.02)
	if err := m.AddAdapter("fusion", FusionConfig{TargetModules: []string{"value"}, Adapters: []string{"other", "shifted"}}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("fusion"); err != nil {
		t.Fatal(err)
	}
	if got := fit(t, model, x, target, 300, 0.01); got > 0.1*frozen {
		t.Errorf("fusion: loss %v, frozen %v", got, frozen)
	} else {
		t.Logf("fusion: loss %.3g, frozen %.3g", got, frozen)
	}
}
