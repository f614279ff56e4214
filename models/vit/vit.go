package vit

import (
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Model is Hugging Face's ViTModel: patch and position embeddings with a
// class token, NumHiddenLayers pre-norm encoder layers, a final layer norm
// and, with AddPoolingLayer, a pooler. Linear and convolution layers are
// nn.Layer fields so that adapters can wrap them (nn.Replace).
type Model struct {
	Config     Config `nn:"-"`
	Embeddings *Embeddings
	Encoder    *Encoder
	Layernorm  *nn.LayerNorm `nn:"layernorm"`
	Pooler     *Pooler       // nil without AddPoolingLayer
}

// Embeddings turns images into the encoder's input: the class token followed
// by one token per patch, plus a learned position embedding, then dropout.
type Embeddings struct {
	CLSToken           *tensor.Tensor `nn:"cls_token"` // (1, 1, width)
	PositionEmbeddings *tensor.Tensor // (1, 1+patches, width)
	PatchEmbeddings    *PatchEmbeddings
	Dropout            *nn.Dropout
	imageSize          int
}

// PatchEmbeddings is the patch projection: a convolution (width output
// channels) with kernel and stride the patch size.
type PatchEmbeddings struct {
	Projection nn.Layer
}

// Encoder is the stack of transformer layers (encoder.layer.{i}).
type Encoder struct {
	Layer []*Layer
}

// Layer is one pre-norm transformer layer:
// h = x + attention(layernorm_before(x)); out = h + output(intermediate(layernorm_after(h))).
type Layer struct {
	Attention       *Attention
	Intermediate    *Intermediate
	Output          *Output
	LayernormBefore *nn.LayerNorm `nn:"layernorm_before"`
	LayernormAfter  *nn.LayerNorm `nn:"layernorm_after"`
}

// Attention is self-attention (attention) followed by its output projection
// (output).
type Attention struct {
	Attention *SelfAttention
	Output    *SelfOutput
}

// SelfAttention is multi-head scaled dot-product self-attention with
// separate query, key and value projections.
type SelfAttention struct {
	Query, Key, Value nn.Layer
	Dropout           *nn.Dropout // on the attention weights
	Heads             int         `nn:"-"`
}

// SelfOutput projects the merged heads back to the model width (dense),
// then applies dropout.
type SelfOutput struct {
	Dense   nn.Layer
	Dropout *nn.Dropout
}

// Intermediate is the first feed-forward layer and its activation.
type Intermediate struct {
	Dense      nn.Layer
	Activation string `nn:"-"` // an nn.Activate name
}

// Output is the second feed-forward layer, then dropout (the residual is
// added by Layer).
type Output struct {
	Dense   nn.Layer
	Dropout *nn.Dropout
}

// Pooler is dense + tanh on the final class token.
type Pooler struct {
	Dense nn.Layer
}

// ForImageClassification is Hugging Face's ViTForImageClassification: a
// Model without pooler under "vit." and a linear classifier on the final
// class token. It implements models.Classifier.
type ForImageClassification struct {
	ViT        *Model `nn:"vit"`
	Classifier nn.Layer
}

// initializer draws weights as Hugging Face initialises ViT: N(0,
// initializer_range²) for linear and convolution weights, the class token and
// the position embeddings; biases 0; layer norms 1 and 0. r nil leaves
// everything at zero (and layer norms at 1), for a model about to be loaded.
type initializer struct {
	r   tensor.Rand
	std float64
}

func (in initializer) param(shape ...int) *tensor.Tensor {
	p := tensor.Zeros(shape...).SetRequiresGrad(true)
	if in.r != nil {
		nn.NormalInit(p, in.r, 0, in.std)
	}
	return p
}

func (in initializer) linear(inF, outF int, bias bool) *nn.Linear {
	l := &nn.Linear{Weight: in.param(outF, inF)}
	if bias {
		l.Bias = tensor.Zeros(outF).SetRequiresGrad(true)
	}
	return l
}

func (in initializer) dropout(p float64) *nn.Dropout {
	var seed uint64
	if in.r != nil {
		seed = in.r.Uint64()
	}
	return nn.NewDropout(float32(p), seed)
}

// New builds a ViTModel for cfg (with a pooler when cfg.AddPoolingLayer)
// initialised from r as Hugging Face does (see the package's Load for
// pretrained weights). With r nil the weights stay zero. It returns an error
// for an invalid cfg (see Config.Validate).
func New(cfg Config, r tensor.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in := initializer{r: r, std: cfg.InitializerRange}
	if in.std == 0 {
		in.std = 0.02
	}
	act, _ := hf.ActivationName(cfg.HiddenAct)
	d, eps := cfg.HiddenSize, float32(cfg.LayerNormEps)
	norm := func() *nn.LayerNorm {
		l := nn.NewLayerNorm(d)
		l.Eps = eps
		return l
	}
	proj := &nn.Conv2d{
		Weight:  in.param(d, cfg.NumChannels, cfg.PatchSize, cfg.PatchSize),
		Bias:    tensor.Zeros(d).SetRequiresGrad(true),
		Options: tensor.Conv2dOptions{Stride: [2]int{cfg.PatchSize, cfg.PatchSize}},
	}
	m := &Model{
		Config: cfg,
		Embeddings: &Embeddings{
			CLSToken:           in.param(1, 1, d),
			PositionEmbeddings: in.param(1, cfg.Patches()+1, d),
			PatchEmbeddings:    &PatchEmbeddings{Projection: proj},
			Dropout:            in.dropout(cfg.HiddenDropoutProb),
			imageSize:          cfg.ImageSize,
		},
		Encoder:   &Encoder{},
		Layernorm: norm(),
	}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		m.Encoder.Layer = append(m.Encoder.Layer, &Layer{
			Attention: &Attention{
				Attention: &SelfAttention{
					Query: in.linear(d, d, cfg.QKVBias), Key: in.linear(d, d, cfg.QKVBias), Value: in.linear(d, d, cfg.QKVBias),
					Dropout: in.dropout(cfg.AttentionProbsDropoutProb), Heads: cfg.NumAttentionHeads,
				},
				Output: &SelfOutput{Dense: in.linear(d, d, true), Dropout: in.dropout(cfg.HiddenDropoutProb)},
			},
			Intermediate:    &Intermediate{Dense: in.linear(d, cfg.IntermediateSize, true), Activation: act},
			Output:          &Output{Dense: in.linear(cfg.IntermediateSize, d, true), Dropout: in.dropout(cfg.HiddenDropoutProb)},
			LayernormBefore: norm(),
			LayernormAfter:  norm(),
		})
	}
	if cfg.AddPoolingLayer {
		m.Pooler = &Pooler{Dense: in.linear(d, d, true)}
	}
	return m, nil
}

