package nn_test

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// parityTol is the largest error allowed against PyTorch, relative to
// max(|want|, the largest |value| of the reference tensor) — so elements near
// zero in a large tensor are held to the tensor's scale (see also
// structurallyZero).
const parityTol = 1e-4

// TestTorchParity runs testdata/torch_parity.py once (PyTorch from Debian's
// python3-torch) and checks graft's forward pass, loss, every parameter and
// input gradient and the batch-norm running statistics against PyTorch's, for
// whole models and single operations.
func TestTorchParity(t *testing.T) {
	python := testenv.RequirePython(t, "torch")
	dir := t.TempDir()
	cmd := exec.Command(python, filepath.Join("testdata", "torch_parity.py"), dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s testdata/torch_parity.py: %v\n%s", python, err, out)
	}
	for _, pc := range parityCases {
		t.Run(pc.name, func(t *testing.T) {
			in := loadCase(t, filepath.Join(dir, pc.name+".in.safetensors"))
			ref := loadCase(t, filepath.Join(dir, pc.name+".ref.safetensors"))
			if in.meta["case"] != pc.name || ref.meta["case"] != pc.name {
				t.Fatalf("the files of case %s say they hold cases %q and %q", pc.name, in.meta["case"], ref.meta["case"])
			}
			r := pc.run(t, in)
			checkCase(t, r, ref, structurallyZero[pc.name])
		})
	}
}

// caseFile is one safetensors file of a case: tensors by name and metadata.
type caseFile struct {
	names []string // sorted
	t     map[string]*tensor.Tensor
	meta  map[string]string
}

// loadCase reads a case file written by torch_parity.py.
func loadCase(t *testing.T, path string) caseFile {
	t.Helper()
	entries, meta, err := safetensors.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cf := caseFile{t: map[string]*tensor.Tensor{}, meta: meta}
	for _, e := range entries {
		cf.names = append(cf.names, e.Name)
		cf.t[e.Name] = tensor.Wrap(e.Data, e.Shape...)
	}
	return cf
}

// data returns the input "data.<name>", failing the test if it is absent.
func (cf caseFile) data(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	x, ok := cf.t["data."+name]
	if !ok {
		t.Fatalf("no data.%s in the inputs (have %v)", name, cf.names)
	}
	return x
}

// grad returns "data.<name>" marked as needing a gradient.
func (cf caseFile) grad(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	return cf.data(t, name).SetRequiresGrad(true)
}

// ints returns "data.<name>" as integers (labels, lengths).
func (cf caseFile) ints(t *testing.T, name string) []int {
	t.Helper()
	var out []int
	for _, v := range cf.data(t, name).Data() {
		out = append(out, int(v))
	}
	return out
}

// weights returns every entry that is not data, for nn.LoadStateDict.
func (cf caseFile) weights() []nn.NamedTensor {
	var out []nn.NamedTensor
	for _, n := range cf.names {
		if !strings.HasPrefix(n, "data.") {
			out = append(out, nn.NamedTensor{Name: n, Tensor: cf.t[n]})
		}
	}
	return out
}

// result is what graft computed for a case, for checkCase to compare.
type result struct {
	outputs map[string]*tensor.Tensor // "output", "loss"
	grads   map[string]*tensor.Tensor // tensors whose Grad is checked, by reference name ("0.weight", "data.x")
	state   map[string]*tensor.Tensor // buffers after the forward pass
}

type parityCase struct {
	name string
	run  func(t *testing.T, in caseFile) result
}

