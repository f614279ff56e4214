package peft

import (
	"math"
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// toyBlock mixes nn.Linear (weight (out, in)) and gpt2.Conv1D (weight (in,
// out)) projections.
type toyBlock struct {
	Query nn.Layer
	Value nn.Layer
	Proj  nn.Layer `nn:"c_proj"`
}

type toy struct {
	Layers     []*toyBlock
	Classifier nn.Layer
}

const toyDim = 6

func newToy(seed uint64) *toy {
	r := tensor.NewRNG(seed)
	t := &toy{Classifier: nn.NewLinear(toyDim, 3, true, r)}
	for i := 0; i < 2; i++ {
		t.Layers = append(t.Layers, &toyBlock{
			Query: nn.NewLinear(toyDim, toyDim, true, r),
			Value: nn.NewLinear(toyDim, toyDim, true, r),
			Proj:  gpt2.NewConv1D(toyDim, toyDim, 0.3, r),
		})
	}
	return t
}

func (t *toy) Forward(x *tensor.Tensor) *tensor.Tensor {
	for _, b := range t.Layers {
		x = x.Add(b.Proj.Forward(b.Query.Forward(x).Tanh().Mul(b.Value.Forward(x))))
	}
	return t.Classifier.Forward(x)
}

func toyInput(seed uint64) *tensor.Tensor { return tensor.Randn(tensor.NewRNG(seed), 4, toyDim) }

// randomiseB gives every LoRA B matrix random values, so that an adapter
// changes the output (B starts at zero).
func randomiseB(t *testing.T, m *Model, adapter string, seed uint64) {
	t.Helper()
	r := tensor.NewRNG(seed)
	n := 0
	for _, nm := range m.Tuners() {
		if l, ok := nm.Module.(*LoraLayer); ok && l.LoraB[adapter] != nil {
			nn.NormalInit(l.LoraB[adapter].Weight, r, 0, 0.5)
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no LoRA layer holds adapter %q", adapter)
	}
}

// relDiff returns ‖a − b‖ / ‖b‖.
func relDiff(a, b *tensor.Tensor) float64 {
	var num, den float64
	for i, v := range b.Data() {
		d := float64(a.Data()[i] - v)
		num += d * d
		den += float64(v) * float64(v)
	}
	return math.Sqrt(num / den)
}

func maxAbsDiff(a, b *tensor.Tensor) float64 {
	m := 0.0
	for i, v := range b.Data() {
		m = math.Max(m, math.Abs(float64(a.Data()[i]-v)))
	}
	return m
}

// snapshot records a model's parameter names, values and trainability.
type snapshot map[string]struct {
	data      []float32
	trainable bool
}

func snap(m nn.Module) snapshot {
	s := snapshot{}
	for _, p := range nn.NamedParameters(m) {
		s[p.Name] = struct {
			data      []float32
			trainable bool
		}{append([]float32(nil), p.Tensor.Data()...), p.Tensor.RequiresGrad()}
	}
	return s
}

func (s snapshot) same(t *testing.T, m nn.Module) {
	t.Helper()
	now := snap(m)
	if len(now) != len(s) {
		t.Fatalf("model has %d parameters, had %d", len(now), len(s))
	}
	for n, v := range s {
		w, ok := now[n]
		if !ok {
			t.Fatalf("parameter %q is gone", n)
		}
		if w.trainable != v.trainable {
			t.Fatalf("parameter %q: trainable %v, was %v", n, w.trainable, v.trainable)
		}
		for i := range v.data {
			if v.data[i] != w.data[i] {
				t.Fatalf("parameter %q changed at %d", n, i)
			}
		}
	}
}
