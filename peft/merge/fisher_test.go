package merge

import (
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
)

func TestFisherMergeByHand(t *testing.T) {
	base := tensor.New([]float32{10, 10, 10}, 3)
	d0, d1 := tensor.New([]float32{1, 2, 0}, 3), tensor.New([]float32{3, 0, 4}, 3)
	f0 := []nn.NamedTensor{{Name: "other", Tensor: tensor.Zeros(1)}, {Name: "w", Tensor: tensor.New([]float32{1, 0, 0}, 3)}}
	f1 := []nn.NamedTensor{{Name: "w", Tensor: tensor.New([]float32{3, 0, 1}, 3)}}
	// Weights (1, 2): entry 0 weighs the models 1·1 and 2·3, so
	// (1·1 + 6·3)/7; entry 1 has no Fisher anywhere, so it is the weighted
	// average (1·2 + 2·0)/3; entry 2 has Fisher only in model 1, so 4.
	m := Fisher{Fishers: [][]nn.NamedTensor{f0, f1}, Weights: []float64{1, 2}}
	got, err := m.MergeTensor("w", base, []*tensor.Tensor{d0, d1})
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "weighted", got.Float64s(), []float64{19. / 7, 2. / 3, 4}, 1e-6)
	// Equal weights: (1 + 9)/4, (2 + 0)/2 and 4.
	m.Weights = nil
	got, err = m.MergeTensor("w", base, []*tensor.Tensor{d0, d1})
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "equal weights", got.Float64s(), []float64{2.5, 1, 4}, 1e-6)
	// A large ε drowns the Fisher: the plain average.
	m.Epsilon = 1e9
	got, err = m.MergeTensor("w", base, []*tensor.Tensor{d0, d1})
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "large epsilon", got.Float64s(), []float64{2, 1, 2}, 1e-6)
	expectFloats(t, "inputs after merging", append(d0.Float64s(), f1[0].Tensor.Float64s()...), []float64{1, 2, 0, 3, 0, 1}, 0)

	ds := []*tensor.Tensor{d0, d1}
	for _, bad := range []struct {
		m     Fisher
		parts []string
	}{
		{Fisher{Fishers: [][]nn.NamedTensor{f0}}, []string{"1 Fishers for 2 models"}},
		{Fisher{Fishers: [][]nn.NamedTensor{f0, f0[:1]}}, []string{"model 1", `no entry for "w"`}},
		{Fisher{Fishers: [][]nn.NamedTensor{f0, {{Name: "w", Tensor: tensor.Zeros(2)}}}}, []string{"model 1", "(2)", "(3)"}},
		{Fisher{Fishers: [][]nn.NamedTensor{f0, {{Name: "w", Tensor: tensor.New([]float32{0, -1, 0}, 3)}}}}, []string{"entry -1"}},
		{Fisher{Fishers: [][]nn.NamedTensor{f0, f1}, Weights: []float64{1}}, []string{"1 weights for 2 models"}},
		{Fisher{Fishers: [][]nn.NamedTensor{f0, f1}, Weights: []float64{1, -2}}, []string{"weight 1 is -2"}},
		{Fisher{Fishers: [][]nn.NamedTensor{f0, f1}, Weights: []float64{0, 0}}, []string{"sum to 0"}},
		{Fisher{Fishers: [][]nn.NamedTensor{f0, f1}, Epsilon: -1}, []string{"epsilon -1"}},
	} {
		_, err := bad.m.MergeTensor("w", base, ds)
		expectError(t, err, bad.parts...)
	}
}