var parityCases = []parityCase{
	{"mlp", func(t *testing.T, in caseFile) result {
		m := nn.NewMLP([]int{784, 256, 10}, "relu", 0, tensor.NewRNG(1))
		x := in.grad(t, "x")
		return modelRun(t, m, in, x, func(out *tensor.Tensor) *tensor.Tensor {
			return nn.CrossEntropy(out, in.ints(t, "labels"), nn.CrossEntropyOptions{LabelSmoothing: 0.1})
		})
	}},
	{"cnn", func(t *testing.T, in caseFile) result {
		r := tensor.NewRNG(2)
		m := nn.NewSequential(
			nn.NewConv2d(1, 6, 5, tensor.Conv2dOptions{}, true, r), nn.NewBatchNorm2d(6), nn.NewActivation("relu"), nn.NewMaxPool2d(2, 0),
			nn.NewConv2d(6, 16, 5, tensor.Conv2dOptions{}, true, r), nn.NewActivation("relu"), nn.NewAvgPool2d(2, 0), nn.NewFlatten(),
			nn.NewLinear(256, 120, true, r), nn.NewActivation("gelu"), nn.NewLinear(120, 10, true, r),
		)
		nn.Train(m)
		return modelRun(t, m, in, in.grad(t, "x"), func(out *tensor.Tensor) *tensor.Tensor {
			return nn.CrossEntropy(out, in.ints(t, "labels"))
		})
	}},
	{"transformer", func(t *testing.T, in caseFile) result {
		cfg := nn.TransformerConfig{Dim: 256, Heads: 4, FeedForward: 1024, Activation: "gelu", Eps: 1e-5}
		m := nn.NewTransformerEncoderLayer(cfg, tensor.NewRNG(3))
		x := in.grad(t, "x")
		mask := nn.CausalMask(x.Dim(1))
		return modelRunWith(t, m, in, x, func() *tensor.Tensor { return m.ForwardMask(x, mask) }, func(out *tensor.Tensor) *tensor.Tensor {
			return nn.MSELoss(out, in.data(t, "target"))
		})
	}},
	{"transformer_prenorm_padding", func(t *testing.T, in caseFile) result {
		cfg := nn.TransformerConfig{Dim: 64, Heads: 4, FeedForward: 96, Activation: "relu", NormFirst: true, Eps: 1e-6}
		m := nn.NewTransformerEncoderLayer(cfg, tensor.NewRNG(4))
		x := in.grad(t, "x")
		mask := nn.PaddingMask(in.ints(t, "lengths"), x.Dim(1))
		return modelRunWith(t, m, in, x, func() *tensor.Tensor { return m.ForwardMask(x, mask) }, func(out *tensor.Tensor) *tensor.Tensor {
			return nn.MSELoss(out, in.data(t, "target"))
		})
	}},
	opCase("conv2d_s2p1d2g2", []string{"x", "weight", "bias"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return tensor.Conv2d(in.data(t, "x"), in.data(t, "weight"), in.data(t, "bias"),
			tensor.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, Dilation: [2]int{2, 2}, Groups: 2})
	}),
	opCase("conv2d_asym", []string{"x", "weight", "bias"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return tensor.Conv2d(in.data(t, "x"), in.data(t, "weight"), in.data(t, "bias"),
			tensor.Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 2}, Dilation: [2]int{1, 2}})
	}),
	opCase("max_pool2d_k3s2p1", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return tensor.MaxPool2d(in.data(t, "x"), tensor.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}})
	}),
	opCase("avg_pool2d_k3s2p1", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return tensor.AvgPool2d(in.data(t, "x"), tensor.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}})
	}),
	opCase("layer_norm", []string{"x", "weight", "bias"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return tensor.LayerNorm(in.data(t, "x"), in.data(t, "weight"), in.data(t, "bias"), 1, 1e-5)
	}),
	opCase("layer_norm_2d", []string{"x", "weight", "bias"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return tensor.LayerNorm(in.data(t, "x"), in.data(t, "weight"), in.data(t, "bias"), 2, 1e-6)
	}),
	opCase("softmax_large", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return in.data(t, "x").Softmax(-1)
	}),
	opCase("log_softmax_large", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return in.data(t, "x").LogSoftmax(-1)
	}),
	opCase("log_softmax_axis1", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return in.data(t, "x").LogSoftmax(1)
	}),
	opCase("gelu", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return in.data(t, "x").GELU()
	}),
	opCase("cross_entropy_weighted_smoothed", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return nn.CrossEntropy(in.data(t, "x"), in.ints(t, "labels"),
			nn.CrossEntropyOptions{LabelSmoothing: 0.2, Weight: in.data(t, "weight").Data()})
	}),
	opCase("bce_with_logits_pos_weight", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return nn.BCEWithLogits(in.data(t, "x"), in.data(t, "target"), in.data(t, "pos_weight"))
	}),
	opCase("kl_div_batchmean", []string{"x"}, func(t *testing.T, in caseFile) *tensor.Tensor {
		return nn.KLDiv(in.data(t, "x"), in.data(t, "target"), nn.BatchMean)
	}),
}

