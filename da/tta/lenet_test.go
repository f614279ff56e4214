package tta_test

import (
	"slices"
	"testing"

	"github.com/graftml/graft/da/tta"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// TestConvBatchNorm runs the batch-norm methods on a LeNet with batch norm
// (BatchNorm2d after the convolutions, BatchNorm1d after fc1 and fc2):
// test-batch normalisation gives the logits of the model in training mode
// (nn.BatchNorm's batch statistics, checked against PyTorch in package nn),
// α = 1 the logits in evaluation mode, and Tent moves only the eight affine
// vectors of the four batch norms.
func TestConvBatchNorm(t *testing.T) {
	src, err := models.NewLeNet(models.LeNetConfig{ImageSize: 16, Kernel: 3, Classes: 4, BatchNorm: true}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	// Give the source non-trivial running statistics.
	nn.Train(src)
	r := tensor.NewRNG(2)
	tensor.WithNoGrad(func() {
		for i := 0; i < 3; i++ {
			src.Forward(tensor.Randn(r, 8, 1, 16, 16))
		}
	})
	nn.Eval(src)
	x := tensor.Randn(r, 6, 1, 16, 16).Scale(1.5).AddScalar(0.3)
	evalLogits := src.Forward(x).Float64s()
	before := stateOf(src)

	train, _ := tta.CopyModel(src)
	nn.Train(train)
	trainLogits := train.Forward(x).Float64s()

	bn, err := tta.NewBN(src, tta.BNOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := bn.Adapt(x)
	near(t, "test-batch BN (LeNet)", got.Data(), trainLogits, 1e-5)
	one, _ := tta.NewBN(src, tta.BNOptions{Alpha: 1})
	got, _ = one.Adapt(x)
	near(t, "α-BN, α = 1 (LeNet)", got.Data(), evalLogits, 1e-5)

	tent, err := tta.NewTent(src, tta.TentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tent.Adapt(x); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for k, v := range stateOf(tent.Model()) {
		if !slices.Equal(v, before[k]) {
			moved++
			if k[:2] != "bn" || (k[4:] != "weight" && k[4:] != "bias") {
				t.Errorf("Tent changed %s", k)
			}
		}
	}
	if moved != 8 {
		t.Errorf("Tent moved %d tensors, want the 8 batch-norm weights and biases", moved)
	}
	for k, v := range stateOf(src) {
		if !slices.Equal(v, before[k]) {
			t.Errorf("source %s changed", k)
		}
	}
}
