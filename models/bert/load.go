package bert

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz/table"
)

// baseName maps a name in a BERT checkpoint to the Model's, or "" to skip
// it: the "bert." prefix of task models is dropped; the LayerNorm.gamma/beta
// of checkpoints converted from TensorFlow become weight/bias; the
// pre-training heads (cls.*), task heads (classifier.*, qa_outputs.*) and the
// position_ids constant are skipped.
func baseName(name string) string {
	name = strings.TrimPrefix(name, "bert.")
	if strings.HasSuffix(name, ".LayerNorm.gamma") {
		name = strings.TrimSuffix(name, "gamma") + "weight"
	} else if strings.HasSuffix(name, ".LayerNorm.beta") {
		name = strings.TrimSuffix(name, "beta") + "bias"
	}
	for _, skip := range []string{"cls.", "classifier.", "qa_outputs."} {
		if strings.HasPrefix(name, skip) {
			return ""
		}
	}
	if name == "embeddings.position_ids" {
		return ""
	}
	return name
}

// classifierName maps a checkpoint name to the Classifier's: the head's names
// as they are, everything else as baseName under "bert.".
func classifierName(name string) string {
	if strings.HasPrefix(name, "classifier.") {
		return name
	}
	if n := baseName(name); n != "" {
		return "bert." + n
	}
	return ""
}

// readConfig reads and validates dir's config.json, defaults from Base.
func readConfig(dir string) (Config, error) {
	cfg := Base()
	if err := hf.ReadConfig(dir, &cfg, requiredKeys...); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w (in %s)", err, dir)
	}
	return cfg, nil
}

// hasPrefix reports whether any of names, after rename, starts with prefix.
func hasPrefix(names []string, rename func(string) string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(rename(n), prefix) {
			return true
		}
	}
	return false
}

// Load reads a BERT checkpoint in the Hugging Face layout from dir:
// config.json (the keys fixing weight shapes are required: vocab_size,
// hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
// max_position_embeddings, type_vocab_size; others default to Base's) and
// model.safetensors or its shards. Names may carry a task model's "bert."
// prefix; pre-training and task heads are ignored. A checkpoint without
// pooler weights gives a Model without a pooler. The model is returned in
// evaluation mode (dropout off), as from_pretrained does.
func Load(dir string) (*Model, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	w, err := hf.OpenWeights(dir)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	m, err := New(cfg, nil)
	if err != nil {
		return nil, err
	}
	if !hasPrefix(w.Names(), baseName, "pooler.") {
		m.Pooler = nil
	}
	if err := hf.LoadWeightsFrom(m, w, hf.LoadOptions{Rename: baseName}); err != nil {
		return nil, err
	}
	nn.Eval(m)
	return m, nil
}

// LoadClassifier reads a checkpoint as Load does into a Classifier over
// numLabels classes (0: as many as the config's id2label names, or 2). A
// BertForSequenceClassification checkpoint supplies the head; for a plain
// BERT checkpoint the head (and a pooler it lacks) is initialised from r as
// NewClassifier does (zeros if r is nil), ready for fine-tuning. The model is
// returned in evaluation mode.
func LoadClassifier(dir string, numLabels int, r tensor.Rand) (*Classifier, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	w, err := hf.OpenWeights(dir)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	c, err := NewClassifier(cfg, numLabels, nil)
	if err != nil {
		return nil, err
	}
	in := newInitializer(cfg, r)
	if r != nil {
		c.Dropout.RNG = tensor.NewRNG(r.Uint64())
	}
	// A plain BERT checkpoint lacks the head, and may lack the pooler: those
	// start from r instead.
	var allow []string
	if !hasPrefix(w.Names(), classifierName, "classifier.") {
		c.Classifier = in.linear(cfg.HiddenSize, c.NumLabels)
		allow = append(allow, "classifier")
	}
	if !hasPrefix(w.Names(), classifierName, "bert.pooler.") {
		c.Bert.Pooler = &Pooler{Dense: in.linear(cfg.HiddenSize, cfg.HiddenSize)}
		allow = append(allow, "bert.pooler")
	}
	if err := hf.LoadWeightsFrom(c, w, hf.LoadOptions{Rename: classifierName, AllowMissing: allow}); err != nil {
		return nil, err
	}
	nn.Eval(c)
	return c, nil
}

// Save writes the model to dir in the Hugging Face layout: config.json and
// model.safetensors with BertModel's names (model_type "bert",
// architectures BertModel).
func (m *Model) Save(dir string) error {
	cfg := m.Config
	cfg.ModelType, cfg.Architectures = "bert", []string{"BertModel"}
	if err := hf.WriteConfig(dir, cfg); err != nil {
		return err
	}
	return hf.SaveWeights(m, dir, nil)
}

// Save writes the classifier to dir in the Hugging Face layout, with
// BertForSequenceClassification's names and an id2label naming the classes
// (LABEL_0, … unless the config names them).
func (c *Classifier) Save(dir string) error {
	cfg := c.Bert.Config
	if len(cfg.ID2Label) != c.NumLabels {
		cfg.ID2Label, cfg.Label2ID = map[string]string{}, map[string]int{}
		for i := range c.NumLabels {
			name := fmt.Sprintf("LABEL_%d", i)
			cfg.ID2Label[fmt.Sprint(i)], cfg.Label2ID[name] = name, i
		}
	}
	cfg.ModelType, cfg.Architectures = "bert", []string{"BertForSequenceClassification"}
	if err := hf.WriteConfig(dir, cfg); err != nil {
		return err
	}
	return hf.SaveWeights(c, dir, nil)
}

// String describes the model in one line: architecture and parameter count.
func (m *Model) String() string {
	total, _ := nn.CountParameters(m)
	c := m.Config
	pooler := "with pooler"
	if m.Pooler == nil {
		pooler = "without pooler"
	}
	return fmt.Sprintf("BERT (%d layers, width %d, %d heads, feed-forward %d, vocabulary %d, %s): %s parameters",
		c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize, c.VocabSize, pooler, table.GroupDigits(total))
}

// String describes the classifier in one line.
func (c *Classifier) String() string {
	total, _ := nn.CountParameters(c)
	return fmt.Sprintf("BERT classifier, %d classes, on %s; %s parameters in all", c.NumLabels, c.Bert.String(), table.GroupDigits(total))
}

// Display shows the model's parameter table (nn.Summary) in a notebook.
func (m *Model) Display() display.Bundle { return m.Summary().Display() }

// Display shows the classifier's parameter table (nn.Summary) in a notebook.
func (c *Classifier) Display() display.Bundle { return c.Summary().Display() }
