package nn

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor"
)

// MultiheadAttention is scaled dot-product attention with Heads heads over
// batch-first inputs (N, L, D). The four projections are separate layers
// (q_proj, k_proj, v_proj, out_proj) so adapters can target each one.
type MultiheadAttention struct {
	QProj, KProj, VProj, OutProj Layer
	Dropout                      *Dropout
	Heads                        int
	dim                          int
}

// NewMultiheadAttention returns attention over model width dim with the given
// number of heads and attention-weight dropout, initialised as PyTorch's
// nn.MultiheadAttention: q, k and v weights Xavier-uniform over the packed
// (3·dim, dim) matrix, out_proj as a Linear, all biases zero.
func NewMultiheadAttention(dim, heads int, dropout float32, r tensor.Rand) *MultiheadAttention {
	if heads <= 0 || dim%heads != 0 {
		panic(fmt.Sprintf("nn.NewMultiheadAttention: width %d is not divisible by %d heads", dim, heads))
	}
	proj := func(xavier bool) *Linear {
		l := NewLinear(dim, dim, true, r)
		if xavier {
			bound := math.Sqrt(6 / float64(dim+3*dim))
			UniformInit(l.Weight, r, -bound, bound)
		}
		ZerosInit(l.Bias)
		return l
	}
	return &MultiheadAttention{
		QProj: proj(true), KProj: proj(true), VProj: proj(true), OutProj: proj(false),
		Dropout: NewDropout(dropout, r.Uint64()), Heads: heads, dim: dim,
	}
}

// SplitHeads turns (N, L, D) into (N, heads, L, D/heads), the layout
// ScaledDotProductAttention takes; op names the caller in the panic message
// when D is not divisible by heads.
func SplitHeads(x *tensor.Tensor, heads int, op string) *tensor.Tensor {
	s := x.Shape()
	if len(s) != 3 || s[2]%heads != 0 {
		panic(fmt.Sprintf("%s: input %s must be (batch, length, width) with width divisible by %d heads", op, tensor.FormatShape(s), heads))
	}
	return x.Reshape(s[0], s[1], heads, s[2]/heads).Permute(0, 2, 1, 3)
}

// Forward attends from query (N, L, D) over key and value (N, S, D). mask, if
// not nil, is added to the attention scores and must broadcast to (N, H, L, S):
// 0 where attending is allowed and −Inf (or a large negative value) where it is
// not — see CausalMask and PaddingMask. It returns (N, L, D).
func (m *MultiheadAttention) Forward(query, key, value, mask *tensor.Tensor) *tensor.Tensor {
	out, _ := m.ForwardWeights(query, key, value, mask)
	return out
}

// ForwardWeights is Forward that also returns the attention weights (N, H, L, S).
func (m *MultiheadAttention) ForwardWeights(query, key, value, mask *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	q, k, v := m.QProj.Forward(query), m.KProj.Forward(key), m.VProj.Forward(value)
	if q.Dims() != 3 || k.Dims() != 3 || v.Dims() != 3 || q.Dim(0) != k.Dim(0) || k.Dim(0) != v.Dim(0) || k.Dim(1) != v.Dim(1) {
		panic(fmt.Sprintf("attention: query %s, key %s and value %s disagree in batch or length", tensor.FormatShape(query.Shape()), tensor.FormatShape(key.Shape()), tensor.FormatShape(value.Shape())))
	}
	ctx, weights := Attend(q, k, v, mask, m.Heads, m.Dropout)
	return m.OutProj.Forward(ctx), weights
}

