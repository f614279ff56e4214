// Package torchref runs the PyTorch reference scripts of graft's model tests
// and compares graft's outputs with theirs. Graft writes a model's weights and
// the inputs to safetensors files; a script (Debian's python3-torch, reading
// the files with torchref.py in this directory) builds the same
// architecture in plain torch under the same parameter names, loads the
// weights strictly, and writes its outputs back as safetensors.
package torchref

import (
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// Tol is the largest absolute difference from PyTorch the model tests accept.
const Tol = 1e-4

// Run runs script (a path relative to the test's package) with Debian's
// Python and args, skipping (or failing under CI) when torch is missing.
func Run(t *testing.T, script string, args ...string) {
	t.Helper()
	python := testenv.RequirePython(t, "torch", "numpy")
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Env = append(cmd.Environ(), "OMP_NUM_THREADS=2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", python, script, err, out)
	}
}

// SaveModel writes the state dict of m (parameters and buffers), the named
// inputs (under "data.<name>") and metadata (such as the configuration the
// script must build) to path.
func SaveModel(t *testing.T, path string, m nn.Module, inputs map[string]*tensor.Tensor, metadata map[string]string) {
	t.Helper()
	var entries []safetensors.Entry
	for _, p := range nn.StateDict(m) {
		entries = append(entries, entry(p.Name, p.Tensor))
	}
	for name, x := range inputs {
		entries = append(entries, entry("data."+name, x))
	}
	if err := safetensors.Save(path, entries, metadata); err != nil {
		t.Fatal(err)
	}
}

func entry(name string, x *tensor.Tensor) safetensors.Entry {
	return safetensors.Entry{Name: name, Shape: x.Shape(), Data: x.Data()}
}

// Load reads the tensors a reference script wrote.
func Load(t *testing.T, path string) map[string]*tensor.Tensor {
	t.Helper()
	entries, _, err := safetensors.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*tensor.Tensor{}
	for _, e := range entries {
		out[e.Name] = tensor.Wrap(e.Data, e.Shape...)
	}
	return out
}

// Compare fails t when got and want differ in shape or by more than tol in
// any element, and logs the largest absolute difference either way.
func Compare(t *testing.T, name string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if want == nil {
		t.Errorf("%s: the reference wrote no such output", name)
		return
	}
	d, err := MaxAbsDiff(got, want)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	t.Logf("%s %s: max |graft − torch| = %.3g (max |torch| = %.3g)", name, tensor.FormatShape(want.Shape()), d, maxAbs(want))
	if !(d <= tol) {
		t.Errorf("%s: max abs difference %.3g exceeds %.0e", name, d, tol)
	}
}

// MaxAbsDiff returns max |a − b| over the elements, or an error when the
// shapes differ. NaN anywhere gives +Inf.
func MaxAbsDiff(a, b *tensor.Tensor) (float64, error) {
	if !tensor.SameShape(a, b) {
		return 0, fmt.Errorf("shape %s, want %s", tensor.FormatShape(a.Shape()), tensor.FormatShape(b.Shape()))
	}
	var m float64
	bd := b.Data()
	for i, v := range a.Data() {
		d := math.Abs(float64(v) - float64(bd[i]))
		if math.IsNaN(d) {
			return math.Inf(1), nil
		}
		m = math.Max(m, d)
	}
	return m, nil
}

func maxAbs(x *tensor.Tensor) float64 {
	var m float64
	for _, v := range x.Data() {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// Perturb gives every parameter of m generic values drawn from r, so that no
// parameter sits at an initial value (1 or 0) that could hide a misplaced one
// and attention is far from uniform: 1-D parameters named "…weight" (norm
// scales) become 1 + 0.2·N(0,1), other 1-D parameters and scalars 0.2·N(0,1),
// and tensors of more dimensions get N(0, scale²/fan_in) added, fan_in being
// the product of all but the first dimension (with scale 1, PyTorch's size
// for a weight; 0 keeps them as initialised).
func Perturb(m nn.Module, r tensor.Rand, scale float64) {
	for _, p := range nn.NamedParameters(m) {
		d, s := p.Tensor.Data(), p.Tensor.Shape()
		oneD := len(s) <= 1
		norm := oneD && strings.HasSuffix(p.Name, "weight")
		fanIn := 1
		if !oneD {
			for _, n := range s[1:] {
				fanIn *= n
			}
		}
		for i := range d {
			g := float32(r.NormFloat64())
			switch {
			case norm:
				d[i] = 1 + 0.2*g
			case oneD:
				d[i] = 0.2 * g
			default:
				d[i] += g * float32(scale/math.Sqrt(float64(fanIn)))
			}
		}
	}
}