// NewForImageClassification builds a ViTForImageClassification for cfg with
// cfg.Labels() classes, initialised from r (nil: zeros). The backbone has no
// pooler, whatever cfg.AddPoolingLayer says.
func NewForImageClassification(cfg Config, r tensor.Rand) (*ForImageClassification, error) {
	cfg.AddPoolingLayer = false
	m, err := New(cfg, r)
	if err != nil {
		return nil, err
	}
	in := initializer{r: r, std: cfg.InitializerRange}
	if in.std == 0 {
		in.std = 0.02
	}
	return &ForImageClassification{ViT: m, Classifier: in.linear(cfg.HiddenSize, cfg.Labels(), true)}, nil
}

// Forward embeds images (N, channels, image_size, image_size) as the class
// token and the patch tokens with their positions.
func (e *Embeddings) Forward(images *tensor.Tensor) *tensor.Tensor {
	x := models.PatchTokens(e.PatchEmbeddings.Projection, images, e.imageSize)
	x = models.PrependToken(e.CLSToken, x).Add(e.PositionEmbeddings)
	return e.Dropout.Forward(x)
}

// Forward attends over x (N, L, width).
func (a *SelfAttention) Forward(x *tensor.Tensor) *tensor.Tensor {
	ctx, _ := nn.Attend(a.Query.Forward(x), a.Key.Forward(x), a.Value.Forward(x), nil, a.Heads, a.Dropout)
	return ctx
}

// Forward is self-attention and its output projection (without the residual).
func (a *Attention) Forward(x *tensor.Tensor) *tensor.Tensor {
	return a.Output.Dropout.Forward(a.Output.Dense.Forward(a.Attention.Forward(x)))
}

// Forward applies the layer to x (N, L, width).
func (l *Layer) Forward(x *tensor.Tensor) *tensor.Tensor {
	h := x.Add(l.Attention.Forward(l.LayernormBefore.Forward(x)))
	y := nn.Activate(l.Intermediate.Activation, l.Intermediate.Dense.Forward(l.LayernormAfter.Forward(h)), 0)
	return h.Add(l.Output.Dropout.Forward(l.Output.Dense.Forward(y)))
}

// Forward runs x (N, L, width) through every layer.
func (e *Encoder) Forward(x *tensor.Tensor) *tensor.Tensor {
	for _, l := range e.Layer {
		x = l.Forward(x)
	}
	return x
}

// Forward applies dense + tanh to the class tokens (N, width).
func (p *Pooler) Forward(cls *tensor.Tensor) *tensor.Tensor {
	return p.Dense.Forward(cls).Tanh()
}

// Forward returns the final hidden states (N, 1+patches, width) of images
// (N, channels, image_size, image_size), after the final layer norm — Hugging
// Face's last_hidden_state; position 0 is the class token.
func (m *Model) Forward(images *tensor.Tensor) *tensor.Tensor {
	return m.Layernorm.Forward(m.Encoder.Forward(m.Embeddings.Forward(images)))
}

// Features returns the final class-token state (N, width) of images: the
// representation a classification head sees.
func (m *Model) Features(images *tensor.Tensor) *tensor.Tensor {
	return classToken(m.Forward(images))
}

// classToken takes position 0 of hidden states (N, L, D), giving (N, D).
func classToken(h *tensor.Tensor) *tensor.Tensor {
	return h.Slice(1, 0, 1).Reshape(h.Dim(0), h.Dim(2))
}

// Pooled returns the pooler's output (N, width) for images — Hugging Face's
// pooler_output. It panics when the model has no pooler.
func (m *Model) Pooled(images *tensor.Tensor) *tensor.Tensor {
	if m.Pooler == nil {
		panic("vit: the model has no pooler (Config.AddPoolingLayer was false)")
	}
	return m.Pooler.Forward(m.Features(images))
}

// Features returns the final class-token state (N, width) of images (N,
// channels, image_size, image_size).
func (c *ForImageClassification) Features(images *tensor.Tensor) *tensor.Tensor {
	return c.ViT.Features(images)
}

// Classify applies the classifier to features (N, width).
func (c *ForImageClassification) Classify(features *tensor.Tensor) *tensor.Tensor {
	return c.Classifier.Forward(features)
}

// Forward returns the logits (N, labels) of images.
func (c *ForImageClassification) Forward(images *tensor.Tensor) *tensor.Tensor {
	return c.Classify(c.Features(images))
}

// Head returns the classifier.
func (c *ForImageClassification) Head() nn.Layer { return c.Classifier }

// FeatureDim returns the model width.
func (c *ForImageClassification) FeatureDim() int { return c.ViT.Config.HiddenSize }
