package nn

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

func near(t *testing.T, name string, got, want float64, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*(1+math.Abs(want)) {
		t.Fatalf("%s = %.8g, want %.8g", name, got, want)
	}
}

func TestLossesHandComputed(t *testing.T) {
	logits := tensor.New([]float32{1, 2, 3, 1, 2, 3}, 2, 3)
	near(t, "ce", float64(CrossEntropy(logits.Reshape(2, 3), []int{2, 2}).Item()), 0.40760596, 1e-6)
	near(t, "ce ignore", float64(CrossEntropy(logits, []int{0, -100}).Item()), 2.40760596, 1e-6)
	// (0.9·0.40760596 + 0.1/3·(2.40760596+1.40760596+0.40760596))
	near(t, "ce smoothing", float64(CrossEntropy(logits, []int{2, 2}, CrossEntropyOptions{LabelSmoothing: 0.1}).Item()), 0.50760596, 1e-6)
	// (2·2.40760596 + 1·0.40760596) / (2 + 1)
	near(t, "ce weights", float64(CrossEntropy(logits, []int{0, 2}, CrossEntropyOptions{Weight: []float32{2, 1, 1}}).Item()), 1.74093929, 1e-6)
	near(t, "ce sum", float64(CrossEntropy(logits, []int{0, 2}, CrossEntropyOptions{Reduction: Sum}).Item()), 2.81521192, 1e-6)
	if n := CrossEntropy(logits, []int{1, 2}, CrossEntropyOptions{Reduction: None}); n.Len() != 2 || math.Abs(float64(n.At(0))-1.40760596) > 1e-6 {
		t.Fatalf("ce none: %v", n)
	}
	near(t, "nll", float64(NLLLoss(logits.LogSoftmax(-1), []int{1, 1}).Item()), 1.40760596, 1e-6)
	near(t, "mse", float64(MSELoss(tensor.New([]float32{1, 2}, 2), tensor.New([]float32{0, 4}, 2)).Item()), 2.5, 1e-7)
	near(t, "l1 sum", float64(L1Loss(tensor.New([]float32{1, 2}, 2), tensor.New([]float32{0, 4}, 2), Sum).Item()), 3, 1e-7)
	zero, one := tensor.Zeros(1), tensor.Ones(1)
	near(t, "bce", float64(BCEWithLogits(zero, one, nil).Item()), math.Ln2, 1e-6)
	near(t, "bce pos_weight", float64(BCEWithLogits(zero, one, tensor.Full(2, 1)).Item()), 2*math.Ln2, 1e-6)
	near(t, "bce large logit", float64(BCEWithLogits(tensor.Full(-100, 1), one, nil).Item()), 100, 1e-6)
	p := tensor.New([]float32{0.5, 0.5, 0}, 1, 3)
	logQ := tensor.New([]float32{0.25, 0.25, 0.5}, 1, 3).Log()
	near(t, "kl", float64(KLDiv(logQ, p, BatchMean).Item()), math.Ln2, 1e-6)
	near(t, "entropy uniform", float64(Entropy(tensor.Zeros(3, 4)).Item()), math.Log(4), 1e-6)
	near(t, "accuracy", Accuracy(logits, []int{2, 0}), 0.5, 0)
}

func TestLossGradients(t *testing.T) {
	x := tensor.Randn(tensor.NewRNG(5), 4, 3).SetRequiresGrad(true)
	target := tensor.Uniform(tensor.NewRNG(6), 0, 1, 4, 3)
	cases := map[string]func(in ...*tensor.Tensor) *tensor.Tensor{
		"cross entropy smoothing weights ignore": func(in ...*tensor.Tensor) *tensor.Tensor {
			return CrossEntropy(in[0], []int{0, 2, -100, 1}, CrossEntropyOptions{LabelSmoothing: 0.2, Weight: []float32{1, 2, 0.5}})
		},
		"bce pos weight": func(in ...*tensor.Tensor) *tensor.Tensor {
			return BCEWithLogits(in[0], target, tensor.New([]float32{1, 2, 3}, 3))
		},
		"kl": func(in ...*tensor.Tensor) *tensor.Tensor {
			return KLDiv(in[0].LogSoftmax(-1), target.Softmax(-1), BatchMean)
		},
		"entropy": func(in ...*tensor.Tensor) *tensor.Tensor { return Entropy(in[0]) },
		"mse":     func(in ...*tensor.Tensor) *tensor.Tensor { return MSELoss(in[0], target) },
	}
	for name, f := range cases {
		if err := tensor.GradCheck(f, []*tensor.Tensor{x}, tensor.GradCheckOptions{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLossBadInput(t *testing.T) {
	for want, f := range map[string]func(){
		"cross_entropy: label 3 at position 1 is outside [0, 3)": func() { CrossEntropy(tensor.Zeros(2, 3), []int{0, 3}) },
		"cross_entropy: 3 labels for logits (2,3) (2 rows)":      func() { CrossEntropy(tensor.Zeros(2, 3), []int{0, 1, 2}) },
		"mse_loss: input (2) and target (3) differ in shape":     func() { MSELoss(tensor.Zeros(2), tensor.Zeros(3)) },
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), want) {
					t.Errorf("panic %v, want %q", r, want)
				}
			}()
			f()
		}()
	}
}

