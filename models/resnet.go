package models

import (
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// ResNetConfig describes a CIFAR-style residual network (He et al. 2016,
// §4.2): a 3×3 convolution, three stages of n basic blocks each, global
// average pooling and a linear head — 6n+2 weighted layers. Zero values take
// the defaults of ResNet-20 on CIFAR-10.
type ResNetConfig struct {
	Depth      int    // 6n+2: 20, 32, 44, 56, 110, … (default 20)
	Classes    int    // number of outputs (default 10)
	InChannels int    // image channels (default 3)
	Widths     [3]int // channels of the three stages (default 16, 32, 64)
	// Shortcut selects the shortcut of the blocks that change shape: "A"
	// (default, the paper's choice for CIFAR) subsamples the input and pads
	// the new channels with zeros, adding no parameters; "B" projects with a
	// 1×1 convolution and batch norm (named downsample.0 and downsample.1).
	Shortcut string
}

// ResNet is a CIFAR-style residual network with torchvision's parameter
// names: conv1, bn1, layer1.0.conv1, layer1.0.bn1, …, layer3.{n−1}.bn2, fc.
// Features is the globally pooled output of the last stage (Widths[2] wide)
// and fc is the head. It contains batch norm: call nn.Eval before evaluating.
type ResNet struct {
	Conv1                  nn.Layer
	BN1                    nn.Layer
	Layer1, Layer2, Layer3 []*BasicBlock
	FC                     nn.Layer
	featureDim             int
}

// BasicBlock is the two-convolution residual block: relu(bn2(conv2(relu(bn1(
// conv1(x))))) + shortcut(x)).
type BasicBlock struct {
	Conv1, BN1, Conv2, BN2 nn.Layer
	// Downsample is the projection shortcut (option B) of a block that
	// changes shape; nil for the identity or option A.
	Downsample nn.Layer
	// Stride and PadChannels define option A's shortcut: subsample by Stride
	// and add PadChannels zero channels (half before, half after).
	Stride, PadChannels int
}

// NewResNet returns the network cfg describes, initialised as torchvision's
// ResNet: convolutions Kaiming-normal (fan_out, relu), batch norm weight 1
// and bias 0, fc as PyTorch's nn.Linear.
func NewResNet(cfg ResNetConfig, r tensor.Rand) (*ResNet, error) {
	if cfg.Depth == 0 {
		cfg.Depth = 20
	}
	if cfg.Classes == 0 {
		cfg.Classes = 10
	}
	if cfg.InChannels == 0 {
		cfg.InChannels = 3
	}
	if cfg.Widths == [3]int{} {
		cfg.Widths = [3]int{16, 32, 64}
	}
	if cfg.Shortcut == "" {
		cfg.Shortcut = "A"
	}
	if cfg.Depth < 8 || (cfg.Depth-2)%6 != 0 {
		return nil, fmt.Errorf("models.NewResNet: depth %d is not 6n+2 with n ≥ 1 (20, 32, 44, 56, 110, …)", cfg.Depth)
	}
	if cfg.Shortcut != "A" && cfg.Shortcut != "B" {
		return nil, fmt.Errorf("models.NewResNet: shortcut %q is neither \"A\" (zero padding) nor \"B\" (projection)", cfg.Shortcut)
	}
	if cfg.Classes < 0 || cfg.InChannels < 0 || cfg.Widths[0] <= 0 || cfg.Widths[1] <= 0 || cfg.Widths[2] <= 0 {
		return nil, fmt.Errorf("models.NewResNet: sizes must be positive: classes %d, in channels %d, widths %v", cfg.Classes, cfg.InChannels, cfg.Widths)
	}
	if cfg.Shortcut == "A" && (cfg.Widths[1] < cfg.Widths[0] || cfg.Widths[2] < cfg.Widths[1]) {
		return nil, fmt.Errorf("models.NewResNet: shortcut A pads channels, so widths %v must not decrease", cfg.Widths)
	}
	n := (cfg.Depth - 2) / 6
	m := &ResNet{
		Conv1: conv3x3(cfg.InChannels, cfg.Widths[0], 1, r),
		BN1:   nn.NewBatchNorm2d(cfg.Widths[0]),
		FC:    nn.NewLinear(cfg.Widths[2], cfg.Classes, true, r),
	}
	in := cfg.Widths[0]
	stages := []*[]*BasicBlock{&m.Layer1, &m.Layer2, &m.Layer3}
	for s, stage := range stages {
		for i := 0; i < n; i++ {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			*stage = append(*stage, newBasicBlock(in, cfg.Widths[s], stride, cfg.Shortcut, r))
			in = cfg.Widths[s]
		}
	}
	m.featureDim = in
	return m, nil
}

// conv3x3 is a bias-free 3×3 convolution with padding 1, Kaiming-normal.
func conv3x3(in, out, stride int, r tensor.Rand) *nn.Conv2d {
	c := nn.NewConv2d(in, out, 3, tensor.Conv2dOptions{Stride: [2]int{stride, stride}, Padding: [2]int{1, 1}}, false, r)
	nn.KaimingNormal(c.Weight, r, 0, "fan_out", "relu")
	return c
}

func newBasicBlock(in, out, stride int, shortcut string, r tensor.Rand) *BasicBlock {
	b := &BasicBlock{
		Conv1: conv3x3(in, out, stride, r), BN1: nn.NewBatchNorm2d(out),
		Conv2: conv3x3(out, out, 1, r), BN2: nn.NewBatchNorm2d(out),
		Stride: 1,
	}
	if stride == 1 && in == out {
		return b
	}
	if shortcut == "B" {
		proj := nn.NewConv2d(in, out, 1, tensor.Conv2dOptions{Stride: [2]int{stride, stride}}, false, r)
		nn.KaimingNormal(proj.Weight, r, 0, "fan_out", "relu")
		b.Downsample = nn.NewSequential(proj, nn.NewBatchNorm2d(out))
		return b
	}
	b.Stride, b.PadChannels = stride, out-in
	return b
}

// Forward applies the block to x (N, C, H, W).
func (b *BasicBlock) Forward(x *tensor.Tensor) *tensor.Tensor {
	y := b.BN1.Forward(b.Conv1.Forward(x)).ReLU()
	y = b.BN2.Forward(b.Conv2.Forward(y))
	short := x
	switch {
	case b.Downsample != nil:
		short = b.Downsample.Forward(x)
	default:
		if b.Stride > 1 {
			short = tensor.AvgPool2d(x, tensor.PoolOptions{Kernel: [2]int{1, 1}, Stride: [2]int{b.Stride, b.Stride}})
		}
		if b.PadChannels > 0 {
			short = short.Pad(1, b.PadChannels/2, b.PadChannels-b.PadChannels/2, 0)
		}
	}
	return y.Add(short).ReLU()
}

// Features maps images (N, C, H, W) to the pooled output of the last stage
// (N, FeatureDim()).
func (m *ResNet) Features(x *tensor.Tensor) *tensor.Tensor {
	x = m.BN1.Forward(m.Conv1.Forward(x)).ReLU()
	for _, stage := range [][]*BasicBlock{m.Layer1, m.Layer2, m.Layer3} {
		for _, b := range stage {
			x = b.Forward(x)
		}
	}
	return x.Mean(2, 3)
}

// Classify applies fc.
func (m *ResNet) Classify(features *tensor.Tensor) *tensor.Tensor { return m.FC.Forward(features) }

// Forward returns the logits of images x (N, C, H, W).
func (m *ResNet) Forward(x *tensor.Tensor) *tensor.Tensor { return m.Classify(m.Features(x)) }

// Head returns fc.
func (m *ResNet) Head() nn.Layer { return m.FC }

// FeatureDim returns the width of the last stage.
func (m *ResNet) FeatureDim() int { return m.featureDim }
