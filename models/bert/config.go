// Package bert is the BERT encoder with the parameter names of Hugging Face's
// BertModel (embeddings.word_embeddings.weight,
// encoder.layer.0.attention.self.query.weight, pooler.dense.bias, …) and a
// sequence classifier named as BertForSequenceClassification ("bert." +
// those, classifier.weight), so that checkpoints in the Hugging Face layout
// load unchanged (Load, LoadClassifier) and adapters trained in graft name the
// same modules as the ecosystem's. The classifier's pooled features and its
// head are separate steps, for domain-adaptation methods that act on the
// features.
package bert

import (
	"fmt"

	"github.com/graftml/graft/models/hf"
)

// Config holds BERT's hyper-parameters under the keys of Hugging Face's
// BertConfig, so config.json files read into it (other keys are ignored).
type Config struct {
	VocabSize                 int     `json:"vocab_size"`
	HiddenSize                int     `json:"hidden_size"`
	NumHiddenLayers           int     `json:"num_hidden_layers"`
	NumAttentionHeads         int     `json:"num_attention_heads"`
	IntermediateSize          int     `json:"intermediate_size"`
	HiddenAct                 string  `json:"hidden_act"` // "gelu" (the exact, erf form) for released BERTs
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int     `json:"max_position_embeddings"`
	TypeVocabSize             int     `json:"type_vocab_size"` // number of segment (token type) ids
	InitializerRange          float64 `json:"initializer_range"`
	LayerNormEps              float64 `json:"layer_norm_eps"`
	PadTokenID                int     `json:"pad_token_id"`
	// PositionEmbeddingType must be "absolute" (or empty): the relative
	// variants are not implemented.
	PositionEmbeddingType string `json:"position_embedding_type"`
	// ClassifierDropout is the dropout before the classification head; nil
	// means HiddenDropoutProb.
	ClassifierDropout *float64          `json:"classifier_dropout"`
	ID2Label          map[string]string `json:"id2label,omitempty"` // class index (as a string) → name
	Label2ID          map[string]int    `json:"label2id,omitempty"`
	ModelType         string            `json:"model_type"`
	Architectures     []string          `json:"architectures,omitempty"`
}

// requiredKeys are the config.json keys Load insists on: those that fix the
// shapes of the weights.
var requiredKeys = []string{"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
	"intermediate_size", "max_position_embeddings", "type_vocab_size"}

// Base returns the configuration of BERT-base uncased: 12 layers, width 768,
// 12 heads, feed-forward 3,072, vocabulary 30,522, 512 positions, 2 segments.
func Base() Config {
	return Config{
		VocabSize:                 30522,
		HiddenSize:                768,
		NumHiddenLayers:           12,
		NumAttentionHeads:         12,
		IntermediateSize:          3072,
		HiddenAct:                 "gelu",
		HiddenDropoutProb:         0.1,
		AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings:     512,
		TypeVocabSize:             2,
		InitializerRange:          0.02,
		LayerNormEps:              1e-12,
		PadTokenID:                0,
		PositionEmbeddingType:     "absolute",
		ModelType:                 "bert",
	}
}

// NumLabels returns the number of classes the config names (id2label), or 2,
// Hugging Face's default, when it names none.
func (c Config) NumLabels() int {
	if len(c.ID2Label) > 0 {
		return len(c.ID2Label)
	}
	return 2
}

// Validate reports the first inconsistent or unsupported setting.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads}, {"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings}, {"type_vocab_size", c.TypeVocabSize}} {
		if f.v <= 0 {
			return fmt.Errorf("bert: config %s = %d, must be positive", f.name, f.v)
		}
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("bert: config hidden_size = %d is not divisible by num_attention_heads = %d", c.HiddenSize, c.NumAttentionHeads)
	}
	if c.PadTokenID < 0 || c.PadTokenID >= c.VocabSize {
		return fmt.Errorf("bert: config pad_token_id = %d is outside the vocabulary of %d", c.PadTokenID, c.VocabSize)
	}
	if c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("bert: config position_embedding_type %q is not supported (only \"absolute\")", c.PositionEmbeddingType)
	}
	probs := []struct {
		name string
		v    float64
	}{{"hidden_dropout_prob", c.HiddenDropoutProb}, {"attention_probs_dropout_prob", c.AttentionProbsDropoutProb}}
	if c.ClassifierDropout != nil {
		probs = append(probs, struct {
			name string
			v    float64
		}{"classifier_dropout", *c.ClassifierDropout})
	}
	for _, p := range probs {
		if p.v < 0 || p.v >= 1 {
			return fmt.Errorf("bert: config %s = %g, must be in [0, 1)", p.name, p.v)
		}
	}
	if _, err := hf.ActivationName(c.HiddenAct); err != nil {
		return fmt.Errorf("bert: config hidden_act: %w", err)
	}
	return nil
}
