// Package gpt2 is the GPT-2 decoder-only transformer with the parameter names
// of Hugging Face's GPT2Model (wte.weight, h.0.attn.c_attn.weight, ln_f.bias,
// …), so checkpoints in the Hugging Face layout load unchanged (Load) and
// adapters trained in graft name the same modules as the ecosystem's. The
// language-model head is tied to the token embedding, as in GPT2LMHeadModel.
// Attention and feed-forward projections are Conv1D layers, which store their
// weight as (in, out) like the checkpoints do.
package gpt2

import (
	"fmt"

	"github.com/graftml/graft/models/hf"
)

// Config holds GPT-2's hyper-parameters under the keys of Hugging Face's
// GPT2Config, so config.json files read into it (other keys are ignored).
type Config struct {
	VocabSize          int     `json:"vocab_size"`
	NPositions         int     `json:"n_positions"`         // longest sequence
	NEmbd              int     `json:"n_embd"`              // model width
	NLayer             int     `json:"n_layer"`             // number of blocks
	NHead              int     `json:"n_head"`              // attention heads
	NInner             int     `json:"n_inner,omitempty"`   // feed-forward width; 0 means 4·NEmbd
	ActivationFunction string  `json:"activation_function"` // "gelu_new" for every released GPT-2
	ResidPdrop         float64 `json:"resid_pdrop"`         // dropout after each residual branch
	EmbdPdrop          float64 `json:"embd_pdrop"`          // dropout on the summed embeddings
	AttnPdrop          float64 `json:"attn_pdrop"`          // dropout on attention weights
	LayerNormEpsilon   float64 `json:"layer_norm_epsilon"`
	InitializerRange   float64 `json:"initializer_range"` // std of the normal initialisation
	// ScaleAttnWeights divides attention scores by √(head width); nil means
	// true, Hugging Face's default.
	ScaleAttnWeights *bool `json:"scale_attn_weights,omitempty"`
	// ScaleAttnByInverseLayerIdx further divides the scores of block i by i+1.
	ScaleAttnByInverseLayerIdx bool     `json:"scale_attn_by_inverse_layer_idx,omitempty"`
	BosTokenID                 int      `json:"bos_token_id"`
	EosTokenID                 int      `json:"eos_token_id"`
	ModelType                  string   `json:"model_type"`
	Architectures              []string `json:"architectures,omitempty"`
}

// requiredKeys are the config.json keys Load insists on: those that fix the
// shapes of the weights.
var requiredKeys = []string{"vocab_size", "n_positions", "n_embd", "n_layer", "n_head"}

// Small returns the configuration of the original 124M-parameter GPT-2
// ("gpt2"): 12 layers, width 768, 12 heads, vocabulary 50,257, context 1,024.
func Small() Config {
	return Config{
		VocabSize:          50257,
		NPositions:         1024,
		NEmbd:              768,
		NLayer:             12,
		NHead:              12,
		ActivationFunction: "gelu_new",
		ResidPdrop:         0.1,
		EmbdPdrop:          0.1,
		AttnPdrop:          0.1,
		LayerNormEpsilon:   1e-5,
		InitializerRange:   0.02,
		BosTokenID:         50256,
		EosTokenID:         50256,
		ModelType:          "gpt2",
		Architectures:      []string{"GPT2LMHeadModel"},
	}
}

// Inner returns the feed-forward width: NInner, or 4·NEmbd when it is 0.
func (c Config) Inner() int {
	if c.NInner > 0 {
		return c.NInner
	}
	return 4 * c.NEmbd
}

// Validate reports the first inconsistent or unsupported setting.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"n_positions", c.NPositions}, {"n_embd", c.NEmbd}, {"n_layer", c.NLayer}, {"n_head", c.NHead}} {
		if f.v <= 0 {
			return fmt.Errorf("gpt2: config %s = %d, must be positive", f.name, f.v)
		}
	}
	if c.NEmbd%c.NHead != 0 {
		return fmt.Errorf("gpt2: config n_embd = %d is not divisible by n_head = %d", c.NEmbd, c.NHead)
	}
	if c.NInner < 0 {
		return fmt.Errorf("gpt2: config n_inner = %d, must be positive (or 0 for 4·n_embd)", c.NInner)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"resid_pdrop", c.ResidPdrop}, {"embd_pdrop", c.EmbdPdrop}, {"attn_pdrop", c.AttnPdrop}} {
		if p.v < 0 || p.v >= 1 {
			return fmt.Errorf("gpt2: config %s = %g, must be in [0, 1)", p.name, p.v)
		}
	}
	if _, err := hf.ActivationName(c.ActivationFunction); err != nil {
		return fmt.Errorf("gpt2: config activation_function: %w", err)
	}
	return nil
}
