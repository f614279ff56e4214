package peft

import (
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// bank is one adapter of a layer whose update is scaled vectors around a pair
// of matrices shared by every adapted layer (VeRA, Tied-LoRA):
// ΔW = s·diag(v)·B[:out]·diag(d)·A[:, :in], with A (r, in_max) and
// B (out_max, r) sliced to the layer's widths.
type bank struct {
	a, b    *tensor.Tensor // shared, (r, in_max) and (out_max, r)
	d, v    *tensor.Tensor // this layer's, (r) and (out)
	s       float64
	dropout *nn.Dropout
}

// forward returns s·v ⊙ (B[:out]·(d ⊙ (A[:, :in]·dropout(x)))).
func (k bank) forward(x *tensor.Tensor, aff affine) *tensor.Tensor {
	if k.dropout != nil {
		x = k.dropout.Forward(x)
	}
	a, b := k.a, k.b
	if a.Dim(1) != aff.in {
		a = a.Slice(1, 0, aff.in)
	}
	if b.Dim(0) != aff.out {
		b = b.Slice(0, 0, aff.out)
	}
	y := tensor.Linear(tensor.Linear(x, a, nil).Mul(k.d), b, nil).Mul(k.v)
	if k.s != 1 {
		y = y.Scale(float32(k.s))
	}
	return y
}

// delta returns ΔW (out, in) in float64.
func (k bank) delta(aff affine) []float64 {
	r := k.a.Dim(0)
	inMax := k.a.Dim(1)
	a, b, d, v := k.a.Data(), k.b.Data(), k.d.Data(), k.v.Data()
	out := make([]float64, aff.out*aff.in)
	for o := 0; o < aff.out; o++ {
		row := out[o*aff.in : (o+1)*aff.in]
		for j := 0; j < r; j++ {
			f := k.s * float64(v[o]) * float64(b[o*r+j]) * float64(d[j])
			for i, av := range a[j*inMax : j*inMax+aff.in] {
				row[i] += f * float64(av)
			}
		}
	}
	return out
}

// bankLayer is the Tuner machinery VeraLayer and TiedLoraLayer share: the
// base layer's shape, the adapter bookkeeping, and each adapter's bank.
type bankLayer struct {
	adapterSet
	affineWidths
	bank func(adapter string) (bank, bool)
}

func (l *bankLayer) forward(base nn.Layer, x *tensor.Tensor) *tensor.Tensor {
	y := base.Forward(x)
	for _, n := range l.applied() {
		if k, ok := l.bank(n); ok {
			y = y.Add(k.forward(x, l.aff))
		}
	}
	return y
}

// Merge adds the named adapters' updates to the base weight.
func (l *bankLayer) Merge(names []string) error {
	for _, n := range l.toMerge(names) {
		k, _ := l.bank(n)
		l.aff.addDelta(k.delta(l.aff), 1)
		l.merged = append(l.merged, n)
	}
	return nil
}

// Unmerge subtracts every merged adapter's update from the base weight.
func (l *bankLayer) Unmerge() error {
	for len(l.merged) > 0 {
		n := l.merged[len(l.merged)-1]
		k, _ := l.bank(n)
		l.aff.addDelta(k.delta(l.aff), -1)
		l.merged = l.merged[:len(l.merged)-1]
	}
	return nil
}

// deltaWeight returns the named adapter's update in (out, in) layout, or an
// error naming the method when the layer holds no such adapter.
func (l *bankLayer) deltaWeight(method, name string) (*tensor.Tensor, error) {
	k, ok := l.bank(name)
	if !ok {
		return nil, fmt.Errorf("peft: the layer holds no %s adapter %q (it holds %q)", method, name, l.order)
	}
	return tensor.FromFloat64(k.delta(l.aff), l.aff.out, l.aff.in), nil
}
