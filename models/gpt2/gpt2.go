package gpt2

import (
	"fmt"
	"math"

	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Conv1D is the affine layer of Hugging Face's GPT-2: y = x·W + b with W
// stored as (in, out), the transpose of nn.Linear's (out, in) layout, so that
// GPT-2 checkpoints load without transposing. Methods that adapt a layer's
// weight (LoRA and its family) must account for the layout: it is PEFT's
// fan_in_fan_out = true case, which FanInFanOut reports.
type Conv1D struct {
	Weight *tensor.Tensor // (in, out)
	Bias   *tensor.Tensor // (out)
}

// NewConv1D returns a Conv1D from in to out features with the weight drawn
// from N(0, std²) and a zero bias, as Hugging Face initialises GPT-2; r nil
// leaves the weight zero (for a model about to be loaded).
func NewConv1D(in, out int, std float64, r tensor.Rand) *Conv1D {
	c := &Conv1D{Weight: tensor.Zeros(in, out).SetRequiresGrad(true), Bias: tensor.Zeros(out).SetRequiresGrad(true)}
	if r != nil {
		nn.NormalInit(c.Weight, r, 0, std)
	}
	return c
}

// Forward applies the layer to x of shape (…, in), giving (…, out).
func (c *Conv1D) Forward(x *tensor.Tensor) *tensor.Tensor {
	s := x.Shape()
	in, out := c.Weight.Dim(0), c.Weight.Dim(1)
	if len(s) == 0 || s[len(s)-1] != in {
		panic(fmt.Sprintf("gpt2.Conv1D: input %s does not end in the layer's %d input features", tensor.FormatShape(s), in))
	}
	y := x.Reshape(-1, in).MatMul(c.Weight).Add(c.Bias)
	return y.Reshape(append(s[:len(s)-1:len(s)-1], out)...)
}

// InFeatures returns the input width.
func (c *Conv1D) InFeatures() int { return c.Weight.Dim(0) }

// OutFeatures returns the output width.
func (c *Conv1D) OutFeatures() int { return c.Weight.Dim(1) }

// FanInFanOut reports that the weight is stored (in, out) — always true.
func (c *Conv1D) FanInFanOut() bool { return true }

// Model is GPT2Model: token and position embeddings, NLayer pre-norm
// transformer blocks with causal self-attention, and a final layer norm.
// Parameter names are Hugging Face's: wte.weight, wpe.weight,
// h.{i}.ln_1.weight, h.{i}.attn.c_attn.weight, h.{i}.attn.c_proj.weight,
// h.{i}.ln_2.weight, h.{i}.mlp.c_fc.weight, h.{i}.mlp.c_proj.weight,
// ln_f.weight (and the biases). The projections are nn.Layer fields so that
// adapters can wrap them (nn.Replace).
type Model struct {
	Config Config        `nn:"-"`
	Wte    *nn.Embedding // token embedding (vocab, width), also the LM head
	Wpe    *nn.Embedding // position embedding (n_positions, width)
	Drop   *nn.Dropout
	H      []*Block
	LnF    *nn.LayerNorm `nn:"ln_f"`
}

// Block is one transformer block: x + attn(ln_1(x)), then + mlp(ln_2(·)).
type Block struct {
	Ln1  *nn.LayerNorm `nn:"ln_1"`
	Attn *Attention
	Ln2  *nn.LayerNorm `nn:"ln_2"`
	MLP  *MLP          `nn:"mlp"`
}

// Attention is causal multi-head self-attention with the query, key and
// value projections packed in one Conv1D (c_attn, output 3·width, in that
// order) and an output projection c_proj.
type Attention struct {
	CAttn        nn.Layer `nn:"c_attn"`
	CProj        nn.Layer `nn:"c_proj"`
	AttnDropout  *nn.Dropout
	ResidDropout *nn.Dropout
	Heads        int     `nn:"-"`
	QueryScale   float32 `nn:"-"` // extra factor on the queries (1 with Hugging Face's defaults)
	// PrefixKey and PrefixValue, when set (prefix tuning), are keys and
	// values (heads, P, head width) that every sequence's positions attend
	// to before their own (Hugging Face's past_key_values); nil: none.
	PrefixKey, PrefixValue *tensor.Tensor `nn:"-"`
}

// MLP is the feed-forward block: c_proj(act(c_fc(x))), then dropout.
type MLP struct {
	CFc        nn.Layer `nn:"c_fc"`
	CProj      nn.Layer `nn:"c_proj"`
	Activation string   `nn:"-"` // an nn.Activate name
	Dropout    *nn.Dropout
}

// New builds GPT-2 for cfg with weights initialised as Hugging Face does:
// embeddings and projections from N(0, initializer_range²), the two c_proj
// weights of each block from N(0, initializer_range²/(2·n_layer)), biases 0,
// layer norms 1 and 0. With r nil the weights stay zero (quicker, for a model
// that is about to be loaded) and dropout generators get fixed seeds.
// It returns cfg's error if cfg is invalid (see Config.Validate).
func New(cfg Config, r tensor.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	act, _ := hf.ActivationName(cfg.ActivationFunction)
	std := cfg.InitializerRange
	if std == 0 {
		std = 0.02
	}
	projStd := std / math.Sqrt(2*float64(cfg.NLayer))
	seed := func() uint64 {
		if r == nil {
			return 0
		}
		return r.Uint64()
	}
	d := cfg.NEmbd
	eps := float32(cfg.LayerNormEpsilon)
	norm := func() *nn.LayerNorm {
		l := nn.NewLayerNorm(d)
		l.Eps = eps
		return l
	}
	m := &Model{
		Config: cfg,
		Wte:    embedding(cfg.VocabSize, d, std, r),
		Wpe:    embedding(cfg.NPositions, d, std, r),
		Drop:   nn.NewDropout(float32(cfg.EmbdPdrop), seed()),
		LnF:    nil,
	}
	headDim := d / cfg.NHead
	for i := range cfg.NLayer {
		scale := 1.0
		if cfg.ScaleAttnWeights != nil && !*cfg.ScaleAttnWeights {
			scale *= math.Sqrt(float64(headDim)) // undoes the attention's 1/√E
		}
		if cfg.ScaleAttnByInverseLayerIdx {
			scale /= float64(i + 1)
		}
		m.H = append(m.H, &Block{
			Ln1: norm(),
			Attn: &Attention{
				CAttn:        NewConv1D(d, 3*d, std, r),
				CProj:        NewConv1D(d, d, projStd, r),
				AttnDropout:  nn.NewDropout(float32(cfg.AttnPdrop), seed()),
				ResidDropout: nn.NewDropout(float32(cfg.ResidPdrop), seed()),
				Heads:        cfg.NHead,
				QueryScale:   float32(scale),
			},
			Ln2: norm(),
			MLP: &MLP{
				CFc:        NewConv1D(d, cfg.Inner(), std, r),
				CProj:      NewConv1D(cfg.Inner(), d, projStd, r),
				Activation: act,
				Dropout:    nn.NewDropout(float32(cfg.ResidPdrop), seed()),
			},
		})
	}
	m.LnF = norm()
	return m, nil
}

// embedding returns a (n, d) table from N(0, std²), or zeros for r nil.
func embedding(n, d int, std float64, r tensor.Rand) *nn.Embedding {
	e := &nn.Embedding{Weight: tensor.Zeros(n, d).SetRequiresGrad(true)}
	if r != nil {
		nn.NormalInit(e.Weight, r, 0, std)
	}
	return e
}

// Forward runs the model on token ids (N, L) — a tensor of integral values —
// and returns the final hidden states (N, L, width). Every position attends
// to itself and the positions before it.
func (m *Model) Forward(ids *tensor.Tensor) *tensor.Tensor {
	return m.ForwardMask(ids, nil)
}

// ForwardMask is Forward for right-padded batches: lengths[n] is the number of
// real tokens in row n (nil: all of them), and no position attends to the
// padding after them. Hidden states at padded positions are computed but
// meaningless.
func (m *Model) ForwardMask(ids *tensor.Tensor, lengths []int) *tensor.Tensor {
	if ids.Dims() != 2 {
		panic(fmt.Sprintf("gpt2: token ids %s must be (batch, length)", tensor.FormatShape(ids.Shape())))
	}
	return m.ForwardEmbeds(m.Wte.Forward(ids), lengths)
}

// ForwardIDs runs the model on sequences of possibly different lengths,
// padded on the right (with token 0, which no real token attends to), and
// returns the hidden states (N, longest, width) and the
// lengths.
func (m *Model) ForwardIDs(ids [][]int) (*tensor.Tensor, []int, error) {
	x, lengths, err := hf.PadIDs(ids, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("gpt2: %w", err)
	}
	if err := m.checkIDs(x, lengths); err != nil {
		return nil, nil, err
	}
	return m.ForwardMask(x, lengths), lengths, nil
}

// checkIDs reports token ids outside the vocabulary and sequences longer
// than the context.
func (m *Model) checkIDs(x *tensor.Tensor, lengths []int) error {
	if x.Dim(1) > m.Config.NPositions {
		return fmt.Errorf("gpt2: sequence of %d tokens is longer than the context of %d", x.Dim(1), m.Config.NPositions)
	}
	l := x.Dim(1)
	for i, v := range x.Data() {
		if v < 0 || int(v) >= m.Config.VocabSize {
			return fmt.Errorf("gpt2: token id %d at position %d of sequence %d is outside the vocabulary of %d", int(v), i%l, i/l, m.Config.VocabSize)
		}
	}
	return nil
}

// ForwardEmbeds runs the model on token embeddings (N, L, width) instead of
// ids — for soft prompts, whose embeddings are learned — adding the position
// embeddings of positions 0…L−1 (P…P+L−1 when the attention layers hold
// prefixes of P keys, as Hugging Face numbers positions after
// past_key_values). lengths is as in ForwardMask.
func (m *Model) ForwardEmbeds(embeds *tensor.Tensor, lengths []int) *tensor.Tensor {
	s := embeds.Shape()
	if len(s) != 3 || s[2] != m.Config.NEmbd {
		panic(fmt.Sprintf("gpt2: embeddings %s must be (batch, length, %d)", tensor.FormatShape(s), m.Config.NEmbd))
	}
	past := 0
	if len(m.H) > 0 && m.H[0].Attn.PrefixKey != nil {
		past = m.H[0].Attn.PrefixKey.Dim(1)
	}
	if past+s[1] > m.Config.NPositions {
		panic(fmt.Sprintf("gpt2: sequence of %d tokens (after %d prefix positions) is longer than the context of %d", s[1], past, m.Config.NPositions))
	}
	pos := m.Wpe.Weight.Slice(0, past, past+s[1])
	x := m.Drop.Forward(embeds.Add(pos))
	mask := nn.CausalMask(s[1])
	if lengths != nil {
		if len(lengths) != s[0] {
			panic(fmt.Sprintf("gpt2: %d lengths for a batch of %d", len(lengths), s[0]))
		}
		mask = mask.Add(nn.PaddingMask(lengths, s[1]))
	}
	for _, b := range m.H {
		x = b.Forward(x, mask)
	}
	return m.LnF.Forward(x)
}

// Logits maps hidden states (…, width) to next-token logits (…, vocab) with
// the LM head, which shares its weight with the token embedding (wte).
func (m *Model) Logits(hidden *tensor.Tensor) *tensor.Tensor {
	return tensor.Linear(hidden, m.Wte.Weight, nil)
}

// ForwardLogits is Logits(Forward(ids)): next-token logits (N, L, vocab).
func (m *Model) ForwardLogits(ids *tensor.Tensor) *tensor.Tensor {
	return m.Logits(m.Forward(ids))
}

// Forward applies the block to x (N, L, width) with an additive attention
// mask that broadcasts to (N, heads, L, L).
func (b *Block) Forward(x, mask *tensor.Tensor) *tensor.Tensor {
	x = x.Add(b.Attn.Forward(b.Ln1.Forward(x), mask))
	return x.Add(b.MLP.Forward(b.Ln2.Forward(x)))
}

// Forward attends x (N, L, width) over itself with the additive mask.
func (a *Attention) Forward(x, mask *tensor.Tensor) *tensor.Tensor {
	d := x.Dim(2)
	qkv := a.CAttn.Forward(x).Split(2, d, d, d)
	q := qkv[0]
	if a.QueryScale != 1 && a.QueryScale != 0 {
		q = q.Scale(a.QueryScale)
	}
	if a.PrefixKey == nil {
		ctx, _ := nn.Attend(q, qkv[1], qkv[2], mask, a.Heads, a.AttnDropout)
		return a.ResidDropout.Forward(a.CProj.Forward(ctx))
	}
	q = nn.SplitHeads(q, a.Heads, "gpt2 attention")
	k := nn.SplitHeads(qkv[1], a.Heads, "gpt2 attention")
	v := nn.SplitHeads(qkv[2], a.Heads, "gpt2 attention")
	if a.PrefixKey != nil {
		k, v, mask = hf.Prefix(a.PrefixKey, a.PrefixValue, k, v, mask, "gpt2 attention")
	}
	ctx, _ := nn.ScaledDotProductAttention(q, k, v, mask, a.AttnDropout)
	return a.ResidDropout.Forward(a.CProj.Forward(nn.MergeHeads(ctx)))
}

// Forward applies the feed-forward block to x (…, width).
func (f *MLP) Forward(x *tensor.Tensor) *tensor.Tensor {
	return f.Dropout.Forward(f.CProj.Forward(nn.Activate(f.Activation, f.CFc.Forward(x), 0)))
}

// Summary describes the model's parameters (see nn.Summary); it shows as a
// table in a notebook.
func (m *Model) Summary() *nn.ModelSummary { return nn.Summary(m) }
