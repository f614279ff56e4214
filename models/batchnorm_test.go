package models_test

import (
	"slices"
	"testing"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// names lists the parameter and buffer names of m in order.
func names(m nn.Module) []string {
	var out []string
	for _, p := range nn.StateDict(m) {
		out = append(out, p.Name)
	}
	return out
}

// TestBatchNormOption checks the names with batch norm on, that the default
// keeps the old names and values, and that batch norm sits before the
// activation: in training mode every hidden pre-activation is normalised.
func TestBatchNormOption(t *testing.T) {
	cfg := models.MLPConfig{Inputs: 6, Hidden: []int{5, 4}, Classes: 3, Dropout: 0.1}
	plain, _ := models.NewMLP(cfg, tensor.NewRNG(1))
	old := nn.NewMLP([]int{6, 5, 4, 3}, "relu", 0.1, tensor.NewRNG(1))
	if got, want := names(plain), names(old); !slices.Equal(got, want) {
		t.Errorf("MLP names without batch norm %v, want nn.NewMLP's %v", got, want)
	}
	cfg.BatchNorm = true
	bn, err := models.NewMLP(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
		"4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked", "8.weight", "8.bias"}
	if got := names(bn); !slices.Equal(got, want) {
		t.Errorf("MLP names with batch norm\n%v, want\n%v", got, want)
	}
	// Same draws: the Linear layers get the same initial values with or without batch norm.
	if a, b := plain.Layers[0].(*nn.Linear).Weight.Data(), bn.Layers[0].(*nn.Linear).Weight.Data(); !slices.Equal(a, b) {
		t.Error("batch norm changed the initial weights of layer 0")
	}
	// In training mode, the batch norm output (before ReLU) has per-unit mean 0 over the batch.
	nn.Train(bn)
	x := tensor.Randn(tensor.NewRNG(2), 16, 6).AddScalar(3)
	h := bn.Layers[1].Forward(bn.Layers[0].Forward(x))
	for j, m := range h.Mean(0).Data() {
		if m > 1e-5 || m < -1e-5 {
			t.Errorf("unit %d: batch-normalised mean %g, want 0", j, m)
		}
	}
	if f := bn.Features(x); f.Dim(1) != 4 || bn.FeatureDim() != 4 {
		t.Errorf("features %v, FeatureDim %d; want width 4", f.Shape(), bn.FeatureDim())
	}

	lcfg := models.LeNetConfig{ImageSize: 28, Padding: 2, Classes: 10}
	lplain, _ := models.NewLeNet(lcfg, tensor.NewRNG(3))
	if got := names(lplain); len(got) != 10 || got[0] != "conv1.weight" || got[9] != "fc3.bias" {
		t.Errorf("LeNet names without batch norm %v", got)
	}
	lcfg.BatchNorm = true
	lbn, _ := models.NewLeNet(lcfg, tensor.NewRNG(3))
	got := names(lbn)
	wantL := []string{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"}
	for _, b := range []string{"bn1", "bn2", "bn3", "bn4"} {
		for _, s := range []string{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"} {
			wantL = append(wantL, b+"."+s)
		}
	}
	if !slices.Equal(got, wantL) {
		t.Errorf("LeNet names with batch norm\n%v, want\n%v", got, wantL)
	}
	if tot, _ := nn.CountParameters(lbn); tot != 61706+2*(6+16+120+84) {
		t.Errorf("LeNet with batch norm has %d parameters, want %d", tot, 61706+2*(6+16+120+84))
	}
	nn.Eval(lbn)
	if out := lbn.Forward(tensor.Randn(tensor.NewRNG(4), 2, 1, 28, 28)); out.Dim(0) != 2 || out.Dim(1) != 10 {
		t.Errorf("LeNet with batch norm: logits %v", out.Shape())
	}
}
