package clip

import (
	"fmt"
	"math"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Model is Hugging Face's CLIPModel: a text transformer and an image
// transformer, linear projections of their pooled outputs into a shared
// space, and the learned log of the logit scale (a scalar).
type Model struct {
	Config           Config `nn:"-"`
	TextModel        *TextTransformer
	VisionModel      *VisionTransformer
	VisualProjection nn.Layer // (projection_dim, vision width), no bias
	TextProjection   nn.Layer // (projection_dim, text width), no bias
	LogitScale       *tensor.Tensor
}

// TextTransformer is CLIP's text encoder: token and position embeddings,
// causal pre-norm transformer layers and a final layer norm. A text's
// representation is the final state at its end-of-text token.
type TextTransformer struct {
	Config         TextConfig `nn:"-"`
	Embeddings     *TextEmbeddings
	Encoder        *Encoder
	FinalLayerNorm *nn.LayerNorm
}

// TextEmbeddings holds the token table (vocab_size, width) and the position
// table (max_position_embeddings, width).
type TextEmbeddings struct {
	TokenEmbedding    *nn.Embedding
	PositionEmbedding *nn.Embedding
}

// VisionTransformer is CLIP's image encoder: a class embedding before the
// patch embeddings, position embeddings, a layer norm before the transformer
// ("pre_layrnorm", Hugging Face's spelling) and one on the final class state
// (post_layernorm).
type VisionTransformer struct {
	Config        VisionConfig `nn:"-"`
	Embeddings    *VisionEmbeddings
	PreLayrnorm   *nn.LayerNorm `nn:"pre_layrnorm"`
	Encoder       *Encoder
	PostLayernorm *nn.LayerNorm `nn:"post_layernorm"`
}

// VisionEmbeddings holds the class embedding (width), the patch projection (a
// bias-free convolution with kernel and stride the patch size) and the
// position table (1+patches, width).
type VisionEmbeddings struct {
	ClassEmbedding    *tensor.Tensor
	PatchEmbedding    nn.Layer
	PositionEmbedding *nn.Embedding
	imageSize         int
}

// Encoder is a stack of pre-norm transformer layers (encoder.layers.{i}).
type Encoder struct {
	Layers []*EncoderLayer
}

// EncoderLayer is h = x + self_attn(layer_norm1(x)); out = h + mlp(layer_norm2(h)).
// The attention's projections are q_proj, k_proj, v_proj and out_proj, with
// biases.
type EncoderLayer struct {
	SelfAttn   *nn.MultiheadAttention
	LayerNorm1 *nn.LayerNorm
	MLP        *MLP `nn:"mlp"`
	LayerNorm2 *nn.LayerNorm
}

// MLP is the feed-forward block fc2(act(fc1(x))).
type MLP struct {
	FC1, FC2   nn.Layer
	Activation string `nn:"-"` // an nn.Activate name
}

// initializer draws weights as Hugging Face initialises CLIP (normal
// distributions scaled by the width and depth, biases 0, layer norms 1 and 0);
// r nil leaves them zero, for a model about to be loaded.
type initializer struct {
	r      tensor.Rand
	factor float64
}

func (in initializer) param(std float64, shape ...int) *tensor.Tensor {
	p := tensor.Zeros(shape...).SetRequiresGrad(true)
	if in.r != nil {
		nn.NormalInit(p, in.r, 0, std*in.factor)
	}
	return p
}

func (in initializer) linear(inF, outF int, bias bool, std float64) *nn.Linear {
	l := &nn.Linear{Weight: in.param(std, outF, inF)}
	if bias {
		l.Bias = tensor.Zeros(outF).SetRequiresGrad(true)
	}
	return l
}

func (in initializer) seed() uint64 {
	if in.r == nil {
		return 0
	}
	return in.r.Uint64()
}

func layerNorm(d int, eps float64) *nn.LayerNorm {
	l := nn.NewLayerNorm(d)
	l.Eps = float32(eps)
	return l
}

// encoder builds the layers s describes.
func (in initializer) encoder(s encoderShape) *Encoder {
	d := s.width
	act, _ := hf.ActivationName(s.act)
	inStd := math.Pow(float64(d), -0.5) * math.Pow(2*float64(s.layers), -0.5)
	outStd := math.Pow(float64(d), -0.5)
	fcStd := math.Pow(2*float64(d), -0.5)
	e := &Encoder{}
	for i := 0; i < s.layers; i++ {
		e.Layers = append(e.Layers, &EncoderLayer{
			SelfAttn: &nn.MultiheadAttention{
				QProj: in.linear(d, d, true, inStd), KProj: in.linear(d, d, true, inStd), VProj: in.linear(d, d, true, inStd),
				OutProj: in.linear(d, d, true, outStd), Dropout: nn.NewDropout(float32(s.attnDropout), in.seed()), Heads: s.heads,
			},
			LayerNorm1: layerNorm(d, s.eps),
			MLP:        &MLP{FC1: in.linear(d, s.inner, true, fcStd), FC2: in.linear(s.inner, d, true, inStd), Activation: act},
			LayerNorm2: layerNorm(d, s.eps),
		})
	}
	return e
}

// New builds CLIP for cfg with weights initialised from r as Hugging Face
// does (see Load for pretrained weights); with r nil they stay zero. It
// returns an error for an invalid cfg (see Config.Validate).
func New(cfg Config, r tensor.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	factor := cfg.InitializerFactor
	if factor == 0 {
		factor = 1
	}
	in := initializer{r: r, factor: factor}
	t, v := cfg.TextConfig, cfg.VisionConfig
	vRange := v.InitializerRange
	if vRange == 0 {
		vRange = 0.02
	}
	patches := (v.ImageSize / v.PatchSize) * (v.ImageSize / v.PatchSize)
	m := &Model{
		Config: cfg,
		TextModel: &TextTransformer{
			Config: t,
			Embeddings: &TextEmbeddings{
				TokenEmbedding:    &nn.Embedding{Weight: in.param(0.02, t.VocabSize, t.HiddenSize)},
				PositionEmbedding: &nn.Embedding{Weight: in.param(0.02, t.MaxPositionEmbeddings, t.HiddenSize)},
			},
			Encoder:        in.encoder(t.shape()),
			FinalLayerNorm: layerNorm(t.HiddenSize, t.LayerNormEps),
		},
		VisionModel: &VisionTransformer{
			Config: v,
			Embeddings: &VisionEmbeddings{
				ClassEmbedding: in.param(math.Pow(float64(v.HiddenSize), -0.5), v.HiddenSize),
				PatchEmbedding: &nn.Conv2d{
					Weight:  in.param(vRange, v.HiddenSize, v.NumChannels, v.PatchSize, v.PatchSize),
					Options: tensor.Conv2dOptions{Stride: [2]int{v.PatchSize, v.PatchSize}},
				},
				PositionEmbedding: &nn.Embedding{Weight: in.param(vRange, patches+1, v.HiddenSize)},
				imageSize:         v.ImageSize,
			},
			PreLayrnorm:   layerNorm(v.HiddenSize, v.LayerNormEps),
			Encoder:       in.encoder(v.shape()),
			PostLayernorm: layerNorm(v.HiddenSize, v.LayerNormEps),
		},
		VisualProjection: in.linear(v.HiddenSize, cfg.ProjectionDim, false, math.Pow(float64(v.HiddenSize), -0.5)),
		TextProjection:   in.linear(t.HiddenSize, cfg.ProjectionDim, false, math.Pow(float64(t.HiddenSize), -0.5)),
		LogitScale:       tensor.Scalar(float32(cfg.LogitScaleInitValue)).SetRequiresGrad(true),
	}
	return m, nil
}

// Forward applies the layer to x (N, L, width) with an additive attention
// mask (nil for none).
func (l *EncoderLayer) Forward(x, mask *tensor.Tensor) *tensor.Tensor {
	y := l.LayerNorm1.Forward(x)
	h := x.Add(l.SelfAttn.Forward(y, y, y, mask))
	return h.Add(l.MLP.Forward(l.LayerNorm2.Forward(h)))
}

// Forward applies the feed-forward block.
func (m *MLP) Forward(x *tensor.Tensor) *tensor.Tensor {
	return m.FC2.Forward(nn.Activate(m.Activation, m.FC1.Forward(x), 0))
}

// Forward runs x (N, L, width) through every layer with the additive mask
// (nil for none).
func (e *Encoder) Forward(x, mask *tensor.Tensor) *tensor.Tensor {
	for _, l := range e.Layers {
		x = l.Forward(x, mask)
	}
	return x
}

// Embed looks up the token embeddings (N, L, width) of ids — without the
// position embeddings, which ForwardEmbeddings adds. Every sequence must have
// the same length, at most max_position_embeddings, and ids must be in the
// vocabulary.
func (t *TextTransformer) Embed(ids [][]int) (*tensor.Tensor, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("clip: no token sequences")
	}
	l := len(ids[0])
	flat := make([]int, 0, len(ids)*l)
	for n, seq := range ids {
		if len(seq) != l {
			return nil, fmt.Errorf("clip: sequence %d has %d tokens, sequence 0 has %d (pad them to one length)", n, len(seq), l)
		}
		for i, id := range seq {
			if id < 0 || id >= t.Config.VocabSize {
				return nil, fmt.Errorf("clip: token id %d at position %d of sequence %d is outside the vocabulary of %d", id, i, n, t.Config.VocabSize)
			}
		}
		flat = append(flat, seq...)
	}
	if l == 0 || l > t.Config.MaxPositionEmbeddings {
		return nil, fmt.Errorf("clip: sequences of %d tokens; the text encoder takes 1 to %d", l, t.Config.MaxPositionEmbeddings)
	}
	return tensor.EmbeddingInts(t.Embeddings.TokenEmbedding.Weight, flat).Reshape(len(ids), l, t.Config.HiddenSize), nil
}