func TestInitialisersMatchPyTorchBounds(t *testing.T) {
	r := tensor.NewRNG(7)
	l := NewLinear(400, 300, true, r)
	bound := 1 / math.Sqrt(400)
	for _, p := range []*tensor.Tensor{l.Weight, l.Bias} {
		for _, v := range p.Data() {
			if math.Abs(float64(v)) > bound {
				t.Fatalf("linear init value %v outside ±%v", v, bound)
			}
		}
	}
	std := float64(l.Weight.Var(false).Item())
	near(t, "linear weight variance", std, bound*bound/3, 0.02)
	w := tensor.Zeros(256, 128)
	KaimingNormal(w, r, 0, "fan_in", "relu")
	near(t, "kaiming normal variance", float64(w.Var(false).Item()), 2.0/128, 0.03)
	XavierUniform(w, r, 1)
	near(t, "xavier uniform variance", float64(w.Var(false).Item()), 2.0/(128+256), 0.03)
	in, out := Fans(tensor.Zeros(16, 6, 5, 5))
	if in != 150 || out != 400 {
		t.Fatalf("conv fans %d %d", in, out)
	}
}

func TestTransformerLayersGradients(t *testing.T) {
	r := tensor.NewRNG(11)
	enc := NewTransformerEncoderLayer(TransformerConfig{Dim: 4, Heads: 2, FeedForward: 6, Activation: "gelu"}, r)
	x := tensor.Randn(r, 2, 3, 4).SetRequiresGrad(true)
	mask := CausalMask(3)
	params := append([]*tensor.Tensor{x}, Parameters(enc)...)
	if err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor { return enc.ForwardMask(in[0], mask) }, params, tensor.GradCheckOptions{Atol: 2e-3, Rtol: 2e-2}); err != nil {
		t.Fatalf("encoder layer: %v", err)
	}
	enc.NormFirst = true
	if err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor { return enc.Forward(in[0]) }, params, tensor.GradCheckOptions{Atol: 2e-3, Rtol: 2e-2}); err != nil {
		t.Fatalf("pre-norm encoder layer: %v", err)
	}
	dec := NewTransformerDecoderLayer(TransformerConfig{Dim: 4, Heads: 2, FeedForward: 6}, r)
	mem := tensor.Randn(r, 2, 5, 4).SetRequiresGrad(true)
	pad := PaddingMask([]int{5, 2}, 5)
	params = append([]*tensor.Tensor{x, mem}, Parameters(dec)...)
	if err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor { return dec.Forward(in[0], in[1], mask, pad) }, params, tensor.GradCheckOptions{Atol: 2e-3, Rtol: 2e-2}); err != nil {
		t.Fatalf("decoder layer: %v", err)
	}
}

func TestAttentionMasksBlockPositions(t *testing.T) {
	r := tensor.NewRNG(12)
	mha := NewMultiheadAttention(4, 2, 0, r)
	x := tensor.Randn(r, 2, 3, 4)
	_, w := mha.ForwardWeights(x, x, x, CausalMask(3))
	if s := w.Shape(); !slices.Equal(s, []int{2, 2, 3, 3}) {
		t.Fatalf("weights shape %v", s)
	}
	for n := 0; n < 2; n++ {
		for h := 0; h < 2; h++ {
			for i := 0; i < 3; i++ {
				var sum float32
				for j := 0; j < 3; j++ {
					v := w.At(n, h, i, j)
					if j > i && v != 0 {
						t.Fatalf("causal mask leaked: weight[%d,%d,%d,%d] = %v", n, h, i, j, v)
					}
					sum += v
				}
				near(t, "row sum", float64(sum), 1, 1e-6)
			}
		}
	}
	// Changing a future token does not change an earlier output under the causal mask.
	y1 := mha.Forward(x, x, x, CausalMask(3))
	x2 := x.Clone()
	x2.SetAt(100, 0, 2, 1)
	y2 := mha.Forward(x2, x2, x2, CausalMask(3))
	for j := 0; j < 4; j++ {
		if y1.At(0, 0, j) != y2.At(0, 0, j) || y1.At(0, 1, j) != y2.At(0, 1, j) {
			t.Fatal("future token changed an earlier output")
		}
	}
}

func TestConvNetShapesAndBatchNormModes(t *testing.T) {
	r := tensor.NewRNG(13)
	bn := NewBatchNorm2d(6)
	lenet := NewSequential(
		NewConv2d(1, 6, 5, tensor.Conv2dOptions{}, true, r), bn, NewActivation("relu"), NewMaxPool2d(2, 0),
		NewConv2d(6, 16, 5, tensor.Conv2dOptions{}, true, r), NewActivation("relu"), NewMaxPool2d(2, 0),
		NewFlatten(), NewLinear(256, 120, true, r), NewActivation("relu"), NewLinear(120, 10, true, r))
	x := tensor.Randn(r, 3, 1, 28, 28)
	y := lenet.Forward(x)
	if s := y.Shape(); !slices.Equal(s, []int{3, 10}) {
		t.Fatalf("lenet output %v", s)
	}
	if bn.NumBatchesTracked.Item() != 1 {
		t.Fatal("batch norm did not count the training batch")
	}
	before := bn.RunningMean.Clone()
	Eval(lenet)
	lenet.Forward(x)
	if !equalData(before, bn.RunningMean) || bn.NumBatchesTracked.Item() != 1 {
		t.Fatal("eval mode changed running statistics")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "batch_norm: input (3,6) has 2 dimensions") {
			t.Fatalf("panic %v", r)
		}
	}()
	bn.Forward(tensor.Zeros(3, 6))
}

func TestQuickGELUValues(t *testing.T) {
	// quick_gelu(x) = x·σ(1.702x): σ(1.702) = 0.845796, σ(−3.404) = 0.032171.
	got := Activate("quick_gelu", tensor.New([]float32{0, 1, -2}, 3), 0).Data()
	want := []float32{0, 0.845796, -2 * 0.032171}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("quick_gelu[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}
