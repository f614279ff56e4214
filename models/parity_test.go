package models_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/models/internal/torchref"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// parityCase is one model for TestTorchParity: the script's case name, the
// configuration it rebuilds the model from, and the input batch.
type parityCase struct {
	name, kind string
	cfg        any
	make       func(r tensor.Rand) (models.Classifier, error)
	x          *tensor.Tensor
}

// TestTorchParity builds each model with random weights in graft, hands the
// weights and an input batch to testdata/torch_models.py, which rebuilds the
// architecture in plain PyTorch under the same parameter names and loads them
// strictly, and compares features, logits and the parameter count. Models with
// batch norm run in evaluation mode with non-trivial running statistics.
func TestTorchParity(t *testing.T) {
	r := tensor.NewRNG(11)
	mlp := models.MLPConfig{Inputs: 64, Hidden: []int{32, 16}, Classes: 10, Activation: "relu"}
	lenet := models.LeNetConfig{InChannels: 3, ImageSize: 28, Classes: 7, Kernel: 5, Padding: 2, Activation: "relu"}
	lenetTanh := models.LeNetConfig{InChannels: 1, ImageSize: 16, Classes: 10, Kernel: 3, Padding: 1, Activation: "tanh", AvgPool: true}
	resnet := func(sc string) models.ResNetConfig {
		return models.ResNetConfig{Depth: 20, Classes: 10, InChannels: 3, Widths: [3]int{16, 32, 64}, Shortcut: sc}
	}
	cases := []parityCase{
		{"mlp", "mlp", mlp, func(r tensor.Rand) (models.Classifier, error) { return models.NewMLP(mlp, r) }, tensor.Randn(r, 5, 1, 8, 8)},
		{"lenet_relu_max", "lenet", lenet, func(r tensor.Rand) (models.Classifier, error) { return models.NewLeNet(lenet, r) }, tensor.Randn(r, 4, 3, 28, 28)},
		{"lenet_tanh_avg", "lenet", lenetTanh, func(r tensor.Rand) (models.Classifier, error) { return models.NewLeNet(lenetTanh, r) }, tensor.Randn(r, 4, 1, 16, 16)},
		{"resnet20_A", "resnet", resnet("A"), func(r tensor.Rand) (models.Classifier, error) { return models.NewResNet(resnet("A"), r) }, tensor.Randn(r, 3, 3, 16, 16)},
		{"resnet20_B", "resnet", resnet("B"), func(r tensor.Rand) (models.Classifier, error) { return models.NewResNet(resnet("B"), r) }, tensor.Randn(r, 3, 3, 16, 16)},
	}
	dir := t.TempDir()
	var args []string
	built := make([]models.Classifier, len(cases))
	for i, c := range cases {
		m, err := c.make(r)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		torchref.Perturb(m, r, 0)
		for _, b := range nn.NamedBuffers(m) {
			switch {
			case strings.HasSuffix(b.Name, ".running_mean"):
				nn.NormalInit(b.Tensor, r, 0, 0.3)
			case strings.HasSuffix(b.Name, ".running_var"):
				nn.UniformInit(b.Tensor, r, 0.5, 2)
			}
		}
		nn.Eval(m)
		cfg, _ := json.Marshal(c.cfg)
		in := filepath.Join(dir, c.name+".in.safetensors")
		torchref.SaveModel(t, in, m, map[string]*tensor.Tensor{"x": c.x}, map[string]string{"case": c.kind, "config": string(cfg)})
		args = append(args, in, filepath.Join(dir, c.name+".out.safetensors"))
		built[i] = m
	}
	torchref.Run(t, filepath.Join("testdata", "torch_models.py"), args...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ref := built[i], torchref.Load(t, filepath.Join(dir, c.name+".out.safetensors"))
			f := m.Features(c.x)
			torchref.Compare(t, "features", f, ref["features"], torchref.Tol)
			torchref.Compare(t, "logits", m.Classify(f), ref["logits"], torchref.Tol)
			total, _ := nn.CountParameters(m)
			if want := int(ref["count"].Item()); total != want {
				t.Errorf("graft counts %d parameters, torch %d", total, want)
			}
		})
	}
}
