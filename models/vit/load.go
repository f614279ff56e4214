package vit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// ReadConfig reads a ViT config.json (path: the file or its directory):
// hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
// image_size and patch_size are required; other keys default to Base16's.
func ReadConfig(path string) (Config, error) {
	cfg := Base16()
	if err := hf.ReadConfig(path, &cfg, requiredKeys...); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w (in %s)", err, path)
	}
	return cfg, nil
}

// readCheckpoint reads the config of the checkpoint in dir and lists its
// tensor names.
func readCheckpoint(dir string) (Config, map[string]bool, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return cfg, nil, err
	}
	w, err := hf.OpenWeights(dir)
	if err != nil {
		return cfg, nil, err
	}
	defer w.Close()
	names := map[string]bool{}
	for _, n := range w.Names() {
		names[n] = true
	}
	return cfg, names, nil
}

// skipped reports the checkpoint tensors no model here has: the mask token
// of ViTForMaskedImageModeling checkpoints.
func skipped(name string) bool {
	return strings.HasSuffix(name, "embeddings.mask_token")
}

// Load reads a ViT checkpoint in the Hugging Face layout from dir — config.json
// (see ReadConfig) and model.safetensors or its shards — as a
// ViTForImageClassification. Both
// layouts load: a classification checkpoint (names under "vit." and a
// classifier) and a ViTModel backbone (names without the prefix, its pooler
// ignored), whose classifier is then left at zero (every class equally
// likely) for fine-tuning; see ResetHead. A checkpoint that does not fit the
// config is an error listing the first mismatches. The model is returned in
// evaluation mode (dropout off), as Hugging Face's from_pretrained does.
func Load(dir string) (*ForImageClassification, error) {
	cfg, names, err := readCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	m, err := NewForImageClassification(cfg, nil)
	if err != nil {
		return nil, err
	}
	opts := hf.LoadOptions{Rename: func(n string) string {
		switch {
		case skipped(n) || strings.HasPrefix(n, "pooler.") || strings.HasPrefix(n, "vit.pooler."):
			return ""
		case strings.HasPrefix(n, "vit.") || strings.HasPrefix(n, "classifier."):
			return n
		}
		return "vit." + n
	}}
	if !names["classifier.weight"] {
		opts.AllowMissing = []string{"classifier"}
	}
	if err := hf.LoadWeights(m, dir, opts); err != nil {
		return nil, err
	}
	nn.Eval(m)
	return m, nil
}

// LoadModel reads a ViT checkpoint from dir as Load does, as a ViTModel: the
// "vit." prefix of classification checkpoints is dropped with their
// classifier, and the model has a pooler exactly when the checkpoint does.
func LoadModel(dir string) (*Model, error) {
	cfg, names, err := readCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	cfg.AddPoolingLayer = names["pooler.dense.weight"] || names["vit.pooler.dense.weight"]
	m, err := New(cfg, nil)
	if err != nil {
		return nil, err
	}
	rename := func(n string) string {
		if skipped(n) || strings.HasPrefix(n, "classifier.") {
			return ""
		}
		return strings.TrimPrefix(n, "vit.")
	}
	if err := hf.LoadWeights(m, dir, hf.LoadOptions{Rename: rename}); err != nil {
		return nil, err
	}
	nn.Eval(m)
	return m, nil
}

// Save writes the model to dir in the Hugging Face layout: config.json
// (architectures ViTModel) and model.safetensors.
func (m *Model) Save(dir string) error {
	cfg := m.Config
	cfg.ModelType, cfg.Architectures = "vit", []string{"ViTModel"}
	if err := hf.WriteConfig(dir, cfg); err != nil {
		return err
	}
	return hf.SaveWeights(m, dir, nil)
}

// Save writes the model to dir in the Hugging Face layout: config.json
// (architectures ViTForImageClassification, id2label and label2id for every
// class) and model.safetensors with names under "vit." and "classifier.".
func (c *ForImageClassification) Save(dir string) error {
	cfg := c.ViT.Config
	cfg.ModelType, cfg.Architectures = "vit", []string{"ViTForImageClassification"}
	names := cfg.LabelNames()
	cfg.NumLabels, cfg.ID2Label, cfg.Label2ID = 0, map[string]string{}, map[string]int{}
	for i, n := range names {
		cfg.ID2Label[strconv.Itoa(i)] = n
		cfg.Label2ID[n] = i
	}
	if err := hf.WriteConfig(dir, cfg); err != nil {
		return err
	}
	return hf.SaveWeights(c, dir, nil)
}

// ResetHead replaces the classifier with a new one for the given class names
// (len(labels) classes), drawn from N(0, initializer_range²) with zero bias
// as Hugging Face initialises a new head, for fine-tuning a loaded model on
// another task.
func (c *ForImageClassification) ResetHead(labels []string, r tensor.Rand) error {
	if len(labels) == 0 {
		return fmt.Errorf("vit: ResetHead needs at least one label")
	}
	cfg := &c.ViT.Config
	in := initializer{r: r, std: cfg.InitializerRange}
	if in.std == 0 {
		in.std = 0.02
	}
	cfg.NumLabels, cfg.ID2Label, cfg.Label2ID = len(labels), map[string]string{}, map[string]int{}
	for i, n := range labels {
		cfg.ID2Label[strconv.Itoa(i)] = n
		cfg.Label2ID[n] = i
	}
	c.Classifier = in.linear(cfg.HiddenSize, len(labels), true)
	return nil
}
