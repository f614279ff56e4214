package gpt2

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/viz/table"
)

// checkpointName maps a name in a GPT-2 checkpoint to the Model's: the
// "transformer." prefix of GPT2LMHeadModel checkpoints is dropped, and the
// tied lm_head.weight and the attention-mask constants that some checkpoints
// store (h.{i}.attn.bias, h.{i}.attn.masked_bias) are skipped ("").
func checkpointName(name string) string {
	name = strings.TrimPrefix(name, "transformer.")
	if name == "lm_head.weight" || strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias") {
		return ""
	}
	return name
}

// Load reads a GPT-2 checkpoint in the Hugging Face layout from dir:
// config.json (vocab_size, n_positions, n_embd, n_layer and n_head are
// required; other keys default to Small's values) and model.safetensors or
// its shards. Names may carry GPT2LMHeadModel's "transformer." prefix. A
// checkpoint that does not fit the config is an error listing the first
// mismatches. The model is returned in evaluation mode (dropout off), as
// Hugging Face's from_pretrained does.
func Load(dir string) (*Model, error) {
	cfg := Small()
	cfg.Architectures = nil
	if err := hf.ReadConfig(dir, &cfg, requiredKeys...); err != nil {
		return nil, err
	}
	m, err := New(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	if err := hf.LoadWeights(m, dir, hf.LoadOptions{Rename: checkpointName}); err != nil {
		return nil, err
	}
	nn.Eval(m)
	return m, nil
}

// Save writes the model to dir in the Hugging Face layout: config.json and
// model.safetensors with GPT2Model's names, which Load (and Hugging Face's
// GPT2Model.from_pretrained) reads back.
func (m *Model) Save(dir string) error {
	cfg := m.Config
	cfg.ModelType = "gpt2"
	if err := hf.WriteConfig(dir, cfg); err != nil {
		return err
	}
	return hf.SaveWeights(m, dir, nil)
}

// String describes the model in one line: architecture and parameter count.
func (m *Model) String() string {
	total, _ := nn.CountParameters(m)
	c := m.Config
	return fmt.Sprintf("GPT-2 (%d layers, width %d, %d heads, vocabulary %d, context %d): %s parameters",
		c.NLayer, c.NEmbd, c.NHead, c.VocabSize, c.NPositions, table.GroupDigits(total))
}

// Display shows the model's parameter table (nn.Summary) in a notebook.
func (m *Model) Display() display.Bundle { return m.Summary().Display() }