// TestEstimateFisherLogistic checks the Fisher of a softmax regression
// z = W x + b against its closed form: ∂ log p(y|x)/∂W_cj = (1[y=c] − p_c) x_j,
// so the expectation over y ~ p is p_c(1 − p_c) x_j², and with the true
// label (1[y=c] − p_c)² x_j².
func TestEstimateFisherLogistic(t *testing.T) {
	rng := tensor.NewRNG(3)
	const n, d, c = 2000, 3, 2
	x := tensor.Randn(rng, n, d)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(c)
	}
	ds, err := train.NewLabelledDataset(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	model := nn.NewLinear(d, c, true, rng)
	model.Weight.SetRequiresGrad(false)
	model.Bias.SetGrad(tensor.New([]float32{7, 8}, 2))

	var probs []float64
	tensor.WithNoGrad(func() { probs = model.Forward(x).Softmax(1).Float64s() })
	xs := x.Float64s()
	closed := func(empirical bool) (w, b []float64) {
		w, b = make([]float64, c*d), make([]float64, c)
		for i := 0; i < n; i++ {
			for k := 0; k < c; k++ {
				p := probs[i*c+k]
				g := p * (1 - p)
				if empirical {
					y := 0.0
					if labels[i] == k {
						y = 1
					}
					g = (y - p) * (y - p)
				}
				b[k] += g / n
				for j := 0; j < d; j++ {
					w[k*d+j] += g * xs[i*d+j] * xs[i*d+j] / n
				}
			}
		}
		return w, b
	}
	wantW, wantB := closed(false)
	empW, empB := closed(true)

	got, err := EstimateFisher(model, ds, FisherOptions{Labels: FisherExpected})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Name != "weight" || got[1].Name != "bias" {
		t.Fatalf("names %q, %q", got[0].Name, got[1].Name)
	}
	expectFloats(t, "expected Fisher of W", got[0].Tensor.Float64s(), wantW, 1e-5)
	expectFloats(t, "expected Fisher of b", got[1].Tensor.Float64s(), wantB, 1e-5)

	got, err = EstimateFisher(model, ds, FisherOptions{Labels: FisherEmpirical})
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "empirical Fisher of W", got[0].Tensor.Float64s(), empW, 1e-5)
	expectFloats(t, "empirical Fisher of b", got[1].Tensor.Float64s(), empB, 1e-5)

	// Sampled labels: a Monte Carlo estimate of the expected Fisher, within
	// 10% here (2,000 draws), and the same numbers for the same seed.
	got, err = EstimateFisher(model, ds, FisherOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	rel := func(got, want []float64) []float64 {
		out := make([]float64, len(got))
		for i := range got {
			out[i] = got[i] / want[i]
		}
		return out
	}
	ones := func(k int) []float64 {
		out := make([]float64, k)
		for i := range out {
			out[i] = 1
		}
		return out
	}
	expectFloats(t, "sampled / expected Fisher of W", rel(got[0].Tensor.Float64s(), wantW), ones(c*d), 0.1)
	expectFloats(t, "sampled / expected Fisher of b", rel(got[1].Tensor.Float64s(), wantB), ones(c), 0.1)
	again, err := EstimateFisher(model, ds, FisherOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "same seed", again[0].Tensor.Float64s(), got[0].Tensor.Float64s(), 0)

	// A subset of examples.
	sub, err := EstimateFisher(model, ds, FisherOptions{Labels: FisherExpected, Examples: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "100 examples / all", rel(sub[1].Tensor.Float64s(), wantB), ones(c), 0.25)

	// The model's flags and gradients are as they were.
	if model.Weight.RequiresGrad() || !model.Bias.RequiresGrad() {
		t.Fatalf("requires-grad flags changed: weight %v, bias %v", model.Weight.RequiresGrad(), model.Bias.RequiresGrad())
	}
	expectFloats(t, "bias gradient", model.Bias.Grad().Float64s(), []float64{7, 8}, 0)
	if g := model.Weight.Grad(); g != nil {
		t.Fatalf("weight gradient %v, want none", g)
	}

	_, err = EstimateFisher(model, ds, FisherOptions{Labels: "true"})
	expectError(t, err, `labels "true"`)
	_, err = EstimateFisher(model, ds, FisherOptions{Examples: -1})
	expectError(t, err, "examples -1")
	unlabelled, err := train.NewTensorDataset(x, x)
	if err != nil {
		t.Fatal(err)
	}
	_, err = EstimateFisher(model, unlabelled, FisherOptions{Labels: FisherEmpirical})
	expectError(t, err, "labelled dataset")
	tensor.WithNoGrad(func() { _, err = EstimateFisher(model, ds, FisherOptions{}) })
	expectError(t, err, "gradients", "disabled")
}
