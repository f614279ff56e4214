package models

import (
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// LeNetConfig describes a LeNet-5-style network. Zero values take the
// defaults of LeCun et al.'s LeNet-5 on 32×32 images, with ReLU and max
// pooling as modern re-implementations use.
type LeNetConfig struct {
	InChannels int    // image channels (default 1)
	ImageSize  int    // height and width of the (square) input (default 32)
	Classes    int    // number of outputs (default 10)
	Kernel     int    // convolution kernel size (default 5)
	Padding    int    // zero padding of conv1: 2 gives 28×28 images LeNet-5's 32×32 geometry
	Activation string // nonlinearity after each conv and hidden linear layer (default "relu"; "tanh" as the original)
	AvgPool    bool   // average instead of max pooling (the original's subsampling)
	// BatchNorm puts a batch norm after conv1, conv2, fc1 and fc2, before
	// their activations: bn1, bn2 (BatchNorm2d) and bn3, bn4 (BatchNorm1d).
	// False: none, and the parameters are those of LeNet-5.
	BatchNorm bool
}

// LeNet is a LeNet-5-style convolutional network: conv1 (6 maps) → pool →
// conv2 (16 maps) → pool → fc1 (120) → fc2 (84) → fc3 (classes), an
// activation after every layer but fc3, pooling 2×2 with stride 2. Features
// is the 84-wide output of fc2's activation and fc3 is the head.
type LeNet struct {
	Conv1, Conv2  nn.Layer
	FC1, FC2, FC3 nn.Layer
	// BN1 … BN4 follow conv1, conv2, fc1 and fc2 when the config asks for
	// batch norm; nil otherwise.
	BN1, BN2, BN3, BN4 nn.Layer
	Activation         string
	AvgPool            bool
}

// NewLeNet returns the network cfg describes, initialised as PyTorch's
// default nn.Conv2d and nn.Linear layers from r. It returns an error when the
// image is too small for the two convolutions and poolings.
func NewLeNet(cfg LeNetConfig, r tensor.Rand) (*LeNet, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.InChannels, 1)
	def(&cfg.ImageSize, 32)
	def(&cfg.Classes, 10)
	def(&cfg.Kernel, 5)
	if cfg.Activation == "" {
		cfg.Activation = "relu"
	}
	if err := checkActivation("models.NewLeNet", cfg.Activation); err != nil {
		return nil, err
	}
	if cfg.InChannels < 0 || cfg.ImageSize < 0 || cfg.Classes < 0 || cfg.Kernel < 0 || cfg.Padding < 0 {
		return nil, fmt.Errorf("models.NewLeNet: negative size in %+v", cfg)
	}
	s1 := cfg.ImageSize + 2*cfg.Padding - cfg.Kernel + 1
	s2 := s1/2 - cfg.Kernel + 1
	s3 := s2 / 2
	if s1 < 2 || s2 < 2 || s3 < 1 {
		return nil, fmt.Errorf("models.NewLeNet: a %d×%d image (padding %d, kernel %d) is too small: the maps shrink to %d, %d and %d pixels a side",
			cfg.ImageSize, cfg.ImageSize, cfg.Padding, cfg.Kernel, s1, s2, s3)
	}
	pad := tensor.Conv2dOptions{Padding: [2]int{cfg.Padding, cfg.Padding}}
	m := &LeNet{
		Conv1:      nn.NewConv2d(cfg.InChannels, 6, cfg.Kernel, pad, true, r),
		Conv2:      nn.NewConv2d(6, 16, cfg.Kernel, tensor.Conv2dOptions{}, true, r),
		FC1:        nn.NewLinear(16*s3*s3, 120, true, r),
		FC2:        nn.NewLinear(120, 84, true, r),
		FC3:        nn.NewLinear(84, cfg.Classes, true, r),
		Activation: cfg.Activation,
		AvgPool:    cfg.AvgPool,
	}
	if cfg.BatchNorm {
		m.BN1, m.BN2 = nn.NewBatchNorm2d(6), nn.NewBatchNorm2d(16)
		m.BN3, m.BN4 = nn.NewBatchNorm1d(120), nn.NewBatchNorm1d(84)
	}
	return m, nil
}

// norm applies the batch norm bn, or nothing when bn is nil.
func norm(bn nn.Layer, x *tensor.Tensor) *tensor.Tensor {
	if bn == nil {
		return x
	}
	return bn.Forward(x)
}

// pool halves the spatial size.
func (m *LeNet) pool(x *tensor.Tensor) *tensor.Tensor {
	opt := tensor.PoolOptions{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}
	if m.AvgPool {
		return tensor.AvgPool2d(x, opt)
	}
	return tensor.MaxPool2d(x, opt)
}

// Features maps images (N, C, H, W) to the 84-wide representation before fc3.
func (m *LeNet) Features(x *tensor.Tensor) *tensor.Tensor {
	act := func(x *tensor.Tensor) *tensor.Tensor { return nn.Activate(m.Activation, x, 0.01) }
	x = m.pool(act(norm(m.BN1, m.Conv1.Forward(x))))
	x = m.pool(act(norm(m.BN2, m.Conv2.Forward(x))))
	x = act(norm(m.BN3, m.FC1.Forward(x.Flatten(1, -1))))
	return act(norm(m.BN4, m.FC2.Forward(x)))
}

// Classify applies fc3.
func (m *LeNet) Classify(features *tensor.Tensor) *tensor.Tensor { return m.FC3.Forward(features) }

// Forward returns the logits of images x (N, C, H, W).
func (m *LeNet) Forward(x *tensor.Tensor) *tensor.Tensor { return m.Classify(m.Features(x)) }

// Head returns fc3.
func (m *LeNet) Head() nn.Layer { return m.FC3 }

// FeatureDim returns 84, the width of fc2.
func (m *LeNet) FeatureDim() int { return 84 }