// EOTPositions returns the position of each sequence's end-of-text token:
// the first eos_token_id, or, when the config's eos_token_id is the legacy 2,
// the largest id (as Hugging Face does for such configs). It is an error for
// a sequence to lack the token.
func (t *TextTransformer) EOTPositions(ids [][]int) ([]int, error) {
	out := make([]int, len(ids))
	for n, seq := range ids {
		out[n] = -1
		for i, id := range seq {
			if t.Config.EosTokenID == 2 {
				if out[n] < 0 || id > seq[out[n]] {
					out[n] = i
				}
			} else if id == t.Config.EosTokenID {
				out[n] = i
				break
			}
		}
		if out[n] < 0 {
			return nil, fmt.Errorf("clip: sequence %d has no end-of-text token %d", n, t.Config.EosTokenID)
		}
	}
	return out, nil
}

// ForwardEmbeddings encodes token embeddings (N, L, width) — from Embed, or
// built by a prompt-learning method — adding the position embeddings and
// letting each position attend to itself and those before it. It returns the
// final hidden states (N, L, width) after the final layer norm.
func (t *TextTransformer) ForwardEmbeddings(embeds *tensor.Tensor) *tensor.Tensor {
	s := embeds.Shape()
	if len(s) != 3 || s[2] != t.Config.HiddenSize || s[1] < 1 || s[1] > t.Config.MaxPositionEmbeddings {
		panic(fmt.Sprintf("clip text encoder: embeddings %s must be (batch, 1…%d, %d)", tensor.FormatShape(s), t.Config.MaxPositionEmbeddings, t.Config.HiddenSize))
	}
	x := embeds.Add(t.Embeddings.PositionEmbedding.Weight.Slice(0, 0, s[1]))
	return t.FinalLayerNorm.Forward(t.Encoder.Forward(x, nn.CausalMask(s[1])))
}

