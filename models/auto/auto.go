// Package auto loads a Hugging Face checkpoint folder as the graft model its
// config.json names, so a notebook can open a folder without first looking
// up which family it holds: GPT-2, BERT, ViT or CLIP.
package auto

import (
	"fmt"
	"slices"
	"strings"

	"github.com/graftml/graft/models/bert"
	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/models/vit"
	"github.com/graftml/graft/nn"
)

// Families lists the model_type values Load understands.
var Families = []string{"bert", "clip", "gpt2", "vit"}

// header is the part of config.json that says what a checkpoint holds.
type header struct {
	ModelType     string   `json:"model_type"`
	Architectures []string `json:"architectures"`
}

// ModelType returns the model_type and architectures config.json in dir
// declares.
func ModelType(dir string) (modelType string, architectures []string, err error) {
	var h header
	if err := hf.ReadConfig(dir, &h, "model_type"); err != nil {
		return "", nil, err
	}
	return h.ModelType, h.Architectures, nil
}

// Load reads the checkpoint in dir as the model its config.json's model_type
// names, returned in evaluation mode:
//
//   - "gpt2": *gpt2.Model (gpt2.Load);
//   - "bert": *bert.Classifier when the architectures name
//     BertForSequenceClassification (bert.LoadClassifier), else *bert.Model;
//   - "vit": *vit.ForImageClassification when the architectures name
//     ViTForImageClassification (vit.Load), else *vit.Model;
//   - "clip": *clip.Model.
//
// Any other model_type is an error naming it and the supported ones.
func Load(dir string) (nn.Module, error) {
	modelType, arch, err := ModelType(dir)
	if err != nil {
		return nil, err
	}
	switch modelType {
	case "gpt2":
		return gpt2.Load(dir)
	case "bert":
		if slices.Contains(arch, "BertForSequenceClassification") {
			return bert.LoadClassifier(dir, 0, nil)
		}
		return bert.Load(dir)
	case "vit":
		if slices.Contains(arch, "ViTForImageClassification") {
			return vit.Load(dir)
		}
		return vit.LoadModel(dir)
	case "clip":
		return clip.Load(dir)
	}
	return nil, fmt.Errorf("auto: %s: model_type %q is not one graft builds (want one of %s)", dir, modelType, strings.Join(Families, ", "))
}