// Attend is multi-head scaled dot-product attention on the projections as
// they come: queries q (N, L, H·E), keys k and values v (N, S, H·E), head h in
// columns h·E…(h+1)·E−1 of each. It returns the context merged back into that
// layout (N, L, H·E), ready for the output projection, and the attention
// weights (N, H, L, S) before dropout. mask and dropout are as in
// ScaledDotProductAttention. It equals SplitHeads, ScaledDotProductAttention
// and MergeHeads in turn, but no head is copied out or back: the fused
// tensor.AttentionWeights and tensor.AttentionContext read each head in place.
func Attend(q, k, v, mask *tensor.Tensor, heads int, dropout *Dropout) (ctx, weights *tensor.Tensor) {
	if q.Dims() != 3 || heads <= 0 || q.Dim(2)%heads != 0 {
		panic(fmt.Sprintf("attention: query %s must be (batch, length, width) with width divisible by %d heads", tensor.FormatShape(q.Shape()), heads))
	}
	scale := float32(1 / math.Sqrt(float64(q.Dim(2)/heads)))
	if mask != nil && mask.RequiresGrad() { // a learned bias: the general ops carry its gradient
		ctx, weights = ScaledDotProductAttention(SplitHeads(q, heads, "attention query"), SplitHeads(k, heads, "attention key"), SplitHeads(v, heads, "attention value"), mask, dropout)
		return MergeHeads(ctx), weights
	}
	weights = tensor.AttentionWeights(q, k, heads, scale, mask)
	attn := weights
	if dropout != nil {
		attn = dropout.Forward(weights)
	}
	return tensor.AttentionContext(attn, v), weights
}

// MergeHeads is the inverse of SplitHeads: (N, H, L, E) → (N, L, H·E).
func MergeHeads(x *tensor.Tensor) *tensor.Tensor {
	x = x.Permute(0, 2, 1, 3)
	s := x.Shape()
	return x.Reshape(s[0], s[1], s[2]*s[3])
}

// ScaledDotProductAttention computes softmax(q·kᵀ/√E + mask)·v for q (N, H, L, E)
// and k, v (N, H, S, E), returning the context (N, H, L, E) and the attention
// weights (N, H, L, S). mask, if not nil, is added to the scores and must
// broadcast to (N, H, L, S); dropout, if not nil, is applied to the weights
// used for the context (the returned weights are before dropout).
func ScaledDotProductAttention(q, k, v, mask *tensor.Tensor, dropout *Dropout) (*tensor.Tensor, *tensor.Tensor) {
	headDim := q.Dim(3)
	scores := q.MatMulT(k, false, true).Scale(float32(1 / math.Sqrt(float64(headDim))))
	if mask != nil {
		scores = scores.Add(mask)
	}
	weights := scores.Softmax(-1)
	attn := weights
	if dropout != nil {
		attn = dropout.Forward(weights)
	}
	return attn.MatMul(v), weights
}

// CausalMask returns the additive (L, L) mask that lets position i attend only
// to positions ≤ i.
func CausalMask(length int) *tensor.Tensor {
	m := tensor.Zeros(length, length)
	d := m.Data()
	for i := 0; i < length; i++ {
		for j := i + 1; j < length; j++ {
			d[i*length+j] = float32(math.Inf(-1))
		}
	}
	return m
}

// PaddingMask returns the additive (N, 1, 1, S) mask that blocks key
// positions at or beyond each sequence's length.
func PaddingMask(lengths []int, s int) *tensor.Tensor {
	m := tensor.Zeros(len(lengths), 1, 1, s)
	d := m.Data()
	for n, l := range lengths {
		if l < 0 || l > s {
			panic(fmt.Sprintf("nn.PaddingMask: length %d of sequence %d is outside [0, %d]", l, n, s))
		}
		for j := l; j < s; j++ {
			d[n*s+j] = float32(math.Inf(-1))
		}
	}
	return m
}

// TransformerConfig describes a transformer encoder or decoder layer.
type TransformerConfig struct {
	Dim, Heads, FeedForward int     // model width, heads, hidden width of the feed-forward block
	Dropout                 float32 // dropout in attention, feed-forward and residual paths
	Activation              string  // feed-forward activation (default "relu", as PyTorch)
	NormFirst               bool    // pre-norm instead of PyTorch's default post-norm
	Eps                     float32 // layer-norm epsilon (default 1e-5)
}

