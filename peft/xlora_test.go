package peft

import (
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

func TestXLoraByHand(t *testing.T) {
	_, m := handNet(t)
	xl, err := NewXLora(m, XLoraOptions{Experts: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	g := xl.Gate(0)
	g.Weight.Fill(0)
	g.Bias.CopyFrom(tensor.New([]float32{float32(math.Log(3)), 0}, 2))
	// λ = softmax(ln 3, 0) = (0.75, 0.25); at x = (1, 1):
	// Wx + 0.75·ΔW_a x + 0.25·ΔW_b x = (3, -1) + 0.75·(2, 2) + 0.25·(1, -1).
	y, err := xl.Forward(tensor.New([]float32{1, 1}, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{4.75, 0.25}
	for i, v := range want {
		if math.Abs(float64(y.Data()[i]-v)) > 1e-6 {
			t.Fatalf("got %v, want %v", y.Data(), want)
		}
	}
	// Sigmoid gate: λ = (σ(ln 3), σ(0)) = (0.75, 0.5).
	xs, _ := NewXLora(m, XLoraOptions{Experts: []string{"a", "b"}, Sigmoid: true})
	xs.Gate(0).Weight.Fill(0)
	xs.Gate(0).Bias.CopyFrom(g.Bias)
	y, _ = xs.Forward(tensor.New([]float32{1, 1}, 1, 2))
	want = []float32{3 + 1.5 + 0.5, -1 + 1.5 - 0.5}
	for i, v := range want {
		if math.Abs(float64(y.Data()[i]-v)) > 1e-6 {
			t.Fatalf("sigmoid: got %v, want %v", y.Data(), want)
		}
	}
}

// toyExperts returns the toy model with three LoRA experts on query and
// c_proj, their B randomised.
func toyExperts(t *testing.T) (*toy, *Model) {
	t.Helper()
	model := newToy(21)
	m, err := Inject(model, "e0", LoraConfig{R: 2, Alpha: 2, TargetModules: []string{"query", "c_proj"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range []string{"e1", "e2"} {
		if err := m.AddAdapter(e, LoraConfig{R: 2, Alpha: 2, TargetModules: []string{"query", "c_proj"}, Seed: uint64(2 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range []string{"e0", "e1", "e2"} {
		randomiseB(t, m, e, uint64(30+i))
	}
	return model, m
}

// TestXLoraOneHot fixes every gate to one expert with top-1: the mixture is
// that expert alone, on 2-D and 3-D inputs.
func TestXLoraOneHot(t *testing.T) {
	model, m := toyExperts(t)
	experts := []string{"e0", "e1", "e2"}
	// Another active LoRA adapter, on modules without experts, applies in
	// neither pass.
	if err := m.AddAdapter("o", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"value"}}); err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "o", 24)
	if err := m.SetActive("e1", "o"); err != nil {
		t.Fatal(err)
	}
	xl, err := NewXLora(m, XLoraOptions{Experts: experts, TopK: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := xl.Modules(); len(got) != 4 {
		t.Fatalf("gated modules %q, want the 4 targets", got)
	}
	for e, name := range experts {
		for i := range xl.Modules() {
			b := make([]float32, 3)
			b[e] = 1
			xl.Gate(i).Bias.CopyFrom(tensor.New(b, 3))
			xl.Gate(i).Weight.Fill(0)
		}
		for _, in := range []*tensor.Tensor{toyInput(22), tensor.Randn(tensor.NewRNG(23), 2, 3, toyDim)} {
			y, err := xl.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SetActive(name); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(y, model.Forward(in)); d > 1e-6 {
				t.Fatalf("gate one-hot on %q, input %v: differs from the expert alone by %g", name, in.Shape(), d)
			}
		}
	}
}

// TestXLoraGateGradients checks the gates' gradients by finite differences,
// softmax and sigmoid, with the experts frozen.
func TestXLoraGateGradients(t *testing.T) {
	for _, sig := range []bool{false, true} {
		_, m := toyExperts(t)
		xl, err := NewXLora(m, XLoraOptions{Experts: []string{"e0", "e1", "e2"}, Sigmoid: sig, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		rng := tensor.NewRNG(5)
		for _, p := range xl.Parameters() {
			nn.NormalInit(p, rng, 0, 0.5)
		}
		in := tensor.Randn(tensor.NewRNG(6), 2, 3, toyDim)
		f := func(...*tensor.Tensor) *tensor.Tensor {
			y, err := xl.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			return y
		}
		if err := tensor.GradCheck(f, xl.Parameters(), tensor.GradCheckOptions{Eps: 1e-2, Atol: 2e-3, Rtol: 2e-2}); err != nil {
			t.Fatalf("sigmoid %v: %v", sig, err)
		}
		for _, nm := range m.Tuners() {
			for _, nt := range nm.Module.(*LoraLayer).AdapterTensors("e1") {
				if nt.Tensor.RequiresGrad() {
					t.Fatalf("expert tensor %s.%s trains", nm.Name, nt.Name)
				}
			}
		}
	}
}

// TestXLoraLearnsRouting: the target is expert 0's layer on one input
// cluster and expert 1's on the other; training only the gate routes each
// cluster to its expert.
func TestXLoraLearnsRouting(t *testing.T) {
	rng := tensor.NewRNG(40)
	model := &net{Fc: nn.NewLinear(4, 4, true, rng)}
	m, err := Inject(model, "e0", LoraConfig{R: 2, Alpha: 2, TargetModules: []string{"fc"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddAdapter("e1", LoraConfig{R: 2, Alpha: 2, TargetModules: []string{"fc"}, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "e0", 41)
	randomiseB(t, m, "e1", 42)
	// Inputs: cluster c around ±(2, 0, 0, 0); targets from expert c alone.
	const n = 64
	xd := make([]float32, n*4)
	for i := range xd {
		xd[i] = 0.4 * float32(rng.NormFloat64())
	}
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			xd[4*i] += 2
		} else {
			xd[4*i] -= 2
		}
	}
	x := tensor.New(xd, n, 4)
	yd := make([]float32, n*4)
	for c, e := range []string{"e0", "e1"} {
		if err := m.SetActive(e); err != nil {
			t.Fatal(err)
		}
		y := model.Forward(x).Data()
		for i := c; i < n; i += 2 {
			copy(yd[4*i:4*i+4], y[4*i:4*i+4])
		}
	}
	target := tensor.New(yd, n, 4)
	xl, err := NewXLora(m, XLoraOptions{Experts: []string{"e0", "e1"}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	loss := func() *tensor.Tensor {
		y, err := xl.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		return y.Sub(target).Square().Mean()
	}
	first := loss().Item()
	opt, err := optim.NewAdam(xl.Parameters(), optim.AdamConfig{LR: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 150; step++ {
		l := loss()
		l.Backward()
		opt.Step()
		opt.ZeroGrad()
	}
	last := loss().Item()
	lam := xl.LastWeights()[0].Data()
	right := 0.0
	for i := 0; i < n; i++ {
		right += float64(lam[2*i+i%2])
	}
	right /= n
	t.Logf("loss %.4f → %.5f; mean weight on the right expert %.3f", first, last, right)
	if last > first/20 || right < 0.9 {
		t.Fatalf("loss %.4f → %.5f, mean weight on the right expert %.3f: the gate did not learn the routing", first, last, right)
	}
}

func TestXLoraErrors(t *testing.T) {
	_, m := handNet(t)
	for _, c := range []struct {
		opt  XLoraOptions
		want string
	}{
		{XLoraOptions{Experts: []string{"a"}}, "at least two experts"},
		{XLoraOptions{Experts: []string{"a", "z"}}, `no adapter named "z"`},
		{XLoraOptions{Experts: []string{"a", "b"}, TopK: 3}, "top-k 3"},
	} {
		if _, err := NewXLora(m, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%+v: got %v, want an error containing %q", c.opt, err, c.want)
		}
	}
	model := newToy(1)
	tm, err := Inject(model, "a", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"query"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.AddAdapter("b", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"value"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewXLora(tm, XLoraOptions{Experts: []string{"a", "b"}}); err == nil || !strings.Contains(err.Error(), "must share their targets") {
		t.Fatalf("different targets: got %v", err)
	}
}
