package clip

import (
	"fmt"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// LayerHook rewrites the hidden states (N, L, width) that enter encoder layer
// layer (0-based), returning the states the layer runs on — the seam of deep
// prompting (VPT, MaPLe), which replaces or appends prompt tokens before each
// layer. It may change L (appended tokens); a nil hook changes nothing.
type LayerHook func(layer int, h *tensor.Tensor) *tensor.Tensor

// ForwardHook runs x (N, L, width) through every layer, calling hook before
// each one; causal applies a causal mask built for the length each layer
// receives. With a nil hook it is Forward with a causal mask or none.
func (e *Encoder) ForwardHook(x *tensor.Tensor, causal bool, hook LayerHook) *tensor.Tensor {
	for i, l := range e.Layers {
		if hook != nil {
			x = hook(i, x)
		}
		var mask *tensor.Tensor
		if causal {
			mask = nn.CausalMask(x.Dim(1))
		}
		x = l.Forward(x, mask)
	}
	return x
}

// ForwardEmbeddingsDeep is ForwardEmbeddings with hook called before every
// text layer (after the position embeddings are added for the first). A hook
// that changes the length must keep the end-of-text positions where the
// caller pools them.
func (t *TextTransformer) ForwardEmbeddingsDeep(embeds *tensor.Tensor, hook LayerHook) *tensor.Tensor {
	s := embeds.Shape()
	if len(s) != 3 || s[2] != t.Config.HiddenSize || s[1] < 1 || s[1] > t.Config.MaxPositionEmbeddings {
		panic(fmt.Sprintf("clip text encoder: embeddings %s must be (batch, 1…%d, %d)", tensor.FormatShape(s), t.Config.MaxPositionEmbeddings, t.Config.HiddenSize))
	}
	x := embeds.Add(t.Embeddings.PositionEmbedding.Weight.Slice(0, 0, s[1]))
	return t.FinalLayerNorm.Forward(t.Encoder.ForwardHook(x, true, hook))
}

// ForwardDeep is Forward with hook called before every vision layer; the
// first call receives the pre-layernormed class, patch and position
// embeddings (N, 1+patches, width). Tokens a hook appends after the patches
// take part in attention but not in pooling, which reads position 0.
func (v *VisionTransformer) ForwardDeep(images *tensor.Tensor, hook LayerHook) *tensor.Tensor {
	e := v.Embeddings
	x := models.PatchTokens(e.PatchEmbedding, images, e.imageSize)
	x = models.PrependToken(e.ClassEmbedding, x).Add(e.PositionEmbedding.Weight)
	return v.Encoder.ForwardHook(v.PreLayrnorm.Forward(x), false, hook)
}

// PooledDeep is Pooled with hook called before every vision layer (see
// ForwardDeep).
func (v *VisionTransformer) PooledDeep(images *tensor.Tensor, hook LayerHook) *tensor.Tensor {
	h := v.ForwardDeep(images, hook)
	return v.PostLayernorm.Forward(h.Slice(1, 0, 1).Reshape(h.Dim(0), h.Dim(2)))
}

// EncodeImageDeep is EncodeImage with hook called before every vision layer.
func (m *Model) EncodeImageDeep(images *tensor.Tensor, hook LayerHook) *tensor.Tensor {
	return m.VisualProjection.Forward(m.VisionModel.PooledDeep(images, hook))
}

// EncodeTextEmbeddingsDeep is EncodeTextEmbeddings with hook called before
// every text layer.
func (m *Model) EncodeTextEmbeddingsDeep(embeds *tensor.Tensor, eot []int, hook LayerHook) *tensor.Tensor {
	return m.TextProjection.Forward(Pool(m.TextModel.ForwardEmbeddingsDeep(embeds, hook), eot))
}
