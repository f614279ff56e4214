package merge

import (
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
)

// TestAgainstTorch checks EstimateFisher on a small MLP, where no closed
// form is at hand, and SLERP on random vectors against PyTorch.
func TestAgainstTorch(t *testing.T) {
	rng := tensor.NewRNG(11)
	model, err := models.NewMLP(models.MLPConfig{Inputs: 3, Hidden: []int{5}, Classes: 3}, rng)
	if err != nil {
		t.Fatal(err)
	}
	nn.Eval(model)
	const n = 20
	x := tensor.Randn(rng, n, 3)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(3)
	}
	ds, err := train.NewLabelledDataset(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	type layer struct {
		Weight [][]float64 `json:"weight"`
		Bias   []float64   `json:"bias"`
	}
	rows := func(w *tensor.Tensor) [][]float64 {
		v, cols := w.Float64s(), w.Dim(1)
		out := make([][]float64, w.Dim(0))
		for i := range out {
			out[i] = v[i*cols : (i+1)*cols]
		}
		return out
	}
	ps := nn.NamedParameters(model)
	var layers []layer
	for i := 0; i < len(ps); i += 2 {
		layers = append(layers, layer{Weight: rows(ps[i].Tensor), Bias: ps[i+1].Tensor.Float64s()})
	}
	type slerpCase struct {
		A []float64 `json:"a"`
		B []float64 `json:"b"`
		T float64   `json:"t"`
	}
	var slerps []slerpCase
	for _, tt := range []float64{0.1, 0.5, 0.8} {
		a, b := tensor.Randn(rng, 6).Float64s(), tensor.Randn(rng, 6).Float64s()
		slerps = append(slerps, slerpCase{A: a, B: b, T: tt})
	}
	in := map[string]any{
		"fisher": map[string]any{"x": rows(x), "labels": labels, "layers": layers},
		"slerp":  slerps,
	}
	var out struct {
		Fisher struct {
			Expected  [][]float64 `json:"expected"`
			Empirical [][]float64 `json:"empirical"`
		} `json:"fisher"`
		Slerp [][]float64 `json:"slerp"`
	}
	testenv.RunJSON(t, "testdata/reference.py", in, &out, "torch")

	for _, mode := range []struct {
		labels string
		want   [][]float64
	}{{FisherExpected, out.Fisher.Expected}, {FisherEmpirical, out.Fisher.Empirical}} {
		got, err := EstimateFisher(model, ds, FisherOptions{Labels: mode.labels})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(mode.want) {
			t.Fatalf("%s: %d Fisher tensors, torch %d", mode.labels, len(got), len(mode.want))
		}
		for i, g := range got {
			expectFloats(t, mode.labels+" Fisher of "+g.Name, g.Tensor.Float64s(), mode.want[i], 1e-5)
		}
	}
	for i, c := range slerps {
		got, err := SLERP{T: c.T}.MergeTensor("v", tensor.Zeros(6),
			[]*tensor.Tensor{tensor.FromFloat64(c.A, 6), tensor.FromFloat64(c.B, 6)})
		if err != nil {
			t.Fatal(err)
		}
		expectFloats(t, "SLERP case "+string(rune('0'+i)), got.Float64s(), out.Slerp[i], 1e-5)
	}
}
