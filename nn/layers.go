package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/graftml/graft/tensor"
)

// Linear is a fully connected layer: y = x·Wᵀ + b, W of shape (out, in).
type Linear struct {
	Weight *tensor.Tensor
	Bias   *tensor.Tensor // nil without bias
}

// NewLinear returns a Linear layer initialised as PyTorch does: W and b from
// U(−1/√in, 1/√in) (Kaiming-uniform with a = √5).
func NewLinear(in, out int, bias bool, r tensor.Rand) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn.NewLinear: in=%d and out=%d must be positive", in, out))
	}
	l := &Linear{Weight: param(out, in)}
	KaimingUniform(l.Weight, r, math.Sqrt(5), "fan_in", "leaky_relu")
	if bias {
		l.Bias = param(out)
		UniformInit(l.Bias, r, -1/math.Sqrt(float64(in)), 1/math.Sqrt(float64(in)))
	}
	return l
}

// Forward applies the layer to x of shape (…, in).
func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Linear(x, l.Weight, l.Bias) }

// InFeatures returns the input width.
func (l *Linear) InFeatures() int { return l.Weight.Dim(1) }

// OutFeatures returns the output width.
func (l *Linear) OutFeatures() int { return l.Weight.Dim(0) }

// Embedding maps integer ids to rows of Weight (vocab, dim).
type Embedding struct {
	Weight *tensor.Tensor
}

// NewEmbedding returns an embedding table initialised from N(0, 1), as PyTorch.
func NewEmbedding(vocab, dim int, r tensor.Rand) *Embedding {
	e := &Embedding{Weight: param(vocab, dim)}
	NormalInit(e.Weight, r, 0, 1)
	return e
}

// Forward looks up ids (integral values, any shape) giving shape ids.shape+(dim).
func (e *Embedding) Forward(ids *tensor.Tensor) *tensor.Tensor {
	return tensor.Embedding(e.Weight, ids)
}

// LayerNorm normalises over the trailing Shape dimensions and applies an
// element-wise affine map (Weight, Bias; nil without).
type LayerNorm struct {
	Weight, Bias *tensor.Tensor
	Shape        []int `nn:"-"`
	Eps          float32
}

// NewLayerNorm returns a LayerNorm over the given trailing shape with weight 1,
// bias 0 and eps 1e-5 (PyTorch's defaults).
func NewLayerNorm(shape ...int) *LayerNorm {
	return &LayerNorm{Weight: param(shape...).Fill(1), Bias: param(shape...), Shape: append([]int(nil), shape...), Eps: 1e-5}
}

// Forward normalises x, whose trailing dimensions must equal Shape.
func (l *LayerNorm) Forward(x *tensor.Tensor) *tensor.Tensor {
	xs := x.Shape()
	if len(xs) < len(l.Shape) || !slices.Equal(xs[len(xs)-len(l.Shape):], l.Shape) {
		panic(fmt.Sprintf("layer_norm: input %s does not end in the normalised shape %s", tensor.FormatShape(xs), tensor.FormatShape(l.Shape)))
	}
	return tensor.LayerNorm(x, l.Weight, l.Bias, len(l.Shape), l.Eps)
}

// BatchNorm normalises each channel (axis 1) with batch statistics while
// training and running statistics in evaluation, as PyTorch's BatchNorm1d/2d.
type BatchNorm struct {
	Weight, Bias      *tensor.Tensor
	RunningMean       *tensor.Tensor `nn:",buffer"`
	RunningVar        *tensor.Tensor `nn:",buffer"`
	NumBatchesTracked *tensor.Tensor `nn:",buffer"`
	Momentum, Eps     float32
	Training          bool
	spatialDims       []int // accepted input ranks
}

func newBatchNorm(c int, ranks ...int) *BatchNorm {
	return &BatchNorm{
		Weight: param(c).Fill(1), Bias: param(c),
		RunningMean: tensor.Zeros(c), RunningVar: tensor.Ones(c), NumBatchesTracked: tensor.Zeros(),
		Momentum: 0.1, Eps: 1e-5, Training: true, spatialDims: ranks,
	}
}

// NewBatchNorm1d returns batch norm over C channels for inputs (N,C) or (N,C,L).
func NewBatchNorm1d(c int) *BatchNorm { return newBatchNorm(c, 2, 3) }

