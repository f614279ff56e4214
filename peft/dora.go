package peft

import (
	"math"

	"github.com/graftml/graft/tensor"
)

// magnitudeKey is the saved name of a DoRA magnitude vector, relative to the
// module: PEFT saves it without ".weight".
const magnitudeKey = "lora_magnitude_vector"

// DoraMagnitude holds a DoRA adapter's magnitude vector m, one entry per
// output feature. It sits in LoraLayer.Magnitude, so the parameter is named
// "<module>.lora_magnitude_vector.<adapter>.weight" in memory, as PEFT's
// DoraLinearLayer names it, and "<module>.lora_magnitude_vector" (no
// ".weight") in a saved adapter.
type DoraMagnitude struct {
	Weight *tensor.Tensor // (out)
}

// rowNorms returns the Euclidean norm of each row of w (out, in).
func rowNorms(w []float64, out, in int) []float64 {
	n := make([]float64, out)
	for o := range n {
		var s float64
		for _, v := range w[o*in : (o+1)*in] {
			s += v * v
		}
		n[o] = math.Sqrt(s)
	}
	return n
}

// adaptedWeight returns W + ΔW (out, in) in float64 for the named adapter, W
// the base weight as it is now.
func (l *LoraLayer) adaptedWeight(name string) []float64 {
	w := l.aff.weightOutIn()
	for i, d := range l.delta(name) {
		w[i] += d
	}
	return w
}

// doraNorm returns ‖W + ΔW‖ per output feature for the named adapter.
func (l *LoraLayer) doraNorm(name string) []float64 {
	return rowNorms(l.adaptedWeight(name), l.aff.out, l.aff.in)
}

// initMagnitude sets the adapter's magnitude vector to ‖W + ΔW‖, as PEFT's
// DoRA initialisation does.
func (l *LoraLayer) initMagnitude(name string) {
	m := tensor.Zeros(l.aff.out)
	copy64(m.Data(), l.doraNorm(name))
	m.SetRequiresGrad(true)
	l.Magnitude[name] = &DoraMagnitude{Weight: m}
}

// baseProduct returns W·h for the base weight W without bias (h (…, in)).
func (l *LoraLayer) baseProduct(h *tensor.Tensor) *tensor.Tensor {
	return h.MatMulT(l.aff.weight, false, !l.aff.fanInFanOut)
}

// doraTerm returns what a DoRA adapter adds to the base layer's output for
// the (dropped-out) input h: (g − 1)⊙W·h + g⊙s·B·A·h with g = m/‖W + s·B·A‖,
// the norm detached (a constant in backprop), as PEFT's DoraLinearLayer
// computes it. With the base output b + W·x this gives b + g⊙(W + s·B·A)·x.
func (l *LoraLayer) doraTerm(name string, h, lora *tensor.Tensor) *tensor.Tensor {
	norm := l.doraNorm(name)
	inv := make([]float32, len(norm))
	for i, v := range norm {
		inv[i] = float32(1 / v)
	}
	g := l.Magnitude[name].Weight.Mul(tensor.New(inv, len(inv)))
	return l.baseProduct(h).Mul(g.AddScalar(-1)).Add(lora.Mul(g.Scale(float32(l.Scaling[name]))))
}

// doraMerge replaces W by m/‖W + ΔW‖ ⊙ (W + ΔW) (row-wise) and keeps the
// norm for doraUnmerge, as PEFT caches it.
func (l *LoraLayer) doraMerge(name string) {
	w := l.aff.weightOutIn()
	adapted := l.adaptedWeight(name)
	norm := rowNorms(adapted, l.aff.out, l.aff.in)
	m := l.Magnitude[name].Weight.Data()
	d := make([]float64, len(w))
	for o := 0; o < l.aff.out; o++ {
		g := float64(m[o]) / norm[o]
		for i := 0; i < l.aff.in; i++ {
			k := o*l.aff.in + i
			d[k] = g*adapted[k] - w[k]
		}
	}
	l.aff.addDelta(d, 1)
	l.doraNorms[name] = norm
}

// doraUnmerge restores W = W′·‖W + ΔW‖/m − ΔW with the norm kept at merge.
func (l *LoraLayer) doraUnmerge(name string) {
	w := l.aff.weightOutIn()
	delta := l.delta(name)
	norm := l.doraNorms[name]
	m := l.Magnitude[name].Weight.Data()
	d := make([]float64, len(w))
	for o := 0; o < l.aff.out; o++ {
		f := norm[o] / float64(m[o])
		for i := 0; i < l.aff.in; i++ {
			k := o*l.aff.in + i
			d[k] = w[k]*f - delta[k] - w[k]
		}
	}
	l.aff.addDelta(d, 1)
	delete(l.doraNorms, name)
}
