package bert

import (
	"fmt"

	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Model is BertModel: embeddings, a stack of post-norm encoder layers and a
// pooler (tanh of a dense layer on the first token's state; nil when a
// checkpoint has none). Parameter names are Hugging Face's, LayerNorm
// capitalised as there. The dense projections are nn.Layer fields so that
// adapters can wrap them (nn.Replace).
type Model struct {
	Config     Config `nn:"-"`
	Embeddings *Embeddings
	Encoder    *Encoder
	Pooler     *Pooler
}

// Embeddings sums word, position and token-type (segment) embeddings, then
// applies layer norm and dropout.
type Embeddings struct {
	WordEmbeddings      *nn.Embedding
	PositionEmbeddings  *nn.Embedding
	TokenTypeEmbeddings *nn.Embedding
	LayerNorm           *nn.LayerNorm `nn:"LayerNorm"`
	Dropout             *nn.Dropout
}

// Encoder is the stack of layers, named encoder.layer.{i}.
type Encoder struct {
	Layer []*EncoderLayer `nn:"layer"`
}

// EncoderLayer is one transformer layer: attention, then the feed-forward
// block (intermediate and output), each closed by a residual layer norm.
type EncoderLayer struct {
	Attention    *Attention
	Intermediate *Intermediate
	Output       *Output
}

// Attention is self-attention (self) followed by its output projection with
// residual layer norm (output).
type Attention struct {
	Self   *SelfAttention `nn:"self"`
	Output *SelfOutput
}

// SelfAttention is multi-head scaled dot-product self-attention with separate
// query, key and value projections.
type SelfAttention struct {
	Query, Key, Value nn.Layer
	Dropout           *nn.Dropout // on the attention weights
	Heads             int         `nn:"-"`
	// PrefixKey and PrefixValue, when set (prefix tuning), are keys and
	// values (heads, P, head width) that every position attends to besides
	// the sequence's own (Hugging Face's past_key_values); nil: none.
	PrefixKey, PrefixValue *tensor.Tensor `nn:"-"`
}

// SelfOutput is LayerNorm(dropout(dense(context)) + input).
type SelfOutput struct {
	Dense     nn.Layer
	LayerNorm *nn.LayerNorm `nn:"LayerNorm"`
	Dropout   *nn.Dropout
}

// Intermediate is act(dense(x)), the widening half of the feed-forward block.
type Intermediate struct {
	Dense      nn.Layer
	Activation string `nn:"-"` // an nn.Activate name
}

// Output is LayerNorm(dropout(dense(h)) + input), the narrowing half of the
// feed-forward block.
type Output struct {
	Dense     nn.Layer
	LayerNorm *nn.LayerNorm `nn:"LayerNorm"`
	Dropout   *nn.Dropout
}

// Pooler is tanh(dense(h₀)) on the first token's final state.
type Pooler struct {
	Dense nn.Layer
}

// init holds what the constructors share: the random source (nil: zero
// weights) and the initialisation std.
type initializer struct {
	r   tensor.Rand
	std float64
}

func (in initializer) seed() uint64 {
	if in.r == nil {
		return 0
	}
	return in.r.Uint64()
}

// linear returns an in→out Linear with weight from N(0, std²) and zero bias.
func (in initializer) linear(inF, outF int) *nn.Linear {
	l := &nn.Linear{Weight: tensor.Zeros(outF, inF).SetRequiresGrad(true), Bias: tensor.Zeros(outF).SetRequiresGrad(true)}
	if in.r != nil {
		nn.NormalInit(l.Weight, in.r, 0, in.std)
	}
	return l
}

// embedding returns an (n, d) table from N(0, std²) with row pad (if ≥ 0) zero.
func (in initializer) embedding(n, d, pad int) *nn.Embedding {
	e := &nn.Embedding{Weight: tensor.Zeros(n, d).SetRequiresGrad(true)}
	if in.r != nil {
		nn.NormalInit(e.Weight, in.r, 0, in.std)
		if pad >= 0 {
			clear(e.Weight.Data()[pad*d : (pad+1)*d])
		}
	}
	return e
}

func newInitializer(cfg Config, r tensor.Rand) initializer {
	std := cfg.InitializerRange
	if std == 0 {
		std = 0.02
	}
	return initializer{r, std}
}

// New builds BERT (with pooler) for cfg, initialised as Hugging Face does:
// linear and embedding weights from N(0, initializer_range²), the padding
// token's embedding row, biases and layer-norm shifts 0, layer-norm scales 1.
// With r nil the weights stay zero (for a model about to be loaded) and
// dropout generators get fixed seeds. It returns cfg's error if cfg is
// invalid (see Config.Validate). Set Pooler to nil for a model without one.
func New(cfg Config, r tensor.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in := newInitializer(cfg, r)
	act, _ := hf.ActivationName(cfg.HiddenAct)
	h, eps := cfg.HiddenSize, float32(cfg.LayerNormEps)
	norm := func() *nn.LayerNorm {
		l := nn.NewLayerNorm(h)
		l.Eps = eps
		return l
	}
	hidden, attn := float32(cfg.HiddenDropoutProb), float32(cfg.AttentionProbsDropoutProb)
	m := &Model{Config: cfg, Embeddings: &Embeddings{
		WordEmbeddings:      in.embedding(cfg.VocabSize, h, cfg.PadTokenID),
		PositionEmbeddings:  in.embedding(cfg.MaxPositionEmbeddings, h, -1),
		TokenTypeEmbeddings: in.embedding(cfg.TypeVocabSize, h, -1),
		LayerNorm:           norm(),
		Dropout:             nn.NewDropout(hidden, in.seed()),
	}, Encoder: &Encoder{}}
	for range cfg.NumHiddenLayers {
		m.Encoder.Layer = append(m.Encoder.Layer, &EncoderLayer{
			Attention: &Attention{
				Self: &SelfAttention{Query: in.linear(h, h), Key: in.linear(h, h), Value: in.linear(h, h),
					Dropout: nn.NewDropout(attn, in.seed()), Heads: cfg.NumAttentionHeads},
				Output: &SelfOutput{Dense: in.linear(h, h), LayerNorm: norm(), Dropout: nn.NewDropout(hidden, in.seed())},
			},
			Intermediate: &Intermediate{Dense: in.linear(h, cfg.IntermediateSize), Activation: act},
			Output:       &Output{Dense: in.linear(cfg.IntermediateSize, h), LayerNorm: norm(), Dropout: nn.NewDropout(hidden, in.seed())},
		})
	}
	m.Pooler = &Pooler{Dense: in.linear(h, h)}
	return m, nil
}

// Input is a batch for BERT: token ids, segment ids and the number of real
// (non-padding) tokens per sequence.
type Input struct {
	IDs        *tensor.Tensor // (N, L) integral token ids
	TokenTypes *tensor.Tensor // (N, L) segment ids; nil means all 0
	Lengths    []int          // real tokens per row, padding after them; nil means no padding
}

// Input makes a batch from sequences of possibly different lengths, padded
// on the right with the config's pad token; tokenTypes, if not nil, gives a
// segment id per token (same lengths as ids). Ids outside the vocabulary,
// segments outside type_vocab_size and sequences longer than
// max_position_embeddings are errors naming the sequence and position.
func (m *Model) Input(ids, tokenTypes [][]int) (Input, error) {
	x, lengths, err := hf.PadIDs(ids, m.Config.PadTokenID)
	if err != nil {
		return Input{}, fmt.Errorf("bert: %w", err)
	}
	if x.Dim(1) > m.Config.MaxPositionEmbeddings {
		return Input{}, fmt.Errorf("bert: sequence of %d tokens is longer than max_position_embeddings = %d", x.Dim(1), m.Config.MaxPositionEmbeddings)
	}
	if err := checkRange("token id", x, m.Config.VocabSize, "the vocabulary of"); err != nil {
		return Input{}, err
	}
	in := Input{IDs: x, Lengths: lengths}
	if tokenTypes != nil {
		if len(tokenTypes) != len(ids) {
			return Input{}, fmt.Errorf("bert: %d token-type sequences for %d sequences", len(tokenTypes), len(ids))
		}
		for i := range ids {
			if len(tokenTypes[i]) != len(ids[i]) {
				return Input{}, fmt.Errorf("bert: sequence %d has %d tokens but %d token types", i, len(ids[i]), len(tokenTypes[i]))
			}
		}
		tt, _, _ := hf.PadIDs(tokenTypes, 0)
		if err := checkRange("token type", tt, m.Config.TypeVocabSize, "type_vocab_size ="); err != nil {
			return Input{}, err
		}
		in.TokenTypes = tt
	}
	return in, nil
}

// checkRange reports the first value of x (N, L) outside [0, n).
func checkRange(what string, x *tensor.Tensor, n int, limit string) error {
	l := x.Dim(1)
	for i, v := range x.Data() {
		if v < 0 || int(v) >= n {
			return fmt.Errorf("bert: %s %d at position %d of sequence %d is outside %s %d", what, int(v), i%l, i/l, limit, n)
		}
	}
	return nil
}

// Forward encodes token ids (N, L) without padding or segments and returns
// the final hidden states (N, L, hidden).
func (m *Model) Forward(ids *tensor.Tensor) *tensor.Tensor {
	seq, _ := m.Encode(Input{IDs: ids})
	return seq
}

// Encode runs the model on a batch and returns the final hidden states
// (N, L, hidden) and the pooled output (N, hidden), nil without a pooler.
func (m *Model) Encode(in Input) (sequence, pooled *tensor.Tensor) {
	if in.IDs == nil || in.IDs.Dims() != 2 {
		panic("bert: Input.IDs must be (batch, length)")
	}
	return m.ForwardEmbeds(m.Embeddings.WordEmbeddings.Forward(in.IDs), in.TokenTypes, in.Lengths)
}

// ForwardEmbeds is Encode on word embeddings (N, L, hidden) instead of ids —
// for soft prompts, whose embeddings are learned; position and token-type
// embeddings are added as usual, positions counted from P when the
// attention layers hold prefixes of P keys (as Hugging Face counts them
// after past_key_values).
func (m *Model) ForwardEmbeds(words, tokenTypes *tensor.Tensor, lengths []int) (sequence, pooled *tensor.Tensor) {
	s := words.Shape()
	if len(s) != 3 || s[2] != m.Config.HiddenSize {
		panic(fmt.Sprintf("bert: word embeddings %s must be (batch, length, %d)", tensor.FormatShape(s), m.Config.HiddenSize))
	}
	past := 0
	if len(m.Encoder.Layer) > 0 && m.Encoder.Layer[0].Attention.Self.PrefixKey != nil {
		past = m.Encoder.Layer[0].Attention.Self.PrefixKey.Dim(1)
	}
	if past+s[1] > m.Config.MaxPositionEmbeddings {
		panic(fmt.Sprintf("bert: sequence of %d tokens (after %d prefix positions) is longer than max_position_embeddings = %d", s[1], past, m.Config.MaxPositionEmbeddings))
	}
	x := m.Embeddings.forward(words, tokenTypes, past)
	var mask *tensor.Tensor
	if lengths != nil {
		if len(lengths) != s[0] {
			panic(fmt.Sprintf("bert: %d lengths for a batch of %d", len(lengths), s[0]))
		}
		mask = nn.PaddingMask(lengths, s[1])
	}
	for _, l := range m.Encoder.Layer {
		x = l.Forward(x, mask)
	}
	if m.Pooler == nil {
		return x, nil
	}
	return x, m.Pooler.Forward(x)
}

// forward sums the embeddings of words (N, L, hidden), positions
// past…past+L−1 and token types (zeros when nil), then normalises.
func (e *Embeddings) forward(words, tokenTypes *tensor.Tensor, past int) *tensor.Tensor {
	n, l := words.Dim(0), words.Dim(1)
	if tokenTypes == nil {
		tokenTypes = tensor.Zeros(n, l)
	}
	x := words.Add(e.PositionEmbeddings.Weight.Slice(0, past, past+l)).Add(e.TokenTypeEmbeddings.Forward(tokenTypes))
	return e.Dropout.Forward(e.LayerNorm.Forward(x))
}

// Forward applies the layer to x (N, L, hidden) with an additive attention
// mask broadcasting to (N, heads, L, L), or nil.
func (l *EncoderLayer) Forward(x, mask *tensor.Tensor) *tensor.Tensor {
	a := l.Attention.Output.Forward(l.Attention.Self.Forward(x, mask), x)
	return l.Output.Forward(l.Intermediate.Forward(a), a)
}

// Forward attends x (N, L, hidden) over itself and returns the merged
// context (N, L, hidden).
func (s *SelfAttention) Forward(x, mask *tensor.Tensor) *tensor.Tensor {
	if s.PrefixKey == nil {
		ctx, _ := nn.Attend(s.Query.Forward(x), s.Key.Forward(x), s.Value.Forward(x), mask, s.Heads, s.Dropout)
		return ctx
	}
	q := nn.SplitHeads(s.Query.Forward(x), s.Heads, "bert attention")
	k := nn.SplitHeads(s.Key.Forward(x), s.Heads, "bert attention")
	v := nn.SplitHeads(s.Value.Forward(x), s.Heads, "bert attention")
	k, v, mask = hf.Prefix(s.PrefixKey, s.PrefixValue, k, v, mask, "bert attention")
	ctx, _ := nn.ScaledDotProductAttention(q, k, v, mask, s.Dropout)
	return nn.MergeHeads(ctx)
}

// Forward returns LayerNorm(dropout(dense(h)) + input).
func (o *SelfOutput) Forward(h, input *tensor.Tensor) *tensor.Tensor {
	return o.LayerNorm.Forward(o.Dropout.Forward(o.Dense.Forward(h)).Add(input))
}

// Forward returns act(dense(x)).
func (i *Intermediate) Forward(x *tensor.Tensor) *tensor.Tensor {
	return nn.Activate(i.Activation, i.Dense.Forward(x), 0)
}

// Forward returns LayerNorm(dropout(dense(h)) + input).
func (o *Output) Forward(h, input *tensor.Tensor) *tensor.Tensor {
	return o.LayerNorm.Forward(o.Dropout.Forward(o.Dense.Forward(h)).Add(input))
}

// Forward pools hidden states (N, L, hidden) into (N, hidden).
func (p *Pooler) Forward(x *tensor.Tensor) *tensor.Tensor {
	return p.Dense.Forward(x.Index(1, 0)).Tanh()
}

// Summary describes the model's parameters (see nn.Summary); it shows as a
// table in a notebook.
func (m *Model) Summary() *nn.ModelSummary { return nn.Summary(m) }

// Classifier is BertForSequenceClassification: BERT's pooled output, dropout
// and a linear head. Names are "bert." + the Model's, classifier.weight and
// classifier.bias.
type Classifier struct {
	Bert       *Model `nn:"bert"`
	Dropout    *nn.Dropout
	Classifier nn.Layer `nn:"classifier"`
	NumLabels  int      `nn:"-"`
}

// NewClassifier builds a classifier over numLabels classes (0: the config's
// NumLabels), initialised as New does, the head from N(0, initializer_range²)
// with zero bias.
func NewClassifier(cfg Config, numLabels int, r tensor.Rand) (*Classifier, error) {
	if numLabels <= 0 {
		numLabels = cfg.NumLabels()
	}
	bert, err := New(cfg, r)
	if err != nil {
		return nil, err
	}
	c := &Classifier{Bert: bert, NumLabels: numLabels}
	in := newInitializer(cfg, r)
	p := cfg.HiddenDropoutProb
	if cfg.ClassifierDropout != nil {
		p = *cfg.ClassifierDropout
	}
	c.Dropout = nn.NewDropout(float32(p), in.seed())
	c.Classifier = in.linear(cfg.HiddenSize, numLabels)
	return c, nil
}

// Features returns the pooled representation (N, hidden) the head
// classifies: what domain-adaptation methods align or feed to a domain
// discriminator.
func (c *Classifier) Features(in Input) *tensor.Tensor {
	_, pooled := c.Bert.Encode(in)
	if pooled == nil {
		panic("bert: the classifier's model has no pooler")
	}
	return pooled
}

// Head maps features (N, hidden) to logits (N, classes): dropout, then the
// linear classifier.
func (c *Classifier) Head(features *tensor.Tensor) *tensor.Tensor {
	return c.Classifier.Forward(c.Dropout.Forward(features))
}

// Logits is Head(Features(in)).
func (c *Classifier) Logits(in Input) *tensor.Tensor {
	return c.Head(c.Features(in))
}

// Forward classifies token ids (N, L) without padding or segments.
func (c *Classifier) Forward(ids *tensor.Tensor) *tensor.Tensor {
	return c.Logits(Input{IDs: ids})
}

// Input makes a padded batch (see Model.Input).
func (c *Classifier) Input(ids, tokenTypes [][]int) (Input, error) {
	return c.Bert.Input(ids, tokenTypes)
}

// Summary describes the classifier's parameters (see nn.Summary).
func (c *Classifier) Summary() *nn.ModelSummary { return nn.Summary(c) }
