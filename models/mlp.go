package models

import (
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// MLPConfig describes a multilayer perceptron classifier.
type MLPConfig struct {
	Inputs     int     // input width (inputs with more axes are flattened after the batch axis)
	Hidden     []int   // widths of the hidden layers, in order (none: a linear classifier)
	Classes    int     // number of outputs
	Activation string  // nonlinearity after each hidden layer (default "relu")
	Dropout    float32 // dropout after each hidden activation (0: none)
	// BatchNorm puts a BatchNorm1d after each hidden Linear layer, before
	// its activation (false: none, and the layers keep their numbering).
	BatchNorm bool
}

// MLP is a multilayer perceptron: Linear layers with an activation (and
// dropout) between them, named "0", "1", … as in PyTorch's nn.Sequential;
// with BatchNorm, each hidden Linear layer is followed by a BatchNorm1d
// (Linear "0", BatchNorm "1", activation "2", Linear "3", …).
// The last Linear layer is the head; Features is the last hidden activation.
type MLP struct {
	Layers     []nn.Layer `nn:",inline"`
	featureDim int
}

// NewMLP returns the perceptron cfg describes, initialised as PyTorch's
// nn.Linear layers from r.
func NewMLP(cfg MLPConfig, r tensor.Rand) (*MLP, error) {
	if cfg.Activation == "" {
		cfg.Activation = "relu"
	}
	if err := checkActivation("models.NewMLP", cfg.Activation); err != nil {
		return nil, err
	}
	sizes := append(append([]int{cfg.Inputs}, cfg.Hidden...), cfg.Classes)
	for i, s := range sizes {
		if s <= 0 {
			return nil, fmt.Errorf("models.NewMLP: layer widths %v (inputs, hidden…, classes) must be positive; entry %d is %d", sizes, i, s)
		}
	}
	if cfg.Dropout < 0 || cfg.Dropout >= 1 {
		return nil, fmt.Errorf("models.NewMLP: dropout %g is outside [0, 1)", cfg.Dropout)
	}
	if !cfg.BatchNorm {
		return &MLP{Layers: nn.NewMLP(sizes, cfg.Activation, cfg.Dropout, r).Layers, featureDim: sizes[len(sizes)-2]}, nil
	}
	var layers []nn.Layer
	for i := 0; i+1 < len(sizes); i++ {
		layers = append(layers, nn.NewLinear(sizes[i], sizes[i+1], true, r))
		if i+2 < len(sizes) {
			layers = append(layers, nn.NewBatchNorm1d(sizes[i+1]), nn.NewActivation(cfg.Activation))
			if cfg.Dropout > 0 {
				layers = append(layers, nn.NewDropout(cfg.Dropout, r.Uint64()))
			}
		}
	}
	return &MLP{Layers: layers, featureDim: sizes[len(sizes)-2]}, nil
}

// flat flattens x after the batch axis when it has more than two axes.
func flat(x *tensor.Tensor) *tensor.Tensor {
	if x.Dims() > 2 {
		return x.Flatten(1, -1)
	}
	return x
}

// Features runs x (N, Inputs), or (N, …) flattened, through every layer but
// the head.
func (m *MLP) Features(x *tensor.Tensor) *tensor.Tensor {
	// As a Sequential, whose Linear+ReLU pairs run fused.
	return (&nn.Sequential{Layers: m.Layers[:len(m.Layers)-1]}).Forward(flat(x))
}

// Classify applies the last Linear layer.
func (m *MLP) Classify(features *tensor.Tensor) *tensor.Tensor {
	return m.Head().Forward(features)
}

// Forward returns the logits of x.
func (m *MLP) Forward(x *tensor.Tensor) *tensor.Tensor { return m.Classify(m.Features(x)) }

// Head returns the last Linear layer.
func (m *MLP) Head() nn.Layer { return m.Layers[len(m.Layers)-1] }

// FeatureDim returns the width of the last hidden layer (the input width
// without hidden layers).
func (m *MLP) FeatureDim() int { return m.featureDim }
