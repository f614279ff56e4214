package main

import (
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// Benchmark is one named side-by-side comparison: a training step built in
// graft and the same step, with the same shapes, in the reference tools.
//
// To add one, append it to benchmarks below and add a function of the same
// name to BENCHES in torch_bench.py.
type Benchmark struct {
	// Name is the benchmark's name on the command line and in the output.
	Name string
	// Doc says in one line what a step is: model, shapes, loss, optimiser.
	Doc string
	// Steps is the default number of timed steps per repeat (-steps overrides).
	Steps int
	// Graft builds the model, a fixed random batch drawn from r and the
	// optimiser, and returns one training step (zero grad, forward, loss,
	// backward, optimiser step) that returns the loss.
	Graft func(r *tensor.RNG) (step func() float32, err error)
	// Torch names the function in torch_bench.py's BENCHES that builds the
	// PyTorch side; empty for none.
	Torch string
	// Others are further implementations, each a Go module of its own.
	Others []Other
	// Run, when set, measures the benchmark itself instead of the graft and
	// torch sides above: for comparisons that are not a training step, such
	// as the kernel latency (latency.go).
	Run func(c *comparer) *BenchReport
}

// Other is an implementation of a benchmark in another Go library, kept in
// a module of its own under bench/ so that graft's go.mod never depends on
// it. Its main package is built once and run as
// `PROGRAM -bench NAME -steps N -repeats R -warmup W`, printing the same JSON
// line as every other side (see result).
type Other struct {
	Label string // e.g. "gorgonia"
	Dir   string // module directory relative to graft's root, e.g. "bench/gorgonia"
}

// benchmarks is the registry, in the order "all" runs them (the optimal
// transport benchmarks against POT, pot.go, come last).
var benchmarks = append([]Benchmark{
	{
		Name:   "mlp",
		Doc:    "MLP 784-256-10 (ReLU), batch 128, cross-entropy, Adam lr 1e-3",
		Steps:  50,
		Graft:  graftMLP,
		Torch:  "mlp",
		Others: []Other{{Label: "gorgonia", Dir: "bench/gorgonia"}},
	},
	{
		Name:  "cnn",
		Doc:   "LeNet-style CNN on 1×28×28, batch 64, cross-entropy, Adam lr 1e-3",
		Steps: 20,
		Graft: graftCNN,
		Torch: "cnn",
	},
	{
		Name:  "transformer",
		Doc:   "encoder layer d 256, 4 heads, ff 1024, dropout 0, seq 64, batch 32, MSE, AdamW lr 1e-3",
		Steps: 5,
		Graft: graftTransformer,
		Torch: "transformer",
	},
	{
		Name:  "lora",
		Doc:   loraDoc,
		Steps: loraSteps,
		Graft: graftLoRA,
		Torch: "lora",
		Run:   runLoRA,
	},
	{
		Name: "latency",
		Doc:  latencyDoc,
		Run:  runLatency,
	},
	{
		Name: "live",
		Doc:  liveDoc,
		Run:  runLive,
	},
	{
		Name: "gemm",
		Doc:  gemmDoc,
		Run:  runGemm,
	},
	{
		Name:  "tsne",
		Doc:   tsneDoc,
		Steps: 1,
		Graft: graftTSNE,
		Run:   runTSNE,
	},
}, potBenchmarks()...)

// lookup returns the registered benchmark called name.
func lookup(name string) (Benchmark, bool) {
	for _, b := range benchmarks {
		if b.Name == name {
			return b, true
		}
	}
	return Benchmark{}, false
}

// randLabels returns n class labels in [0, classes).
func randLabels(r *tensor.RNG, n, classes int) []int {
	labels := make([]int, n)
	for i := range labels {
		labels[i] = r.IntN(classes)
	}
	return labels
}

// trainStep returns the step shared by all graft sides: zero grad, loss
// (forward), backward, optimiser step, and the release of the step's graph
// (as nn/train's Run does).
func trainStep(opt *optim.Adam, loss func() *tensor.Tensor) func() float32 {
	return func() float32 {
		opt.ZeroGrad()
		l := loss()
		l.Backward()
		opt.Step()
		v := l.Item()
		l.Release()
		return v
	}
}

func graftMLP(r *tensor.RNG) (func() float32, error) {
	model := nn.NewMLP([]int{784, 256, 10}, "relu", 0, r)
	x := tensor.Randn(r, 128, 784)
	labels := randLabels(r, 128, 10)
	opt, err := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		return nil, err
	}
	return trainStep(opt, func() *tensor.Tensor { return nn.CrossEntropy(model.Forward(x), labels) }), nil
}

func graftCNN(r *tensor.RNG) (func() float32, error) {
	var conv tensor.Conv2dOptions // stride 1, no padding
	model := nn.NewSequential(
		nn.NewConv2d(1, 6, 5, conv, true, r), nn.NewActivation("relu"), nn.NewMaxPool2d(2, 2),
		nn.NewConv2d(6, 16, 5, conv, true, r), nn.NewActivation("relu"), nn.NewMaxPool2d(2, 2),
		nn.NewFlatten(),
		nn.NewLinear(256, 120, true, r), nn.NewActivation("relu"),
		nn.NewLinear(120, 84, true, r), nn.NewActivation("relu"),
		nn.NewLinear(84, 10, true, r),
	)
	x := tensor.Randn(r, 64, 1, 28, 28)
	labels := randLabels(r, 64, 10)
	opt, err := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		return nil, err
	}
	return trainStep(opt, func() *tensor.Tensor { return nn.CrossEntropy(model.Forward(x), labels) }), nil
}

// transformerSetup returns the transformer benchmark's encoder layer (in
// training mode), input and target; the lora benchmark adapts the same.
func transformerSetup(r *tensor.RNG) (model *nn.TransformerEncoderLayer, x, target *tensor.Tensor) {
	model = nn.NewTransformerEncoderLayer(nn.TransformerConfig{Dim: 256, Heads: 4, FeedForward: 1024}, r)
	nn.Train(model)
	return model, tensor.Randn(r, 32, 64, 256), tensor.Randn(r, 32, 64, 256)
}

func graftTransformer(r *tensor.RNG) (func() float32, error) {
	model, x, target := transformerSetup(r)
	opt, err := optim.NewAdamW(nn.Parameters(model), optim.AdamConfig{LR: 1e-3}) // weight decay 0.01, as torch
	if err != nil {
		return nil, err
	}
	return trainStep(opt, func() *tensor.Tensor { return nn.MSELoss(model.Forward(x), target) }), nil
}
