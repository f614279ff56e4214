package tta_test

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/graftml/graft/da/tta"
	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// bnModel returns Linear(4, 5) → BatchNorm1d(5) → ReLU → Linear(5, 3) with
// random batch-norm affine parameters and running statistics.
func bnModel(t testing.TB, seed uint64) *models.MLP {
	t.Helper()
	r := tensor.NewRNG(seed)
	m, err := models.NewMLP(models.MLPConfig{Inputs: 4, Hidden: []int{5}, Classes: 3, BatchNorm: true}, r)
	if err != nil {
		t.Fatal(err)
	}
	bn := m.Layers[1].(*nn.BatchNorm)
	bn.Weight.CopyFrom(tensor.Uniform(r, 0.5, 1.5, 5))
	bn.Bias.CopyFrom(tensor.Uniform(r, -0.5, 0.5, 5))
	bn.RunningMean.CopyFrom(tensor.Uniform(r, -1, 1, 5))
	bn.RunningVar.CopyFrom(tensor.Uniform(r, 0.5, 2, 5))
	nn.Eval(m)
	return m
}

// rows returns x (N, D) as nested slices for JSON.
func rows(x *tensor.Tensor) [][]float32 {
	n, d := x.Dim(0), x.Len()/x.Dim(0)
	out := make([][]float32, n)
	for i := range out {
		out[i] = x.Data()[i*d : (i+1)*d]
	}
	return out
}

// param returns the named parameter or buffer of m.
func param(t testing.TB, m nn.Module, name string) *tensor.Tensor {
	t.Helper()
	for _, e := range nn.StateDict(m) {
		if e.Name == name {
			return e.Tensor
		}
	}
	t.Fatalf("no parameter %q", name)
	return nil
}

// near fails unless got and want agree within tol elementwise.
func near(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol || math.IsNaN(d) {
			t.Errorf("%s[%d] = %.8g, PyTorch %.8g (diff %.2g > %g)", what, i, got[i], want[i], d, tol)
		}
	}
}

func flat(v [][]float64) []float64 {
	var out []float64
	for _, r := range v {
		out = append(out, r...)
	}
	return out
}

// TestAgainstPyTorch checks test-batch normalisation, AdaBN's cumulative
// running statistics and one Tent step (SGD on the batch-norm affine
// parameters) against PyTorch 1.13 on the same model and batches.
func TestAgainstPyTorch(t *testing.T) {
	src := bnModel(t, 7)
	r := tensor.NewRNG(8)
	x := tensor.Randn(r, 6, 4).Scale(2).AddScalar(0.5)
	batches := []*tensor.Tensor{tensor.Randn(r, 5, 4), tensor.Randn(r, 7, 4).AddScalar(1), tensor.Randn(r, 3, 4).Scale(3)}
	const lr, momentum = 0.5, 0.9
	in := map[string]any{
		"w1": rows(param(t, src, "0.weight")), "b1": param(t, src, "0.bias").Data(),
		"bnw": param(t, src, "1.weight").Data(), "bnb": param(t, src, "1.bias").Data(),
		"rm": param(t, src, "1.running_mean").Data(), "rv": param(t, src, "1.running_var").Data(),
		"w2": rows(param(t, src, "3.weight")), "b2": param(t, src, "3.bias").Data(),
		"x": rows(x), "lr": lr, "momentum": momentum,
	}
	var bs [][][]float32
	for _, b := range batches {
		bs = append(bs, rows(b))
	}
	in["batches"] = bs
	var ref struct {
		BNLogits   [][]float64 `json:"bn_logits"`
		AdaMean    []float64   `json:"ada_mean"`
		AdaVar     []float64   `json:"ada_var"`
		TentLogits [][]float64 `json:"tent_logits"`
		TentGW     []float64   `json:"tent_gw"`
		TentGB     []float64   `json:"tent_gb"`
		TentW      []float64   `json:"tent_w"`
		TentB      []float64   `json:"tent_b"`
	}
	testenv.RunJSON(t, filepath.Join("testdata", "torch_tta.py"), in, &ref, "torch")
	before := nn.StateDict(src)
	saved := make([][]float32, len(before))
	for i, e := range before {
		saved[i] = append([]float32(nil), e.Tensor.Data()...)
	}

	bn, err := tta.NewBN(src, tta.BNOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logits, err := bn.Adapt(x)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "test-batch BN logits", logits.Data(), flat(ref.BNLogits), 1e-5)

	ada, err := tta.AdaptBN(src, batches...)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AdaBN running mean", param(t, ada, "1.running_mean").Data(), ref.AdaMean, 1e-5)
	near(t, "AdaBN running var", param(t, ada, "1.running_var").Data(), ref.AdaVar, 1e-5)
	// The method, continually over the same batches, reaches the same statistics.
	online, _ := tta.NewAdaBN(src)
	for _, b := range batches {
		if _, err := online.Adapt(b); err != nil {
			t.Fatal(err)
		}
	}
	near(t, "AdaBN (online) running mean", param(t, online.Model(), "1.running_mean").Data(), ref.AdaMean, 1e-5)
	near(t, "AdaBN (online) running var", param(t, online.Model(), "1.running_var").Data(), ref.AdaVar, 1e-5)

	tent, err := tta.NewTent(src, tta.TentOptions{Optim: tta.Optim{Name: "sgd", LR: lr, Momentum: momentum}})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := tent.Adapt(x)
	if err != nil {
		t.Fatal(err)
	}
	m := tent.Model()
	near(t, "Tent logits", tl.Data(), flat(ref.TentLogits), 1e-5)
	near(t, "Tent weight gradient", param(t, m, "1.weight").GradData(), ref.TentGW, 1e-5)
	near(t, "Tent bias gradient", param(t, m, "1.bias").GradData(), ref.TentGB, 1e-5)
	near(t, "Tent weight", param(t, m, "1.weight").Data(), ref.TentW, 1e-5)
	near(t, "Tent bias", param(t, m, "1.bias").Data(), ref.TentB, 1e-5)
	// Only the batch-norm affine parameters moved.
	for i, e := range nn.StateDict(m) {
		changed := !slices.Equal(e.Tensor.Data(), saved[i])
		if want := e.Name == "1.weight" || e.Name == "1.bias"; changed != want {
			t.Errorf("Tent: %s changed = %v, want %v", e.Name, changed, want)
		}
	}
	// The source model is untouched by all of it.
	for i, e := range nn.StateDict(src) {
		if !slices.Equal(e.Tensor.Data(), saved[i]) {
			t.Errorf("source %s changed", e.Name)
		}
	}
}