// modelRun loads the case's weights into m (strictly), runs m on x and the
// loss, back-propagates, and collects outputs, gradients and buffers.
func modelRun(t *testing.T, m nn.Layer, in caseFile, x *tensor.Tensor, loss func(*tensor.Tensor) *tensor.Tensor) result {
	return modelRunWith(t, m, in, x, func() *tensor.Tensor { return m.Forward(x) }, loss)
}

// modelRunWith is modelRun with its own forward pass (which must use m).
func modelRunWith(t *testing.T, m nn.Module, in caseFile, x *tensor.Tensor, forward func() *tensor.Tensor, loss func(*tensor.Tensor) *tensor.Tensor) result {
	t.Helper()
	if err := nn.LoadStateDict(m, in.weights(), true); err != nil {
		t.Fatal(err)
	}
	out := forward()
	l := loss(out)
	l.Backward()
	r := result{
		outputs: map[string]*tensor.Tensor{"output": out, "loss": l},
		grads:   map[string]*tensor.Tensor{"data.x": x},
		state:   map[string]*tensor.Tensor{},
	}
	for _, p := range nn.NamedParameters(m) {
		r.grads[p.Name] = p.Tensor
	}
	for _, b := range nn.NamedBuffers(m) {
		r.state[b.Name] = b.Tensor
	}
	return r
}

// opCase is a single operation on the case's data: f's result is compared
// with "output", and the gradients of the named inputs — of the result itself
// when it is a scalar loss, else of Σ result·upstream — with "grad.data.<name>".
func opCase(name string, grads []string, f func(t *testing.T, in caseFile) *tensor.Tensor) parityCase {
	return parityCase{name, func(t *testing.T, in caseFile) result {
		r := result{grads: map[string]*tensor.Tensor{}}
		for _, g := range grads {
			r.grads["data."+g] = in.grad(t, g)
		}
		out := f(t, in)
		if out.Len() == 1 && out.Dims() == 0 {
			out.Backward()
		} else {
			out.BackwardWith(in.data(t, "upstream"))
		}
		r.outputs = map[string]*tensor.Tensor{"output": out}
		return r
	}}
}

// structurallyZero lists, per case, the gradients that are zero in exact
// arithmetic, for which PyTorch and graft both return rounding noise whose
// relative error means nothing: the bias of a convolution followed by batch
// norm (which subtracts each channel's mean) and the bias of attention's key
// projection (it adds q·b_k to every score of a row, which softmax ignores).
// Each is checked on the scale of the sibling gradient named here — both the
// reference and graft's value must be below 1e-4 of that scale.
var structurallyZero = map[string]map[string]string{
	"cnn":                         {"grad.0.bias": "grad.0.weight"},
	"transformer":                 {"grad.self_attn.k_proj.bias": "grad.self_attn.k_proj.weight"},
	"transformer_prenorm_padding": {"grad.self_attn.k_proj.bias": "grad.self_attn.k_proj.weight"},
}