// NewBatchNorm2d returns batch norm over C channels for inputs (N,C,H,W).
func NewBatchNorm2d(c int) *BatchNorm { return newBatchNorm(c, 4) }

// SetTraining switches between batch statistics (training) and running statistics.
func (b *BatchNorm) SetTraining(on bool) { b.Training = on }

// Forward normalises x.
func (b *BatchNorm) Forward(x *tensor.Tensor) *tensor.Tensor {
	if len(b.spatialDims) > 0 {
		ok := false
		for _, r := range b.spatialDims {
			ok = ok || x.Dims() == r
		}
		if !ok {
			panic(fmt.Sprintf("batch_norm: input %s has %d dimensions; this layer takes %v", tensor.FormatShape(x.Shape()), x.Dims(), b.spatialDims))
		}
	}
	if b.Training && b.NumBatchesTracked != nil {
		b.NumBatchesTracked.Data()[0]++
	}
	return tensor.BatchNorm(x, b.RunningMean, b.RunningVar, b.Weight, b.Bias, b.Training, b.Momentum, b.Eps)
}

// Conv2d is a 2-D convolution layer over NCHW inputs.
type Conv2d struct {
	Weight  *tensor.Tensor // (out, in/groups, kh, kw)
	Bias    *tensor.Tensor
	Options tensor.Conv2dOptions
}

// NewConv2d returns a convolution with a square kernel, initialised as PyTorch
// (weights and bias from U(−1/√fan_in, 1/√fan_in)).
func NewConv2d(in, out, kernel int, opt tensor.Conv2dOptions, bias bool, r tensor.Rand) *Conv2d {
	g := max(opt.Groups, 1)
	if in%g != 0 || out%g != 0 {
		panic(fmt.Sprintf("nn.NewConv2d: groups %d must divide in=%d and out=%d", g, in, out))
	}
	c := &Conv2d{Weight: param(out, in/g, kernel, kernel), Options: opt}
	KaimingUniform(c.Weight, r, math.Sqrt(5), "fan_in", "leaky_relu")
	if bias {
		fanIn, _ := Fans(c.Weight)
		c.Bias = param(out)
		UniformInit(c.Bias, r, -1/math.Sqrt(float64(fanIn)), 1/math.Sqrt(float64(fanIn)))
	}
	return c
}

// Forward convolves x (N, in, H, W).
func (c *Conv2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Conv2d(x, c.Weight, c.Bias, c.Options)
}

// MaxPool2d is max pooling over NCHW inputs.
type MaxPool2d struct{ Options tensor.PoolOptions }

// NewMaxPool2d returns max pooling with a square window and stride (0: the window).
func NewMaxPool2d(kernel, stride int) *MaxPool2d {
	return &MaxPool2d{tensor.PoolOptions{Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride}}}
}

// Forward pools x.
func (p *MaxPool2d) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.MaxPool2d(x, p.Options) }

// AvgPool2d is average pooling over NCHW inputs.
type AvgPool2d struct{ Options tensor.PoolOptions }

// NewAvgPool2d returns average pooling with a square window and stride (0: the window).
func NewAvgPool2d(kernel, stride int) *AvgPool2d {
	return &AvgPool2d{tensor.PoolOptions{Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride}}}
}

// Forward pools x.
func (p *AvgPool2d) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.AvgPool2d(x, p.Options) }

// AdaptiveAvgPool2d averages NCHW inputs down to a fixed spatial size.
type AdaptiveAvgPool2d struct{ OutH, OutW int }

// Forward pools x to (N, C, OutH, OutW).
func (p *AdaptiveAvgPool2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.AdaptiveAvgPool2d(x, p.OutH, p.OutW)
}

// Flatten merges axes StartDim..EndDim (PyTorch's default 1..−1 keeps the batch axis).
type Flatten struct{ StartDim, EndDim int }

// NewFlatten returns a Flatten keeping the batch axis.
func NewFlatten() *Flatten { return &Flatten{StartDim: 1, EndDim: -1} }

// Forward flattens x.
func (f *Flatten) Forward(x *tensor.Tensor) *tensor.Tensor { return x.Flatten(f.StartDim, f.EndDim) }

// Dropout zeroes each element with probability P while training and scales
// the rest by 1/(1−P); it is the identity in evaluation.
type Dropout struct {
	P        float32
	RNG      tensor.Rand `nn:"-"`
	Training bool
}

