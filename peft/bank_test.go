package peft

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// ragged has layers of different widths, so shared matrices are sliced, and
// an (in, out) Conv1D: 4 → 5 (Linear) → 3 (Conv1D).
type ragged struct {
	Up   nn.Layer `nn:"up"`
	Down nn.Layer `nn:"down"`
}

func newRagged(seed uint64) *ragged {
	r := tensor.NewRNG(seed)
	return &ragged{Up: nn.NewLinear(4, 5, true, r), Down: gpt2.NewConv1D(5, 3, 0.4, r)}
}

func (m *ragged) Forward(x *tensor.Tensor) *tensor.Tensor {
	return m.Down.Forward(m.Up.Forward(x).Tanh())
}

func raggedInput() *tensor.Tensor { return tensor.Randn(tensor.NewRNG(77), 3, 4) }

// affineByHand returns x·Wᵀ + bias for a (out, in) weight given as float64.
func affineByHand(x *tensor.Tensor, w []float64, bias *tensor.Tensor, in, out int) []float64 {
	rows := x.Len() / in
	y := make([]float64, rows*out)
	for n := 0; n < rows; n++ {
		for o := 0; o < out; o++ {
			s := 0.0
			if bias != nil {
				s = float64(bias.Data()[o])
			}
			for i := 0; i < in; i++ {
				s += w[o*in+i] * float64(x.Data()[n*in+i])
			}
			y[n*out+o] = s
		}
	}
	return y
}

func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// checkMerge checks that merging the active adapters keeps the model's
// outputs within 1e-5 relative and that unmerging restores the base weights.
func checkMerge(t *testing.T, m *Model, x *tensor.Tensor) {
	t.Helper()
	before := snap(m.Module())
	want := m.Module().(nn.Layer).Forward(x)
	if err := m.Merge(); err != nil {
		t.Fatal(err)
	}
	if d := relDiff(m.Module().(nn.Layer).Forward(x), want); d > 1e-5 {
		t.Fatalf("merged output differs by %g relative", d)
	}
	if err := m.Unmerge(); err != nil {
		t.Fatal(err)
	}
	if d := relDiff(m.Module().(nn.Layer).Forward(x), want); d > 1e-5 {
		t.Fatalf("unmerged output differs by %g relative", d)
	}
	now := snap(m.Module())
	for n, v := range before {
		for i := range v.data {
			if math.Abs(float64(v.data[i]-now[n].data[i])) > 1e-5*(1+math.Abs(float64(v.data[i]))) {
				t.Fatalf("after unmerge %q[%d] = %g, was %g", n, i, now[n].data[i], v.data[i])
			}
		}
	}
}

// checkRoundTrip saves the default adapter, loads it into a fresh model and
// compares outputs; it returns the directory.
func checkRoundTrip(t *testing.T, m *Model, fresh nn.Module, x *tensor.Tensor) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "adapter")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(fresh, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	want := m.Module().(nn.Layer).Forward(x)
	got := m2.Module().(nn.Layer).Forward(x)
	if d := maxAbsDiff(got, want); d != 0 {
		t.Fatalf("loaded adapter's output differs by %g", d)
	}
	return dir
}

// trainable returns the number of trainable parameter values.
func trainable(m *Model) int { return m.Summary().Trainable }

func randomise(ts map[string]*tensor.Tensor, adapter string, seed uint64) {
	nn.NormalInit(ts[adapter], tensor.NewRNG(seed), 0, 0.7)
}

// checkConfig reads the adapter_config.json in dir back and checks that it
// is the configuration want (compared in its JSON form), of want's type.
func checkConfig(t *testing.T, dir string, want Method) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("configuration read back:\n%s\nwant\n%s", gj, wj)
	}
}
