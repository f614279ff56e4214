package da

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

// discCall is one call of a function of testdata/discref.py.
type discCall struct {
	Fn   string         `json:"fn"`
	Args map[string]any `json:"args"`
}

// runDiscRef makes the calls in one process of testdata/discref.py (float64
// PyTorch 1.13 or numpy, the modules named) and returns their scalar
// results. Without the modules the test skips on a laptop and fails under
// CI.
func runDiscRef(t *testing.T, modules []string, calls []discCall) []float64 {
	t.Helper()
	var out []float64
	testenv.RunJSON(t, filepath.Join("testdata", "discref.py"), calls, &out, modules...)
	if len(out) != len(calls) {
		t.Fatalf("discref.py: %d results for %d calls", len(out), len(calls))
	}
	return out
}

// rowsOf returns the (N, D) tensor x as nested float64 rows.
func rowsOf(x *tensor.Tensor) [][]float64 {
	n, d := x.Dim(0), x.Dim(1)
	v := x.Float64s()
	out := make([][]float64, n)
	for i := range out {
		out[i] = v[i*d : (i+1)*d]
	}
	return out
}

// randn returns a seeded (n, d) standard normal tensor, shifted by shift and
// scaled by scale.
func randn(seed uint64, n, d int, shift, scale float32) *tensor.Tensor {
	return tensor.Randn(tensor.NewRNG(seed), n, d).Scale(scale).AddScalar(shift)
}

// relErr returns |got − want| / max(|want|, tiny).
func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-12)
}
