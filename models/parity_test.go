package models_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/models/internal/reftest"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// parityTol is the largest absolute difference from PyTorch accepted.
const parityTol = 1e-4

// parityCase is one model for TestTorchParity: the reference script's case
// name, the configuration it rebuilds the model from, and the input batch.
type parityCase struct {
	name, kind string
	cfg        any
	make       func(r tensor.Rand) (models.Classifier, error)
	x          *tensor.Tensor
}

// TestTorchParity builds each model with random weights in graft, saves them
// with hf.SaveWeights next to its configuration and an input batch, and has
// testdata/torch_models.py rebuild the architecture in plain PyTorch under
// the same parameter names, load the weights strictly and run it; features,
// logits and the parameter count must agree. Models with batch norm run in
// evaluation mode with non-trivial running statistics.
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
	root := t.TempDir()
	var dirs []string
	built := make([]models.Classifier, len(cases))
	for i, c := range cases {
		m, err := c.make(r)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		reftest.Perturb(m, r, 0.2)
		for _, b := range nn.NamedBuffers(m) {
			switch {
			case strings.HasSuffix(b.Name, ".running_mean"):
				nn.NormalInit(b.Tensor, r, 0, 0.3)
			case strings.HasSuffix(b.Name, ".running_var"):
				nn.UniformInit(b.Tensor, r, 0.5, 2)
			}
		}
		nn.Eval(m)
		dir := filepath.Join(root, c.name)
		if err := hf.SaveWeights(m, dir, nil); err != nil {
			t.Fatal(err)
		}
		cfg, _ := json.Marshal(map[string]any{"graft_case": c.kind, "config": c.cfg})
		if err := os.WriteFile(filepath.Join(dir, hf.ConfigFile), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		reftest.Write(t, filepath.Join(dir, "inputs.safetensors"), map[string]*tensor.Tensor{"x": c.x})
		dirs, built[i] = append(dirs, dir), m
	}
	reftest.RunPython(t, filepath.Join("testdata", "torch_models.py"), dirs...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ref := built[i], reftest.Read(t, filepath.Join(dirs[i], "outputs.safetensors"))
			f := m.Features(c.x)
			reftest.Check(t, "features", f, ref["features"], parityTol)
			reftest.Check(t, "logits", m.Classify(f), ref["logits"], parityTol)
			total, _ := nn.CountParameters(m)
			if want := int(ref["count"].Item()); total != want {
				t.Errorf("graft counts %d parameters, torch %d", total, want)
			}
		})
	}
}
