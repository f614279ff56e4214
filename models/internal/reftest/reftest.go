// Package reftest holds what the parity tests of graft's model packages
// (models/gpt2, models/bert) share: running a PyTorch reference script from
// Debian's python3-torch, exchanging tensors with it through safetensors
// files, giving a model's norm weights and biases generic values, and
// comparing outputs by their largest absolute difference. reftest.py, next to
// this file, is the Python half (a safetensors reader; writing uses
// internal/pyref).
package reftest

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// Dir is the directory of this package, which holds reftest.py; reference
// scripts add it to Python's path.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// RunPython runs script with args under Debian's Python (see
// testenv.RequirePython: the test is skipped without torch, or fails under
// CI) with two threads, failing the test with the script's output on error.
// It returns the output.
func RunPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	python := testenv.RequirePython(t, "torch")
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Env = append(cmd.Environ(), "OMP_NUM_THREADS=2", "PYTHONPATH="+Dir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", python, script, err, out)
	}
	return string(out)
}

// Write saves tensors by name to a safetensors file for a reference script.
func Write(t *testing.T, path string, tensors map[string]*tensor.Tensor) {
	t.Helper()
	var es []safetensors.Entry
	for name, x := range tensors {
		es = append(es, safetensors.Entry{Name: name, Shape: x.Shape(), Data: x.Data()})
	}
	if err := safetensors.Save(path, es, nil); err != nil {
		t.Fatal(err)
	}
}

// Read loads every tensor of a safetensors file written by a reference script.
func Read(t *testing.T, path string) map[string]*tensor.Tensor {
	t.Helper()
	es, _, err := safetensors.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*tensor.Tensor{}
	for _, e := range es {
		out[e.Name] = tensor.Wrap(e.Data, e.Shape...)
	}
	return out
}

// Ints converts a tensor of integral values to ints.
func Ints(x *tensor.Tensor) []int {
	out := make([]int, x.Len())
	for i, v := range x.Data() {
		out[i] = int(v)
	}
	return out
}

// Perturb gives every bias, and every one-dimensional weight (layer norms),
// values drawn around its initial 0 or 1 (scale·N(0,1) added), so a parity
// check exercises them instead of trivial zeros and ones.
func Perturb(m nn.Module, r tensor.Rand, scale float64) {
	for _, p := range nn.NamedParameters(m) {
		if strings.HasSuffix(p.Name, "bias") || p.Tensor.Dims() == 1 {
			d := p.Tensor.Data()
			for i := range d {
				d[i] += float32(scale * r.NormFloat64())
			}
		}
	}
}

// MaxAbsDiff returns the largest |got − want| over all elements; shapes must
// match (the test fails otherwise). NaN anywhere gives +Inf.
func MaxAbsDiff(t *testing.T, name string, got, want *tensor.Tensor) float64 {
	t.Helper()
	if !tensor.SameShape(got, want) {
		t.Fatalf("%s: graft's shape %s, PyTorch's %s", name, tensor.FormatShape(got.Shape()), tensor.FormatShape(want.Shape()))
	}
	worst := 0.0
	for i, g := range got.Data() {
		d := math.Abs(float64(g) - float64(want.Data()[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}

// Check logs the largest absolute difference between got and want and fails
// the test when it exceeds tol.
func Check(t *testing.T, name string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	d := MaxAbsDiff(t, name, got, want)
	t.Logf("%s %s: max |graft − torch| = %.3g", name, tensor.FormatShape(got.Shape()), d)
	if !(d <= tol) {
		t.Errorf("%s: max abs difference %.3g exceeds %g", name, d, tol)
	}
}

// MustPanic fails the test unless f panics with a message containing want.
func MustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), want) {
			t.Errorf("panic %v, want one mentioning %q", r, want)
		}
	}()
	f()
}