func (c TransformerConfig) withDefaults() TransformerConfig {
	if c.Activation == "" {
		c.Activation = "relu"
	}
	if c.Eps == 0 {
		c.Eps = 1e-5
	}
	if c.FeedForward == 0 {
		c.FeedForward = 4 * c.Dim
	}
	return c
}

func (c TransformerConfig) layerNorm() *LayerNorm {
	ln := NewLayerNorm(c.Dim)
	ln.Eps = c.Eps
	return ln
}

// feedForward is the position-wise block shared by encoder and decoder layers.
// A plain Linear followed by ReLU runs as one tensor.LinearReLU.
func feedForward(x *tensor.Tensor, l1, l2 Layer, drop *Dropout, act string) *tensor.Tensor {
	var h *tensor.Tensor
	if lin, ok := l1.(*Linear); ok && act == "relu" {
		h = tensor.LinearReLU(x, lin.Weight, lin.Bias)
	} else {
		h = Activate(act, l1.Forward(x), 0.01)
	}
	return l2.Forward(drop.Forward(h))
}

// TransformerEncoderLayer is PyTorch's nn.TransformerEncoderLayer (batch
// first): self-attention and a feed-forward block, each with a residual
// connection and layer norm. Parameter names match PyTorch's except that the
// packed in_proj is split into q_proj, k_proj and v_proj.
type TransformerEncoderLayer struct {
	SelfAttn           *MultiheadAttention
	Linear1            Layer
	Dropout            *Dropout
	Linear2            Layer
	Norm1, Norm2       *LayerNorm
	Dropout1, Dropout2 *Dropout
	Activation         string
	NormFirst          bool
}

// NewTransformerEncoderLayer returns an encoder layer; r initialises weights
// and seeds the dropout generators.
func NewTransformerEncoderLayer(cfg TransformerConfig, r tensor.Rand) *TransformerEncoderLayer {
	cfg = cfg.withDefaults()
	return &TransformerEncoderLayer{
		SelfAttn: NewMultiheadAttention(cfg.Dim, cfg.Heads, cfg.Dropout, r),
		Linear1:  NewLinear(cfg.Dim, cfg.FeedForward, true, r),
		Dropout:  NewDropout(cfg.Dropout, r.Uint64()),
		Linear2:  NewLinear(cfg.FeedForward, cfg.Dim, true, r),
		Norm1:    cfg.layerNorm(), Norm2: cfg.layerNorm(),
		Dropout1: NewDropout(cfg.Dropout, r.Uint64()), Dropout2: NewDropout(cfg.Dropout, r.Uint64()),
		Activation: cfg.Activation, NormFirst: cfg.NormFirst,
	}
}

// Forward encodes x (N, L, D) without a mask.
func (e *TransformerEncoderLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	return e.ForwardMask(x, nil)
}

// ForwardMask encodes x (N, L, D) with an additive attention mask (see MultiheadAttention.Forward).
func (e *TransformerEncoderLayer) ForwardMask(x, mask *tensor.Tensor) *tensor.Tensor {
	sa := func(h *tensor.Tensor) *tensor.Tensor { return e.Dropout1.Forward(e.SelfAttn.Forward(h, h, h, mask)) }
	ff := func(h *tensor.Tensor) *tensor.Tensor {
		return e.Dropout2.Forward(feedForward(h, e.Linear1, e.Linear2, e.Dropout, e.Activation))
	}
	if e.NormFirst {
		x = x.Add(sa(e.Norm1.Forward(x)))
		return x.Add(ff(e.Norm2.Forward(x)))
	}
	x = e.Norm1.Forward(x.Add(sa(x)))
	return e.Norm2.Forward(x.Add(ff(x)))
}

// TransformerDecoderLayer is PyTorch's nn.TransformerDecoderLayer (batch
// first): masked self-attention, attention over the encoder's memory, and a
// feed-forward block, each with a residual connection and layer norm.
type TransformerDecoderLayer struct {
	SelfAttn                     *MultiheadAttention
	MultiheadAttn                *MultiheadAttention
	Linear1                      Layer
	Dropout                      *Dropout
	Linear2                      Layer
	Norm1, Norm2, Norm3          *LayerNorm
	Dropout1, Dropout2, Dropout3 *Dropout
	Activation                   string
	NormFirst                    bool
}

