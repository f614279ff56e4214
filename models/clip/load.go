package clip

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/nn"
)

// checkpointName maps a name in a CLIP checkpoint to the Model's: the
// position_ids constants that some checkpoints store are skipped ("").
func checkpointName(name string) string {
	if strings.HasSuffix(name, "embeddings.position_ids") {
		return ""
	}
	return name
}

// Load reads a CLIP checkpoint in the Hugging Face layout from dir:
// config.json (text_config, vision_config and projection_dim are required;
// keys missing inside them take Hugging Face's defaults, see BaseConfig) and
// model.safetensors or its shards, with CLIPModel's names. A checkpoint that
// does not fit the config is an error listing the first mismatches. The
// model is returned in evaluation mode (dropout off), as Hugging Face's
// from_pretrained does.
func Load(dir string) (*Model, error) {
	cfg := BaseConfig()
	if err := hf.ReadConfig(dir, &cfg, requiredKeys...); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	m, err := New(cfg, nil)
	if err != nil {
		return nil, err
	}
	if err := hf.LoadWeights(m, dir, hf.LoadOptions{Rename: checkpointName}); err != nil {
		return nil, err
	}
	nn.Eval(m)
	return m, nil
}

// Save writes the model to dir in the Hugging Face layout: config.json
// (architectures CLIPModel) and model.safetensors.
func (m *Model) Save(dir string) error {
	cfg := m.Config
	cfg.Architectures = []string{"CLIPModel"}
	if err := hf.WriteConfig(dir, cfg); err != nil {
		return err
	}
	return hf.SaveWeights(m, dir, nil)
}