// NewDropout returns a dropout layer drawing from its own generator seeded by seed.
func NewDropout(p float32, seed uint64) *Dropout {
	return &Dropout{P: p, RNG: tensor.NewRNG(seed), Training: true}
}

// SetTraining switches dropout on (training) or off.
func (d *Dropout) SetTraining(on bool) { d.Training = on }

// Generator returns the random source (see Stochastic).
func (d *Dropout) Generator() tensor.Rand { return d.RNG }

// Forward applies dropout to x.
func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	if !d.Training || d.P == 0 {
		return x
	}
	return x.Dropout(d.P, d.RNG, true)
}

// Activation is an element-wise nonlinearity as a layer.
type Activation struct {
	Fn    string  // relu, leaky_relu, gelu, gelu_tanh, sigmoid, tanh, softplus, silu, identity
	Slope float32 // negative slope of leaky_relu
}

// NewActivation returns the named activation layer; it panics for an unknown name.
func NewActivation(fn string) *Activation {
	a := &Activation{Fn: fn, Slope: 0.01}
	a.Forward(tensor.Zeros(1)) // validate the name now
	return a
}

// Forward applies the activation.
func (a *Activation) Forward(x *tensor.Tensor) *tensor.Tensor { return Activate(a.Fn, x, a.Slope) }

// Activate applies the named activation function to x.
func Activate(fn string, x *tensor.Tensor, slope float32) *tensor.Tensor {
	switch fn {
	case "relu":
		return x.ReLU()
	case "leaky_relu":
		return x.LeakyReLU(slope)
	case "gelu":
		return x.GELU()
	case "gelu_tanh", "gelu_new":
		return x.GELUTanh()
	case "quick_gelu":
		return x.QuickGELU()
	case "sigmoid":
		return x.Sigmoid()
	case "tanh":
		return x.Tanh()
	case "softplus":
		return x.Softplus()
	case "silu", "swish":
		return x.SiLU()
	case "identity", "linear", "":
		return x
	}
	panic(fmt.Sprintf("nn: unknown activation %q (want relu, leaky_relu, gelu, gelu_tanh, quick_gelu, sigmoid, tanh, softplus, silu or identity)", fn))
}

// Sequential applies its layers in order; children are named "0", "1", … as in PyTorch.
type Sequential struct {
	Layers []Layer `nn:",inline"`
}

// NewSequential returns a Sequential of the given layers.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Append adds layers at the end and returns s.
func (s *Sequential) Append(layers ...Layer) *Sequential {
	s.Layers = append(s.Layers, layers...)
	return s
}

// Forward runs x through every layer. A *Linear immediately followed by a
// ReLU *Activation runs as one tensor.LinearReLU (the same values and
// gradients, without the separate ReLU pass); layers wrapping a Linear, such
// as adapters, run as they are.
func (s *Sequential) Forward(x *tensor.Tensor) *tensor.Tensor {
	for i := 0; i < len(s.Layers); i++ {
		if l, ok := s.Layers[i].(*Linear); ok && i+1 < len(s.Layers) && isReLU(s.Layers[i+1]) {
			x = tensor.LinearReLU(x, l.Weight, l.Bias)
			i++
			continue
		}
		x = s.Layers[i].Forward(x)
	}
	return x
}

// isReLU reports whether l is the plain ReLU activation layer.
func isReLU(l Layer) bool {
	a, ok := l.(*Activation)
	return ok && a.Fn == "relu"
}

// NewMLP returns a multilayer perceptron as a Sequential: Linear layers of the
// given sizes (sizes[0] inputs … sizes[n−1] outputs) with the activation (and
// dropout, if positive) between them, none after the last.
func NewMLP(sizes []int, activation string, dropout float32, r tensor.Rand) *Sequential {
	if len(sizes) < 2 {
		panic(fmt.Sprintf("nn.NewMLP: need at least input and output sizes, got %v", sizes))
	}
	s := NewSequential()
	for i := 0; i+1 < len(sizes); i++ {
		s.Append(NewLinear(sizes[i], sizes[i+1], true, r))
		if i+2 < len(sizes) {
			s.Append(NewActivation(activation))
			if dropout > 0 {
				s.Append(NewDropout(dropout, r.Uint64()))
			}
		}
	}
	return s
}