// NewTransformerDecoderLayer returns a decoder layer; r initialises weights
// and seeds the dropout generators.
func NewTransformerDecoderLayer(cfg TransformerConfig, r tensor.Rand) *TransformerDecoderLayer {
	cfg = cfg.withDefaults()
	return &TransformerDecoderLayer{
		SelfAttn:      NewMultiheadAttention(cfg.Dim, cfg.Heads, cfg.Dropout, r),
		MultiheadAttn: NewMultiheadAttention(cfg.Dim, cfg.Heads, cfg.Dropout, r),
		Linear1:       NewLinear(cfg.Dim, cfg.FeedForward, true, r),
		Dropout:       NewDropout(cfg.Dropout, r.Uint64()),
		Linear2:       NewLinear(cfg.FeedForward, cfg.Dim, true, r),
		Norm1:         cfg.layerNorm(), Norm2: cfg.layerNorm(), Norm3: cfg.layerNorm(),
		Dropout1: NewDropout(cfg.Dropout, r.Uint64()), Dropout2: NewDropout(cfg.Dropout, r.Uint64()),
		Dropout3:   NewDropout(cfg.Dropout, r.Uint64()),
		Activation: cfg.Activation, NormFirst: cfg.NormFirst,
	}
}

// Forward decodes x (N, L, D) attending over memory (N, S, D); tgtMask and
// memoryMask are additive masks (nil for none), e.g. CausalMask(L) for tgtMask.
func (d *TransformerDecoderLayer) Forward(x, memory, tgtMask, memoryMask *tensor.Tensor) *tensor.Tensor {
	sa := func(h *tensor.Tensor) *tensor.Tensor {
		return d.Dropout1.Forward(d.SelfAttn.Forward(h, h, h, tgtMask))
	}
	ca := func(h *tensor.Tensor) *tensor.Tensor {
		return d.Dropout2.Forward(d.MultiheadAttn.Forward(h, memory, memory, memoryMask))
	}
	ff := func(h *tensor.Tensor) *tensor.Tensor {
		return d.Dropout3.Forward(feedForward(h, d.Linear1, d.Linear2, d.Dropout, d.Activation))
	}
	if d.NormFirst {
		x = x.Add(sa(d.Norm1.Forward(x)))
		x = x.Add(ca(d.Norm2.Forward(x)))
		return x.Add(ff(d.Norm3.Forward(x)))
	}
	x = d.Norm1.Forward(x.Add(sa(x)))
	x = d.Norm2.Forward(x.Add(ca(x)))
	return d.Norm3.Forward(x.Add(ff(x)))
}

// TransformerEncoder is a stack of encoder layers with an optional final norm.
type TransformerEncoder struct {
	Layers []*TransformerEncoderLayer
	Norm   *LayerNorm // nil for none
}

// NewTransformerEncoder returns n encoder layers built from cfg.
func NewTransformerEncoder(n int, cfg TransformerConfig, finalNorm bool, r tensor.Rand) *TransformerEncoder {
	e := &TransformerEncoder{}
	for i := 0; i < n; i++ {
		e.Layers = append(e.Layers, NewTransformerEncoderLayer(cfg, r))
	}
	if finalNorm {
		e.Norm = cfg.withDefaults().layerNorm()
	}
	return e
}

// Forward encodes x without a mask.
func (e *TransformerEncoder) Forward(x *tensor.Tensor) *tensor.Tensor { return e.ForwardMask(x, nil) }

// ForwardMask encodes x through every layer with the additive mask.
func (e *TransformerEncoder) ForwardMask(x, mask *tensor.Tensor) *tensor.Tensor {
	for _, l := range e.Layers {
		x = l.ForwardMask(x, mask)
	}
	if e.Norm != nil {
		x = e.Norm.Forward(x)
	}
	return x
}