// Pool picks the state of each sequence's end-of-text position from hidden
// states (N, L, width), giving (N, width).
func Pool(hidden *tensor.Tensor, eot []int) *tensor.Tensor {
	n, l, d := hidden.Dim(0), hidden.Dim(1), hidden.Dim(2)
	if len(eot) != n {
		panic(fmt.Sprintf("clip: %d end-of-text positions for %d sequences", len(eot), n))
	}
	rows := make([]int, n)
	for i, p := range eot {
		if p < 0 || p >= l {
			panic(fmt.Sprintf("clip: end-of-text position %d of sequence %d is outside its %d tokens", p, i, l))
		}
		rows[i] = i*l + p
	}
	return hidden.Reshape(n*l, d).IndexSelect(0, rows)
}

// Forward returns the hidden states (N, 1+patches, width) of images (N,
// channels, image_size, image_size) — Hugging Face's last_hidden_state,
// without the post-layernorm that Pooled applies to the class state.
func (v *VisionTransformer) Forward(images *tensor.Tensor) *tensor.Tensor {
	e := v.Embeddings
	x := models.PatchTokens(e.PatchEmbedding, images, e.imageSize)
	x = models.PrependToken(e.ClassEmbedding, x).Add(e.PositionEmbedding.Weight)
	return v.Encoder.Forward(v.PreLayrnorm.Forward(x), nil)
}

