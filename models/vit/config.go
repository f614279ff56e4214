// Package vit is the Vision Transformer (Dosovitskiy et al. 2021) with the
// parameter names of Hugging Face's ViTModel and ViTForImageClassification
// (embeddings.cls_token, encoder.layer.0.attention.attention.query.weight,
// layernorm.weight, classifier.weight …), so checkpoints in the Hugging Face
// layout load unchanged (Load, LoadModel) and adapters trained in graft name
// the same modules as the ecosystem's. Images are (N, channels, size, size),
// normalised as the checkpoint's image processor would.
package vit

import (
	"fmt"
	"strconv"

	"github.com/graftml/graft/models/hf"
)

// Config holds the ViT hyper-parameters under the keys of Hugging Face's
// ViTConfig, so config.json files read into it (other keys are ignored).
type Config struct {
	HiddenSize                int     `json:"hidden_size"`
	NumHiddenLayers           int     `json:"num_hidden_layers"`
	NumAttentionHeads         int     `json:"num_attention_heads"`
	IntermediateSize          int     `json:"intermediate_size"` // feed-forward width
	HiddenAct                 string  `json:"hidden_act"`
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	InitializerRange          float64 `json:"initializer_range"` // std of the normal initialisation
	LayerNormEps              float64 `json:"layer_norm_eps"`
	ImageSize                 int     `json:"image_size"`
	PatchSize                 int     `json:"patch_size"`
	NumChannels               int     `json:"num_channels"`
	QKVBias                   bool    `json:"qkv_bias"`
	// ID2Label names the classes of a classification head ("0" → "cat");
	// its size is the number of classes unless NumLabels is set.
	ID2Label      map[string]string `json:"id2label,omitempty"`
	Label2ID      map[string]int    `json:"label2id,omitempty"`
	NumLabels     int               `json:"num_labels,omitempty"`
	ModelType     string            `json:"model_type"`
	Architectures []string          `json:"architectures,omitempty"`
	// AddPoolingLayer gives a ViTModel its pooler (dense + tanh on the class
	// token), as Hugging Face's ViTModel has by default. It is not a
	// config.json key: LoadModel sets it when the checkpoint has a pooler.
	AddPoolingLayer bool `json:"-"`
}

// requiredKeys are the config.json keys Load insists on: those that fix the
// shapes of the weights.
var requiredKeys = []string{"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "image_size", "patch_size"}

// Base16 returns the configuration of ViT-B/16 at 224×224 (Hugging Face's
// ViTConfig defaults, as google/vit-base-patch16-224): width 768, 12 layers,
// 12 heads, feed-forward 3,072, 16×16 patches of 3-channel images, GELU,
// layer-norm ε 1e-12, two labels.
func Base16() Config {
	return Config{
		HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12, IntermediateSize: 3072,
		HiddenAct: "gelu", InitializerRange: 0.02, LayerNormEps: 1e-12,
		ImageSize: 224, PatchSize: 16, NumChannels: 3, QKVBias: true,
		ModelType: "vit",
	}
}

// Labels returns the number of classes: NumLabels if set, else the size of
// ID2Label, else 2 (Hugging Face's default).
func (c Config) Labels() int {
	switch {
	case c.NumLabels > 0:
		return c.NumLabels
	case len(c.ID2Label) > 0:
		return len(c.ID2Label)
	}
	return 2
}

// LabelNames returns the class names in class order, "LABEL_i" where
// ID2Label lacks one.
func (c Config) LabelNames() []string {
	out := make([]string, c.Labels())
	for i := range out {
		name, ok := c.ID2Label[strconv.Itoa(i)]
		if !ok {
			name = "LABEL_" + strconv.Itoa(i)
		}
		out[i] = name
	}
	return out
}

// Patches returns the number of patches of an image, (image_size/patch_size)².
func (c Config) Patches() int {
	n := c.ImageSize / c.PatchSize
	return n * n
}

// Validate reports the first inconsistent or unsupported setting.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"intermediate_size", c.IntermediateSize}, {"image_size", c.ImageSize}, {"patch_size", c.PatchSize}, {"num_channels", c.NumChannels}} {
		if f.v <= 0 {
			return fmt.Errorf("vit: config %s = %d, must be positive", f.name, f.v)
		}
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("vit: config hidden_size = %d is not divisible by num_attention_heads = %d", c.HiddenSize, c.NumAttentionHeads)
	}
	if c.ImageSize%c.PatchSize != 0 {
		return fmt.Errorf("vit: config image_size = %d is not a multiple of patch_size = %d", c.ImageSize, c.PatchSize)
	}
	if c.NumLabels < 0 {
		return fmt.Errorf("vit: config num_labels = %d, must not be negative", c.NumLabels)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"hidden_dropout_prob", c.HiddenDropoutProb}, {"attention_probs_dropout_prob", c.AttentionProbsDropoutProb}} {
		if p.v < 0 || p.v >= 1 {
			return fmt.Errorf("vit: config %s = %g, must be in [0, 1)", p.name, p.v)
		}
	}
	if _, err := hf.ActivationName(c.HiddenAct); err != nil {
		return fmt.Errorf("vit: config hidden_act: %w", err)
	}
	return nil
}
