package peft

import (
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// features is implemented by affine layers that report their widths
// (nn.Linear, gpt2.Conv1D).
type features interface {
	InFeatures() int
	OutFeatures() int
}

// fanInFanOut is implemented by layers that store their weight as (in, out),
// the transpose of nn.Linear's layout (GPT-2's Conv1D): PEFT's
// fan_in_fan_out = true.
type fanInFanOut interface{ FanInFanOut() bool }

// affine describes an adaptable layer: its weight and widths.
type affine struct {
	weight      *tensor.Tensor // (out, in), or (in, out) with fanInFanOut
	in, out     int
	fanInFanOut bool
}

// affineOf returns the weight and widths of an affine layer (one with
// InFeatures, OutFeatures and a two-dimensional parameter "weight"), or an
// error naming the module when layer is not one.
func affineOf(name string, layer nn.Layer) (affine, error) {
	f, ok := layer.(features)
	if !ok {
		return affine{}, fmt.Errorf("peft: module %q is a %T, not an affine layer (Linear or Conv1D) that LoRA can adapt", name, layer)
	}
	var w *tensor.Tensor
	for _, p := range nn.NamedParameters(layer) {
		if p.Name == "weight" {
			w = p.Tensor
		}
	}
	if w == nil || w.Dims() != 2 {
		return affine{}, fmt.Errorf("peft: module %q (%T) has no two-dimensional weight", name, layer)
	}
	a := affine{weight: w, in: f.InFeatures(), out: f.OutFeatures()}
	if fo, ok := layer.(fanInFanOut); ok {
		a.fanInFanOut = fo.FanInFanOut()
	}
	want := []int{a.out, a.in}
	if a.fanInFanOut {
		want = []int{a.in, a.out}
	}
	if w.Dim(0) != want[0] || w.Dim(1) != want[1] {
		return affine{}, fmt.Errorf("peft: module %q (%T): weight %s does not fit %d inputs and %d outputs", name, layer, tensor.FormatShape(w.Shape()), a.in, a.out)
	}
	return a, nil
}

// addDelta adds sign·delta to the layer's weight in float64, delta (out, in)
// in nn.Linear's layout, transposing it for (in, out) weights.
func (a affine) addDelta(delta []float64, sign float64) {
	w := a.weight.Data()
	for o := 0; o < a.out; o++ {
		for i := 0; i < a.in; i++ {
			k := o*a.in + i
			if a.fanInFanOut {
				k = i*a.out + o
			}
			w[k] = float32(float64(w[k]) + sign*delta[o*a.in+i])
		}
	}
}

// weightOutIn returns the weight as float64 in (out, in) layout.
func (a affine) weightOutIn() []float64 {
	w := a.weight.Data()
	d := make([]float64, a.out*a.in)
	for o := 0; o < a.out; o++ {
		for i := 0; i < a.in; i++ {
			k := o*a.in + i
			if a.fanInFanOut {
				k = i*a.out + o
			}
			d[o*a.in+i] = float64(w[k])
		}
	}
	return d
}
