package peft

import (
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// linearAndConv1D returns the same affine map, weight w (out, in) row-major
// and the bias, as an nn.Linear and as a gpt2.Conv1D (weight stored (in, out)).
func linearAndConv1D(w, bias []float32, out, in int) []nn.Layer {
	return []nn.Layer{
		&nn.Linear{Weight: tensor.New(w, out, in), Bias: tensor.New(bias, out)},
		&gpt2.Conv1D{Weight: tensor.New(w, out, in).T().Clone(), Bias: tensor.New(bias, out)},
	}
}

// checkLayerOut fails the test unless out's output on x is want within tol in
// every element; the message names layer's type (the base under test) and what.
func checkLayerOut(t *testing.T, what string, layer, out nn.Layer, x *tensor.Tensor, want []float32, tol float64) {
	t.Helper()
	got := out.Forward(x).Data()
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("%T %s: got %v, want %v", layer, what, got, want)
		}
	}
}

// savedShapes returns the shape of every tensor in the adapter weights file
// saved in dir, by key.
func savedShapes(t *testing.T, dir string) map[string][]int {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	shapes := map[string][]int{}
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		shapes[n] = info.Shape
	}
	return shapes
}

// savedKeys returns the keys of the adapter weights file saved in dir.
func savedKeys(t *testing.T, dir string) []string {
	t.Helper()
	return slices.Sorted(maps.Keys(savedShapes(t, dir)))
}
