package clip

import (
	"encoding/json"
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

// ReadConfig reads a CLIP config.json (path: the file or its directory):
// text_config, vision_config and projection_dim are required, and keys
// missing inside them take Hugging Face's defaults (see ViTB32). Keys
// in text_config_dict and vision_config_dict, which configs written by early
// versions of transformers carry, override those of text_config and
// vision_config, as Hugging Face's loader does.
func ReadConfig(path string) (Config, error) {
	cfg := ViTB32()
	if err := hf.ReadConfig(path, &cfg, requiredKeys...); err != nil {
		return cfg, err
	}
	var legacy struct {
		Text   json.RawMessage `json:"text_config_dict"`
		Vision json.RawMessage `json:"vision_config_dict"`
	}
	if err := hf.ReadConfig(path, &legacy); err != nil {
		return cfg, err
	}
	for _, l := range []struct {
		name string
		raw  json.RawMessage
		into any
	}{{"text_config_dict", legacy.Text, &cfg.TextConfig}, {"vision_config_dict", legacy.Vision, &cfg.VisionConfig}} {
		if len(l.raw) > 0 && string(l.raw) != "null" {
			if err := json.Unmarshal(l.raw, l.into); err != nil {
				return cfg, fmt.Errorf("clip: config %s in %s: %w", l.name, path, err)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w (in %s)", err, path)
	}
	return cfg, nil
}

// Load reads a CLIP checkpoint in the Hugging Face layout from dir: its
// config.json (see ReadConfig) and model.safetensors or its shards, with
// CLIPModel's names. A checkpoint that
// does not fit the config is an error listing the first mismatches. The
// model is returned in evaluation mode (dropout off), as Hugging Face's
// from_pretrained does.
func Load(dir string) (*Model, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
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
	cfg.ModelType, cfg.Architectures = "clip", []string{"CLIPModel"}
	if err := hf.WriteConfig(dir, cfg); err != nil {
		return err
	}
	return hf.SaveWeights(m, dir, nil)
}
