package da

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
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
	py := testenv.RequirePython(t, modules...)
	in, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "discref.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("discref.py: %v\n%s", err, stderr.String())
	}
	var out []float64
	if err := json.Unmarshal(res, &out); err != nil || len(out) != len(calls) {
		t.Fatalf("discref.py: decoding %.200q: %v (%d results for %d calls)", res, err, len(out), len(calls))
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
