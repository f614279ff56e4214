// Package clip is CLIP (Radford et al. 2021), the contrastive dual encoder of
// images and text, with the parameter names of Hugging Face's CLIPModel
// (text_model.encoder.layers.0.self_attn.q_proj.weight,
// vision_model.pre_layrnorm.weight — sic —, visual_projection.weight,
// logit_scale …), so checkpoints in the Hugging Face layout load unchanged
// (Load) and adapters trained in graft name the same modules as the
// ecosystem's. The text encoder also takes token embeddings directly
// (EncodeTextEmbeddings), so that prompt-learning methods such as CoOp can
// feed learned context vectors through the frozen encoder.
package clip

import (
	"fmt"

	"github.com/graftml/graft/models/hf"
)

// TextConfig holds the text encoder's hyper-parameters under the keys of
// Hugging Face's CLIPTextConfig.
type TextConfig struct {
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"` // feed-forward width
	ProjectionDim         int     `json:"projection_dim"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"` // longest token sequence
	HiddenAct             string  `json:"hidden_act"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	AttentionDropout      float64 `json:"attention_dropout"`
	InitializerRange      float64 `json:"initializer_range"`
	InitializerFactor     float64 `json:"initializer_factor"`
	PadTokenID            int     `json:"pad_token_id"`
	BosTokenID            int     `json:"bos_token_id"`
	// EosTokenID is the end-of-text token whose final state is the text's
	// representation. The value 2 of early configs means "the largest id in
	// each sequence", which is where OpenAI's tokenizer puts end-of-text.
	EosTokenID int `json:"eos_token_id"`
}

// VisionConfig holds the image encoder's hyper-parameters under the keys of
// Hugging Face's CLIPVisionConfig.
type VisionConfig struct {
	HiddenSize        int     `json:"hidden_size"`
	IntermediateSize  int     `json:"intermediate_size"`
	ProjectionDim     int     `json:"projection_dim"`
	NumHiddenLayers   int     `json:"num_hidden_layers"`
	NumAttentionHeads int     `json:"num_attention_heads"`
	NumChannels       int     `json:"num_channels"`
	ImageSize         int     `json:"image_size"`
	PatchSize         int     `json:"patch_size"`
	HiddenAct         string  `json:"hidden_act"`
	LayerNormEps      float64 `json:"layer_norm_eps"`
	AttentionDropout  float64 `json:"attention_dropout"`
	InitializerRange  float64 `json:"initializer_range"`
	InitializerFactor float64 `json:"initializer_factor"`
}

// Config holds CLIP's hyper-parameters under the keys of Hugging Face's
// CLIPConfig, so config.json files read into it (other keys are ignored).
type Config struct {
	TextConfig          TextConfig   `json:"text_config"`
	VisionConfig        VisionConfig `json:"vision_config"`
	ProjectionDim       int          `json:"projection_dim"`         // width of the shared embedding space
	LogitScaleInitValue float64      `json:"logit_scale_init_value"` // initial log of the logit scale, log(1/0.07)
	InitializerFactor   float64      `json:"initializer_factor"`
	ModelType           string       `json:"model_type"`
	Architectures       []string     `json:"architectures,omitempty"`
}

// requiredKeys are the config.json keys Load insists on; the keys inside
// them default to Hugging Face's CLIPTextConfig and CLIPVisionConfig
// defaults (see ViTB32), as Hugging Face fills them.
var requiredKeys = []string{"text_config", "vision_config", "projection_dim"}

// ViTB32 returns Hugging Face's CLIPConfig defaults, the architecture of
// OpenAI's ViT-B/32 CLIP: a 12-layer, width-512, 8-head text encoder over a
// 49,408-token vocabulary and 77 positions; a 12-layer, width-768, 12-head
// image encoder on 224×224 images in 32×32 patches; quick GELU; a shared
// 512-wide embedding space; logit scale initialised to log(1/0.07).
func ViTB32() Config {
	return Config{
		TextConfig: TextConfig{
			VocabSize: 49408, HiddenSize: 512, IntermediateSize: 2048, ProjectionDim: 512,
			NumHiddenLayers: 12, NumAttentionHeads: 8, MaxPositionEmbeddings: 77,
			HiddenAct: "quick_gelu", LayerNormEps: 1e-5, InitializerRange: 0.02, InitializerFactor: 1,
			PadTokenID: 1, BosTokenID: 49406, EosTokenID: 49407,
		},
		VisionConfig: VisionConfig{
			HiddenSize: 768, IntermediateSize: 3072, ProjectionDim: 512,
			NumHiddenLayers: 12, NumAttentionHeads: 12, NumChannels: 3, ImageSize: 224, PatchSize: 32,
			HiddenAct: "quick_gelu", LayerNormEps: 1e-5, InitializerRange: 0.02, InitializerFactor: 1,
		},
		ProjectionDim:       512,
		LogitScaleInitValue: 2.6592,
		InitializerFactor:   1,
		ModelType:           "clip",
	}
}

// encoderShape is what the text and image transformers have in common.
type encoderShape struct {
	what                                  string // "text_config" or "vision_config", for errors
	width, layers, heads, inner           int
	act                                   string
	eps, attnDropout, initRange, initFact float64
}

func (c TextConfig) shape() encoderShape {
	return encoderShape{"text_config", c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize,
		c.HiddenAct, c.LayerNormEps, c.AttentionDropout, c.InitializerRange, c.InitializerFactor}
}

func (c VisionConfig) shape() encoderShape {
	return encoderShape{"vision_config", c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize,
		c.HiddenAct, c.LayerNormEps, c.AttentionDropout, c.InitializerRange, c.InitializerFactor}
}

func (s encoderShape) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"hidden_size", s.width}, {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"intermediate_size", s.inner}} {
		if f.v <= 0 {
			return fmt.Errorf("clip: config %s.%s = %d, must be positive", s.what, f.name, f.v)
		}
	}
	if s.width%s.heads != 0 {
		return fmt.Errorf("clip: config %s.hidden_size = %d is not divisible by num_attention_heads = %d", s.what, s.width, s.heads)
	}
	if s.attnDropout < 0 || s.attnDropout >= 1 {
		return fmt.Errorf("clip: config %s.attention_dropout = %g, must be in [0, 1)", s.what, s.attnDropout)
	}
	if _, err := hf.ActivationName(s.act); err != nil {
		return fmt.Errorf("clip: config %s.hidden_act: %w", s.what, err)
	}
	return nil
}

// Validate reports the first inconsistent or unsupported setting.
func (c Config) Validate() error {
	if err := c.TextConfig.shape().validate(); err != nil {
		return err
	}
	if err := c.VisionConfig.shape().validate(); err != nil {
		return err
	}
	t, v := c.TextConfig, c.VisionConfig
	for _, f := range []struct {
		name string
		v    int
	}{{"projection_dim", c.ProjectionDim}, {"text_config.vocab_size", t.VocabSize}, {"text_config.max_position_embeddings", t.MaxPositionEmbeddings},
		{"vision_config.num_channels", v.NumChannels}, {"vision_config.image_size", v.ImageSize}, {"vision_config.patch_size", v.PatchSize}} {
		if f.v <= 0 {
			return fmt.Errorf("clip: config %s = %d, must be positive", f.name, f.v)
		}
	}
	if v.ImageSize%v.PatchSize != 0 {
		return fmt.Errorf("clip: config vision_config.image_size = %d is not a multiple of patch_size = %d", v.ImageSize, v.PatchSize)
	}
	return nil
}