// checkCase compares r with every reference tensor, one subtest each, and
// also fails when graft has a gradient or buffer the reference lacks. zero
// maps structurally zero gradients to the sibling that sets their scale.
func checkCase(t *testing.T, r result, ref caseFile, zero map[string]string) {
	var worst struct {
		err  float64
		name string
	}
	used := map[string]bool{}
	for _, name := range ref.names {
		want := ref.t[name]
		var got *tensor.Tensor
		var what string
		switch {
		case strings.HasPrefix(name, "grad."):
			p, ok := r.grads[strings.TrimPrefix(name, "grad.")]
			what = "no tensor in graft for this gradient"
			if ok {
				used[name] = true
				got = p.Grad()
				what = "graft computed no gradient"
			}
		case strings.HasPrefix(name, "state."):
			got = r.state[strings.TrimPrefix(name, "state.")]
			used[name] = got != nil
			what = "graft has no such buffer"
		default:
			got = r.outputs[name]
			used[name] = got != nil
			what = "graft has no such output"
		}
		t.Run(name, func(t *testing.T) {
			if got == nil {
				worst.err, worst.name = math.Inf(1), name
				t.Fatalf("%s", what)
			}
			scale := -1.0
			if sib, ok := zero[name]; ok {
				scale = maxAbs(ref.t[sib])
				if ms := maxAbs(want); ms > parityTol*scale {
					t.Errorf("the reference is not zero: max |want| %.3g, more than %.0e of max |%s| %.3g", ms, parityTol, sib, scale)
				}
				t.Logf("zero in exact arithmetic: scale is max |%s| = %.4g", sib, scale)
			}
			e, msg := compareTensor(got, want, scale)
			t.Logf("%s", msg)
			if e > worst.err || math.IsNaN(e) {
				worst.err, worst.name = e, name
			}
			if !(e <= parityTol) {
				t.Errorf("error %.3g exceeds %.0e", e, parityTol)
			}
		})
	}
	for name, p := range r.grads {
		if p.RequiresGrad() && !used["grad."+name] {
			t.Errorf("the reference has no gradient for graft's %s", name)
		}
	}
	for name := range r.state {
		if !used["state."+name] {
			t.Errorf("the reference has no value for graft's buffer %s", name)
		}
	}
	if worst.name == "" {
		worst.name = "all exact"
	}
	t.Logf("%s: worst relative error %.3g (%s) over %d tensors", t.Name(), worst.err, worst.name, len(ref.names))
}

// maxAbs returns the largest |value| of t.
func maxAbs(t *tensor.Tensor) float64 {
	var m float64
	for _, v := range t.Data() {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// compareTensor returns the worst error of got against want, each element's
// |got−want| relative to max(|want|, scale), and a line describing it. A
// negative scale means max|want|.
func compareTensor(got, want *tensor.Tensor, scale float64) (float64, string) {
	if got.Len() != want.Len() || (got.Dims() != want.Dims() && got.Len() != 1) {
		return math.Inf(1), fmt.Sprintf("shape %s, want %s", tensor.FormatShape(got.Shape()), tensor.FormatShape(want.Shape()))
	}
	for i, d := range got.Shape() {
		if got.Len() != 1 && d != want.Dim(i) {
			return math.Inf(1), fmt.Sprintf("shape %s, want %s", tensor.FormatShape(got.Shape()), tensor.FormatShape(want.Shape()))
		}
	}
	g, w := got.Data(), want.Data()
	var diff2, norm2 float64
	if scale < 0 {
		scale = maxAbs(want)
	}
	worst, at := 0.0, 0
	for i := range w {
		a, b := float64(g[i]), float64(w[i])
		d := math.Abs(a - b)
		if a == b { // equal infinities too
			d = 0
		}
		e := d / math.Max(math.Max(math.Abs(b), scale), math.SmallestNonzeroFloat32)
		if math.IsNaN(e) {
			e = math.Inf(1)
		}
		if e > worst {
			worst, at = e, i
		}
		diff2 += d * d
		norm2 += b * b
	}
	return worst, fmt.Sprintf("worst %.3g at %s: got %.8g, want %.8g (scale %.4g; relative L2 error %.3g)",
		worst, index(want.Shape(), at), g[at], w[at], scale, math.Sqrt(diff2/math.Max(norm2, 1e-300)))
}

// index renders flat position i of shape as a multi-index, e.g. "[3 0 17]".
func index(shape []int, i int) string {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = i % shape[k]
		i /= shape[k]
	}
	return fmt.Sprint(idx)
}