// Pooled returns the post-layernormed final class state (N, width) of images.
func (v *VisionTransformer) Pooled(images *tensor.Tensor) *tensor.Tensor {
	h := v.Forward(images)
	return v.PostLayernorm.Forward(h.Slice(1, 0, 1).Reshape(h.Dim(0), h.Dim(2)))
}

// EncodeImage returns the image embeddings (N, projection_dim) of images
// (N, channels, image_size, image_size), not normalised — Hugging Face's
// get_image_features.
func (m *Model) EncodeImage(images *tensor.Tensor) *tensor.Tensor {
	return m.VisualProjection.Forward(m.VisionModel.Pooled(images))
}

// TokenEmbeddings looks up the token embeddings (N, L, text width) of ids,
// which must all have the same length: the starting point of a learned
// prompt, whose context positions a prompt-learning method replaces before
// EncodeTextEmbeddings.
func (m *Model) TokenEmbeddings(ids [][]int) (*tensor.Tensor, error) {
	return m.TextModel.Embed(ids)
}

// EncodeTextEmbeddings returns the text embeddings (N, projection_dim) of
// token embeddings (N, L, text width), each text represented by its state at
// eot[n], the end-of-text position; not normalised.
func (m *Model) EncodeTextEmbeddings(embeds *tensor.Tensor, eot []int) *tensor.Tensor {
	return m.TextProjection.Forward(Pool(m.TextModel.ForwardEmbeddings(embeds), eot))
}

// EncodeText returns the text embeddings (N, projection_dim) of token ids —
// Hugging Face's get_text_features. Sequences of different lengths are
// padded on the right with pad_token_id, which no earlier position attends to.
func (m *Model) EncodeText(ids [][]int) (*tensor.Tensor, error) {
	eot, err := m.TextModel.EOTPositions(ids)
	if err != nil {
		return nil, err
	}
	longest := 0
	for _, seq := range ids {
		longest = max(longest, len(seq))
	}
	rows := make([][]int, len(ids))
	for i, seq := range ids {
		rows[i] = append(make([]int, 0, longest), seq...)
		for len(rows[i]) < longest {
			rows[i] = append(rows[i], m.Config.TextConfig.PadTokenID)
		}
	}
	embeds, err := m.TextModel.Embed(rows)
	if err != nil {
		return nil, err
	}
	return m.EncodeTextEmbeddings(embeds, eot), nil
}

// normalize scales each row of x (N, D) to unit Euclidean length.
func normalize(x *tensor.Tensor) *tensor.Tensor {
	return x.Div(x.Square().SumKeep(1).Sqrt())
}

// Logits returns logits_per_image (images, texts): the cosine similarity of
// every image embedding with every text embedding times exp(logit_scale).
// logits_per_text is its transpose.
func (m *Model) Logits(imageEmbeds, textEmbeds *tensor.Tensor) *tensor.Tensor {
	sim := normalize(imageEmbeds).MatMulT(normalize(textEmbeds), false, true)
	return sim.Mul(m.LogitScale.Exp())
}

// Forward returns logits_per_image (images, texts) for images (N, channels,
// image_size, image_size) and token ids (see EncodeText).
func (m *Model) Forward(images *tensor.Tensor, ids [][]int) (*tensor.Tensor, error) {
	text, err := m.EncodeText(ids)
	if err != nil {
		return nil, err
	}
	return m.Logits(m.EncodeImage(images), text), nil
}
