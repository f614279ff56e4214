package models_test

import (
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Every model of the package is a Classifier.
var (
	_ models.Classifier = (*models.MLP)(nil)
	_ models.Classifier = (*models.LeNet)(nil)
	_ models.Classifier = (*models.ResNet)(nil)
)

// resnetCount is the parameter count of a CIFAR ResNet by formula: a 3×3
// stem conv and its batch norm, per block two 3×3 convs and two batch norms
// (and, with option B, a 1×1 projection and a batch norm where the shape
// changes: the first block of stages 2 and 3, which halve the resolution),
// and the linear head.
func resnetCount(depth, in, classes int, widths [3]int, shortcut string) int {
	n := (depth - 2) / 6
	total := 9*in*widths[0] + 2*widths[0]
	c := widths[0]
	for s, w := range widths {
		for i := 0; i < n; i++ {
			total += 9*c*w + 9*w*w + 4*w
			if (c != w || (s > 0 && i == 0)) && shortcut == "B" {
				total += c*w + 2*w
			}
			c = w
		}
	}
	return total + c*classes + classes
}

func TestParameterCounts(t *testing.T) {
	r := tensor.NewRNG(1)
	mustMLP := func(cfg models.MLPConfig) nn.Module {
		m, err := models.NewMLP(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mustLeNet := func(cfg models.LeNetConfig) nn.Module {
		m, err := models.NewLeNet(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mustResNet := func(cfg models.ResNetConfig) nn.Module {
		m, err := models.NewResNet(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name string
		m    nn.Module
		want int
	}{
		// 784·256+256 + 256·10+10
		{"mlp 784-256-10", mustMLP(models.MLPConfig{Inputs: 784, Hidden: []int{256}, Classes: 10}), 203530},
		{"linear 64-10", mustMLP(models.MLPConfig{Inputs: 64, Classes: 10}), 650},
		// LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850
		{"lenet-5 32×32", mustLeNet(models.LeNetConfig{}), 61706},
		// 28×28 with padding 2 has the same geometry.
		{"lenet-5 28×28 pad 2", mustLeNet(models.LeNetConfig{ImageSize: 28, Padding: 2}), 61706},
		// 3 channels: conv1 has 3·6·25+6 = 456; 28×28 unpadded leaves 16·4·4 = 256 inputs to fc1.
		{"lenet rgb 28×28", mustLeNet(models.LeNetConfig{InChannels: 3, ImageSize: 28}), 456 + 2416 + 256*120 + 120 + 10164 + 850},
		// He et al.'s ResNet-20 (option A, 0.27M in their table) and with projections.
		{"resnet20 A", mustResNet(models.ResNetConfig{}), 269722},
		{"resnet20 B", mustResNet(models.ResNetConfig{Shortcut: "B"}), 272474},
		{"resnet56 A", mustResNet(models.ResNetConfig{Depth: 56}), resnetCount(56, 3, 10, [3]int{16, 32, 64}, "A")},
		{"resnet110 B", mustResNet(models.ResNetConfig{Depth: 110, Shortcut: "B", Classes: 100}), resnetCount(110, 3, 100, [3]int{16, 32, 64}, "B")},
		{"resnet8 narrow gray", mustResNet(models.ResNetConfig{Depth: 8, InChannels: 1, Widths: [3]int{4, 8, 8}, Shortcut: "B"}), resnetCount(8, 1, 10, [3]int{4, 8, 8}, "B")},
	}
	if got := resnetCount(20, 3, 10, [3]int{16, 32, 64}, "A"); got != 269722 {
		t.Fatalf("the formula gives %d for ResNet-20, hand count 269,722", got)
	}
	for _, c := range cases {
		total, trainable := nn.CountParameters(c.m)
		if total != c.want || trainable != c.want {
			t.Errorf("%s: %d parameters (%d trainable), want %d", c.name, total, trainable, c.want)
		}
	}
}

func TestResNetNames(t *testing.T) {
	for _, c := range []struct {
		shortcut string
		want     []string // names that must exist
		absent   []string
	}{
		{"A", []string{"conv1.weight", "bn1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.2.bn2.bias", "layer2.0.conv1.weight", "layer3.2.bn2.num_batches_tracked", "fc.weight", "fc.bias"},
			[]string{"layer2.0.downsample.0.weight", "conv1.bias"}},
		{"B", []string{"layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight", "layer2.0.downsample.1.running_var", "layer3.0.downsample.0.weight"},
			[]string{"layer1.0.downsample.0.weight", "layer2.1.downsample.0.weight", "layer2.0.downsample.0.bias"}},
	} {
		m, err := models.NewResNet(models.ResNetConfig{Shortcut: c.shortcut}, tensor.NewRNG(2))
		if err != nil {
			t.Fatal(err)
		}
		have := map[string][]int{}
		for _, p := range nn.StateDict(m) {
			have[p.Name] = p.Tensor.Shape()
		}
		for _, n := range c.want {
			if _, ok := have[n]; !ok {
				t.Errorf("shortcut %s: no %s", c.shortcut, n)
			}
		}
		for _, n := range c.absent {
			if _, ok := have[n]; ok {
				t.Errorf("shortcut %s: unexpected %s", c.shortcut, n)
			}
		}
		if s := have["layer2.0.conv1.weight"]; len(s) != 4 || s[0] != 32 || s[1] != 16 || s[2] != 3 {
			t.Errorf("layer2.0.conv1.weight has shape %v, want [32 16 3 3]", s)
		}
	}
}

// TestShortcutA checks option A's shortcut on hand-computed values: with
// every convolution zeroed and batch norm in evaluation at its defaults, the
// residual branch is 0 and a block's output is relu(shortcut(x)) — x
// subsampled at even rows and columns, with the new channels zero, split
// half before and half after.
func TestShortcutA(t *testing.T) {
	m, err := models.NewResNet(models.ResNetConfig{Depth: 8, InChannels: 1, Widths: [3]int{2, 4, 8}}, tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	nn.Eval(m)
	b := m.Layer2[0]
	if b.Stride != 2 || b.PadChannels != 2 || b.Downsample != nil {
		t.Fatalf("layer2.0: stride %d, pad %d, downsample %v; want 2, 2, nil", b.Stride, b.PadChannels, b.Downsample)
	}
	for _, l := range []nn.Layer{b.Conv1, b.Conv2} {
		l.(*nn.Conv2d).Weight.Fill(0)
	}
	// x: 2 channels, 4×4, values c·100 + 4i + j − 20 (negative ones test the relu).
	x := tensor.Zeros(1, 2, 4, 4)
	for c := 0; c < 2; c++ {
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				x.SetAt(float32(c*100+4*i+j-5), 0, c, i, j)
			}
		}
	}
	y := b.Forward(x)
	if s := y.Shape(); len(s) != 4 || s[1] != 4 || s[2] != 2 || s[3] != 2 {
		t.Fatalf("output shape %v, want [1 4 2 2]", s)
	}
	want := []float32{
		0, 0, 0, 0, // zero channel before
		0, 0, 3, 5, // channel 0 at (0,0),(0,2),(2,0),(2,2): −5, −3, 3, 5 → relu
		95, 97, 103, 105, // channel 1
		0, 0, 0, 0, // zero channel after
	}
	for i, v := range y.Data() {
		if v != want[i] {
			t.Fatalf("output %v, want %v", y.Data(), want)
		}
	}
}

// TestClassifierSplit checks that Forward is the head applied to Features,
// that FeatureDim is the features' width and that Head is the named layer.
func TestClassifierSplit(t *testing.T) {
	r := tensor.NewRNG(4)
	mlp, _ := models.NewMLP(models.MLPConfig{Inputs: 64, Hidden: []int{32, 16}, Classes: 10, Dropout: 0.5}, r)
	lenet, _ := models.NewLeNet(models.LeNetConfig{InChannels: 3, ImageSize: 28, Padding: 2, Classes: 7}, r)
	resnet, _ := models.NewResNet(models.ResNetConfig{Depth: 8, Classes: 5, Shortcut: "B"}, r)
	for _, c := range []struct {
		name    string
		m       models.Classifier
		x       *tensor.Tensor
		dim     int
		classes int
		head    string
	}{
		{"mlp", mlp, tensor.Randn(r, 3, 1, 8, 8), 16, 10, "6"},
		{"lenet", lenet, tensor.Randn(r, 3, 3, 28, 28), 84, 7, "fc3"},
		{"resnet", resnet, tensor.Randn(r, 3, 3, 16, 16), 64, 5, "fc"},
	} {
		nn.Eval(c.m)
		f := c.m.Features(c.x)
		if f.Dims() != 2 || f.Dim(0) != 3 || f.Dim(1) != c.dim || c.m.FeatureDim() != c.dim {
			t.Errorf("%s: features %v, FeatureDim %d; want (3, %d)", c.name, f.Shape(), c.m.FeatureDim(), c.dim)
			continue
		}
		out, split := c.m.Forward(c.x), c.m.Classify(f)
		if out.Dim(1) != c.classes {
			t.Errorf("%s: logits %v, want %d classes", c.name, out.Shape(), c.classes)
		}
		for i, v := range out.Data() {
			if v != split.Data()[i] {
				t.Fatalf("%s: Forward %v differs from Classify(Features) %v", c.name, out.Data(), split.Data())
			}
		}
		h, err := nn.Get(c.m, c.head)
		if err != nil || h != nn.Module(c.m.Head()) {
			t.Errorf("%s: Head() is not the module named %q (%v)", c.name, c.head, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	r := tensor.NewRNG(5)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"mlp activation", second(models.NewMLP(models.MLPConfig{Inputs: 4, Classes: 2, Activation: "relu6"}, r)), `unknown activation "relu6"`},
		{"mlp width", second(models.NewMLP(models.MLPConfig{Inputs: 4, Hidden: []int{8, 0}, Classes: 2}, r)), "entry 2 is 0"},
		{"mlp dropout", second(models.NewMLP(models.MLPConfig{Inputs: 4, Classes: 2, Dropout: 1}, r)), "dropout 1"},
		{"lenet small", second(models.NewLeNet(models.LeNetConfig{ImageSize: 8}, r)), "8×8 image (padding 0, kernel 5) is too small"},
		{"resnet depth", second(models.NewResNet(models.ResNetConfig{Depth: 18}, r)), "depth 18 is not 6n+2"},
		{"resnet shortcut", second(models.NewResNet(models.ResNetConfig{Shortcut: "C"}, r)), `shortcut "C"`},
		{"resnet widths", second(models.NewResNet(models.ResNetConfig{Widths: [3]int{32, 16, 64}}, r)), "must not decrease"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestSummary checks that nn.Summary lists a model by its PyTorch names with
// the right total.
func TestSummary(t *testing.T) {
	m, _ := models.NewLeNet(models.LeNetConfig{}, tensor.NewRNG(6))
	s := nn.Summary(m)
	if s.Total != 61706 || len(s.Params) != 10 || s.Params[0].Name != "conv1.weight" || s.Params[9].Name != "fc3.bias" {
		t.Fatalf("summary: total %d, %d tensors, first %q", s.Total, len(s.Params), s.Params[0].Name)
	}
	text := s.String()
	for _, want := range []string{"conv2.weight", "fc1.weight", "61,706"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary text lacks %q:\n%s", want, text)
		}
	}
}

// TestResNetTrains checks that gradients reach every parameter: one SGD step
// on a fixed batch lowers the loss.
func TestResNetTrains(t *testing.T) {
	r := tensor.NewRNG(7)
	m, _ := models.NewResNet(models.ResNetConfig{Depth: 8, Widths: [3]int{4, 8, 8}, Classes: 3}, r)
	x := tensor.Randn(r, 6, 3, 8, 8)
	labels := []int{0, 1, 2, 0, 1, 2}
	loss := nn.CrossEntropy(m.Forward(x), labels)
	loss.Backward()
	for _, p := range nn.NamedParameters(m) {
		g := p.Tensor.Grad()
		if g == nil {
			t.Fatalf("%s has no gradient", p.Name)
		}
		var norm float64
		for _, v := range g.Data() {
			norm += float64(v) * float64(v)
		}
		if norm == 0 || math.IsNaN(norm) {
			t.Errorf("%s: gradient norm² %g", p.Name, norm)
		}
		d, gd := p.Tensor.Data(), g.Data()
		for i := range d {
			d[i] -= 0.05 * gd[i]
		}
	}
	after := nn.CrossEntropy(m.Forward(x), labels)
	if !(after.Item() < loss.Item()) {
		t.Errorf("loss %g after a step, %g before", after.Item(), loss.Item())
	}
}

// TestSaveLoad saves a ResNet (with its batch-norm statistics) through
// hf.SaveWeights and loads it into a freshly initialised one: identical
// outputs in evaluation mode. A checkpoint with projection shortcuts does not
// load into a model with option A shortcuts, and the error names the
// projection.
func TestSaveLoad(t *testing.T) {
	r := tensor.NewRNG(8)
	cfg := models.ResNetConfig{Depth: 8, Widths: [3]int{4, 8, 16}, Classes: 3, Shortcut: "B"}
	m, _ := models.NewResNet(cfg, r)
	nn.Train(m)
	m.Forward(tensor.Randn(r, 8, 3, 8, 8)) // moves the running statistics
	nn.Eval(m)
	dir := t.TempDir()
	if err := hf.SaveWeights(m, dir, nil); err != nil {
		t.Fatal(err)
	}
	back, _ := models.NewResNet(cfg, tensor.NewRNG(9))
	if err := hf.LoadWeights(back, dir, hf.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	nn.Eval(back)
	x := tensor.Randn(r, 2, 3, 8, 8)
	want, got := m.Forward(x).Data(), back.Forward(x).Data()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logits after the round trip %v, want %v", got, want)
		}
	}
	cfg.Shortcut = "A"
	a, _ := models.NewResNet(cfg, r)
	err := hf.LoadWeights(a, dir, hf.LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "layer2.0.downsample.0.weight") {
		t.Errorf("a B checkpoint into an A model: error %v", err)
	}
}
