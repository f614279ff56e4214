package prompt

import (
	"fmt"

	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// MaPLeConfig configures MaPLe. M must be positive; the other zero fields
// take the defaults shown.
type MaPLeConfig struct {
	M int // prompt tokens per layer and branch; required, > 0
	// Depth is J, the number of layers (from the first) that get prompts
	// (default: every layer of the shallower encoder).
	Depth      int
	InitPhrase string  // the first layer's language prompts, as CoOpConfig.InitPhrase
	Std        float64 // random initialisation of the language prompts (default 0.02)
	Seed       uint64
}

// MaPLe is multi-modal prompt learning: M language prompt tokens P_i
// (learned) in each of the first J text layers — the first layer's as CoOp's
// context, [BOS] P_0 [CLASS] [EOS], the deeper ones replacing those
// positions' hidden states — and M vision prompt tokens F_i(P_i), a linear
// coupling of the language prompts, appended to the image tokens before
// layer 0 and replaced before layers 1 … J-1. The vision prompts enter
// after the image encoder's pre-layernorm (the original adds them just
// before it).
type MaPLe struct {
	Model       *clip.Model
	Config      MaPLeConfig
	TextPrompts []*tensor.Tensor // J tensors (M, text width)
	Coupling    []*nn.Linear     // J maps text width → vision width
	layouts     layouts
}

// NewMaPLe freezes model and returns MaPLe over it, checking that the
// prompts of classes fit the text encoder. Bad settings are errors and
// leave model untouched.
func NewMaPLe(model *clip.Model, tok Tokenizer, classes []string, cfg MaPLeConfig) (*MaPLe, error) {
	if model == nil {
		return nil, fmt.Errorf("prompt: no model")
	}
	tc, vc := model.Config.TextConfig, model.Config.VisionConfig
	layers := min(tc.NumHiddenLayers, vc.NumHiddenLayers)
	if cfg.Depth == 0 {
		cfg.Depth = layers
	}
	if cfg.Depth < 0 || cfg.Depth > layers {
		return nil, fmt.Errorf("prompt: prompt depth %d, must be 1 … %d (the text encoder has %d layers, the image encoder %d)", cfg.Depth, layers, tc.NumHiddenLayers, vc.NumHiddenLayers)
	}
	if cfg.Std == 0 {
		cfg.Std = 0.02
	}
	p := &MaPLe{Model: model, Config: cfg, layouts: layouts{model: model, tok: tok, m: cfg.M, position: PositionEnd}}
	if _, err := p.layouts.get(classes); err != nil {
		return nil, err
	}
	r := tensor.NewRNG(cfg.Seed)
	first, err := initContext(model, tok, cfg.InitPhrase, cfg.M, cfg.Std, r)
	if err != nil {
		return nil, err
	}
	p.TextPrompts = []*tensor.Tensor{first.SetRequiresGrad(true)}
	for range cfg.Depth - 1 {
		p.TextPrompts = append(p.TextPrompts, tensor.Normal(r, 0, float32(cfg.Std), cfg.M, tc.HiddenSize).SetRequiresGrad(true))
	}
	for range cfg.Depth {
		p.Coupling = append(p.Coupling, nn.NewLinear(tc.HiddenSize, vc.HiddenSize, true, r))
	}
	nn.Freeze(model)
	return p, nil
}

// Name describes the method: "MaPLe (M=2, J=2)".
func (p *MaPLe) Name() string { return fmt.Sprintf("MaPLe (M=%d, J=%d)", p.Config.M, p.Config.Depth) }

// Parameters returns the language prompts and the coupling maps' weights.
func (p *MaPLe) Parameters() []*tensor.Tensor {
	out := append([]*tensor.Tensor{}, p.TextPrompts...)
	for _, l := range p.Coupling {
		out = append(out, l.Weight, l.Bias)
	}
	return out
}

// replaceTokens returns h (N, L, width) with positions start … start+M-1
// replaced by p (M, width), the same for every row.
func replaceTokens(h *tensor.Tensor, start int, p *tensor.Tensor) *tensor.Tensor {
	n, l, m := h.Dim(0), h.Dim(1), p.Dim(0)
	parts := []*tensor.Tensor{h.Slice(1, 0, start), p.Unsqueeze(0).BroadcastTo(n, m, p.Dim(1))}
	if start+m < l {
		parts = append(parts, h.Slice(1, start+m, l))
	}
	return tensor.Concat(1, parts...)
}

// Logits returns cos(f(x), g(t_k))·exp(logit_scale) (N, len(classes)) with
// the prompts in both encoders.
func (p *MaPLe) Logits(images *tensor.Tensor, classes []string) (*tensor.Tensor, error) {
	if err := checkImages(p.Model, images); err != nil {
		return nil, err
	}
	l, err := p.layouts.get(classes)
	if err != nil {
		return nil, err
	}
	j, m := p.Config.Depth, p.Config.M
	seqs, eot := l.sequences(p.TextPrompts[0].Unsqueeze(0))
	text := p.Model.EncodeTextEmbeddingsDeep(seqs, eot, func(layer int, h *tensor.Tensor) *tensor.Tensor {
		if layer == 0 || layer >= j {
			return h
		}
		return replaceTokens(h, l.ctxStart, p.TextPrompts[layer])
	})
	image := p.Model.EncodeImageDeep(images, func(layer int, h *tensor.Tensor) *tensor.Tensor {
		if layer >= j {
			return h
		}
		v := p.Coupling[layer].Forward(p.TextPrompts[layer])
		if layer == 0 {
			return tensor.Concat(1, h, v.Unsqueeze(0).BroadcastTo(h.Dim(0), m, v.Dim(1)))
		}
		return replaceTokens(h, h.Dim(1)-m, v)
	})
	return p.Model.Logits(image, text), nil
}
